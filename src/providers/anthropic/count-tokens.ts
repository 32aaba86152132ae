/**
 * The answer of `POST /v1/messages/count_tokens`: `{"input_tokens": N}` (protocol.md D.1).
 */
import { upstreamBroken } from "../../core/errors.js";

/** Reads `input_tokens`; anything else is a broken upstream (transient: another may answer). */
export function decodeCountTokensResponse(json: unknown): number {
  if (typeof json === "object" && json !== null && "input_tokens" in json) {
    const tokens = json.input_tokens;
    if (typeof tokens === "number" && Number.isInteger(tokens) && tokens >= 0) return tokens;
  }
  throw upstreamBroken("Upstream count_tokens answer has no valid input_tokens", json, "UPSTREAM_MALFORMED");
}
