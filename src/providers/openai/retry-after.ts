/**
 * How long a rate-limited key should wait (protocol.md C.3): `retry-after-ms` (float ms), then
 * `retry-after` (seconds or an HTTP date), then OpenAI's "Please try again in 20s / 1.5s / 120ms"
 * in the message. Whole seconds, rounded up (Claude Code parses integers, E.6).
 */
import type { UpstreamHeaders } from "../../core/provider.js";

const TRY_AGAIN = /try again in (\d+(?:\.\d+)?)\s*(ms|s)\b/i;

export function retryAfterSeconds(
  headers: UpstreamHeaders,
  message: string,
  now = Date.now(),
): number | undefined {
  const ms = Number.parseFloat(header(headers, "retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms > 0) return Math.ceil(ms / 1000);
  const raw = header(headers, "retry-after");
  if (raw !== undefined && raw.trim() !== "") {
    const seconds = Number(raw.trim());
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
    const date = Date.parse(raw);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  const hint = TRY_AGAIN.exec(message);
  if (hint !== null) {
    const value = Number(hint[1]);
    return Math.ceil(hint[2]?.toLowerCase() === "ms" ? value / 1000 : value);
  }
  return undefined;
}

function header(headers: UpstreamHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
