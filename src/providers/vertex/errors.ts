/**
 * A failed Vertex AI answer → one `GatewayError`.
 *
 * Vertex answers with the same `{"error":{code,message,status,details}}` body as the Gemini API
 * (protocol.md F.9), so the Gemini decoder classifies it; Vertex's own cases fall into its
 * status rules (401 UNAUTHENTICATED for an expired or revoked token → `auth`; 403
 * PERMISSION_DENIED for a missing IAM role or a disabled API → `auth`; 429 RESOURCE_EXHAUSTED
 * for quota → `rate_limit`). Only the label changes, so the client sees which service failed.
 */
import { GatewayError } from "../../core/errors.js";
import type { UpstreamHeaders } from "../../core/provider.js";
import { decodeGeminiError } from "../gemini/errors.js";

export function decodeVertexError(status: number, headers: UpstreamHeaders, body: string): GatewayError {
  const error = decodeGeminiError(status, headers, body);
  if (!error.message.startsWith("Gemini: ")) return error;
  return new GatewayError({
    code: error.code,
    message: `Vertex AI: ${error.message.slice("Gemini: ".length)}`,
    status: error.status,
    type: error.type,
    class: error.class,
    retryAfterSeconds: error.retryAfterSeconds,
    upstreamStatus: error.upstreamStatus,
    cause: error.cause,
  });
}
