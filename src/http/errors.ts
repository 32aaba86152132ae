/**
 * Anthropic-shaped error responses (protocol.md C.1): `{type:"error", error:{type, message},
 * request_id}` with the right status, `request-id`, and `retry-after` / `retry-after-ms` for
 * rate limits so Claude Code and the SDK wait the right time.
 *
 * Every error body a client gets is built by `errorBody` (a JSON answer, or the `event: error`
 * of a committed stream), so this is where credentials an upstream echoed back in its message
 * are masked (core/redact.ts). The message is otherwise kept as it is.
 */
import type { FastifyReply } from "fastify";
import type { GatewayError } from "../core/errors.js";
import { redactSecrets } from "../core/redact.js";
import type { ErrorEvent } from "../protocol/anthropic/types.js";
import { presentedKeys } from "./client-auth.js";

/**
 * `secrets`: values to mask besides the configured ones, e.g. the token the client presented
 * (`sendError` passes it; a committed stream's error has only the configured ones to mask).
 */
export function errorBody(
  error: GatewayError,
  requestId: string,
  secrets: Iterable<string> = [],
): ErrorEvent {
  return {
    type: "error",
    error: { type: error.type, message: redactSecrets(error.message, secrets) },
    request_id: requestId,
  };
}

export function sendError(reply: FastifyReply, error: GatewayError, requestId: string): FastifyReply {
  // 499 (client gone) is never sent; anything outside the HTTP error range falls back to 500.
  const status = error.status >= 400 && error.status <= 599 ? error.status : 500;
  if (error.retryAfterSeconds !== undefined) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterSeconds));
    reply.header("retry-after", String(seconds));
    reply.header("retry-after-ms", String(seconds * 1000));
  }
  return reply
    .code(status)
    .header("request-id", requestId)
    .header("content-type", "application/json")
    .send(errorBody(error, requestId, presentedKeys(reply.request.headers)));
}
