import type { FastifyReply, FastifyRequest } from "fastify";
import { requestTimedOut } from "../core/errors.js";
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
 * The request's one abort signal: aborted when the client goes away before the response is
 * complete (so the upstream request is cancelled at once), when a shutdown ends in-flight
 * requests, or when the request has run for `totalTimeoutMs`. The last two abort with the
 * GatewayError the request should end with (an `event: error` instead of a cut stream).
 */
export function clientAbortSignal(
  req: FastifyRequest,
  reply: FastifyReply,
  inFlight?: InFlightRequests,
  totalTimeoutMs?: number,
): AbortSignal {
  const controller = new AbortController();
  const untrack = inFlight?.add(controller);
  const timer =
    totalTimeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(requestTimedOut()), totalTimeoutMs);
  reply.raw.once("close", () => {
    clearTimeout(timer);
    untrack?.();
    if (!reply.raw.writableFinished) {
      req.log.info("client disconnected; aborting upstream");
      controller.abort();
    }
  });
  return controller.signal;
}
