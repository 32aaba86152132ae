import type { StreamEvent } from "./types.js";

/**
 * One Anthropic SSE frame (protocol.md B.2): the `event:` line is required — the SDK skips
 * messages without it — and its name equals the JSON `type`.
 */
export function encodeSseEvent(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
