import type { StreamEvent } from "./types.js";

/**
 * One Anthropic SSE frame (protocol.md B.2): the `event:` line is required — the SDK skips
 * messages without it — and its name equals the JSON `type`. Text deltas, by far the most
 * frequent event, take a template fast path (same bytes as JSON.stringify of the object).
 */
export function encodeSseEvent(event: StreamEvent): string {
  if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
    return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${event.index},"delta":{"type":"text_delta","text":${JSON.stringify(event.delta.text)}}}\n\n`;
  }
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
