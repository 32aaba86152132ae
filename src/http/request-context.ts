import type { FastifyReply, FastifyRequest } from "fastify";
import { randomId } from "../core/ids.js";
import type { InFlightRequests } from "./in-flight.js";

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
  inFlight?: InFlightRequests,
): AbortSignal {
  const controller = new AbortController();
  // A shutdown past its grace period aborts with a GatewayError as the reason: the stream then
  // ends with that error event instead of being cut.
  const untrack = inFlight?.add(controller);
  reply.raw.once("close", () => {
    untrack?.();
    if (!reply.raw.writableFinished) {
      req.log.info("client disconnected; aborting upstream");
      controller.abort();
    }
  });
  return controller.signal;
}
