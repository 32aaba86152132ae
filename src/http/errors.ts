/**
 * Anthropic-shaped error responses (protocol.md C.1): `{type:"error", error:{type, message},
 * request_id}` with the right status, `request-id`, and `retry-after` / `retry-after-ms` for
 * rate limits so Claude Code and the SDK wait the right time.
 */
import type { FastifyReply } from "fastify";
import type { GatewayError } from "../core/errors.js";
import type { ErrorEvent } from "../protocol/anthropic/types.js";

export function errorBody(error: GatewayError, requestId: string): ErrorEvent {
  return { type: "error", error: { type: error.type, message: error.message }, request_id: requestId };
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
    .send(errorBody(error, requestId));
}
