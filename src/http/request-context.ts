import type { FastifyReply, FastifyRequest } from "fastify";
import { randomId } from "../core/ids.js";

/** `req_…` ids, like Anthropic's; echoed in `request-id` and error bodies. */
export function newRequestId(): string {
  return `req_${randomId(24)}`;
}

export function requestIdOf(req: FastifyRequest): string {
  return String(req.id);
}

/**
 * Aborts when the client goes away before the response is complete, so the upstream request
 * is cancelled at once (issue: cancellation).
 */
export function clientAbortSignal(
  req: FastifyRequest,
  reply: FastifyReply,
  shutdown?: AbortSignal,
): AbortSignal {
  const controller = new AbortController();
  // A shutdown past its grace period aborts with a GatewayError as the reason: the stream then
  // ends with that error event instead of being cut. (A listener, not AbortSignal.any, which
  // costs several percent of a request's CPU.)
  const onShutdown = () => controller.abort(shutdown?.reason);
  if (shutdown?.aborted) onShutdown();
  else shutdown?.addEventListener("abort", onShutdown, { once: true });
  reply.raw.once("close", () => {
    shutdown?.removeEventListener("abort", onShutdown);
    if (!reply.raw.writableFinished) {
      req.log.info("client disconnected; aborting upstream");
      controller.abort();
    }
  });
  return controller.signal;
}
