/**
 * `POST /v1/messages`: validate → route → inline URL sources → attempt loop → stop sequences →
 * (stream) SSE with keep-alive pings and the commit point, or (non-stream) accumulate into one Message.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { runAttempts } from "../core/attempt-loop.js";
import { GatewayError, toGatewayError } from "../core/errors.js";
import type { EventBatch } from "../core/event-batches.js";
import { inlineUrlSources } from "../core/inline-url-sources.js";
import { withStopSequences } from "../core/stop-sequences.js";
import type { Gateway } from "../gateway.js";
import { readMessage } from "../protocol/anthropic/accumulate.js";
import { messagesRequestSchema } from "../protocol/anthropic/request-schema.js";
import type { Message, StreamEvent } from "../protocol/anthropic/types.js";
import type { RequestSink } from "../telemetry/request-record.js";
import { sendError } from "./errors.js";
import type { InFlightRequests } from "./in-flight.js";
import { clientAbortSignal, requestIdOf } from "./request-context.js";
import { RequestTracker } from "./request-tracker.js";
import { sendSse } from "./sse-response.js";
import { parseBody } from "./validate.js";

export function registerMessagesRoute(
  app: FastifyInstance,
  current: () => Gateway,
  sink: RequestSink | undefined,
  inFlight: InFlightRequests | undefined,
): void {
  app.post("/v1/messages", async (req: FastifyRequest, reply: FastifyReply) => {
    // The gateway of the moment: a config reload swaps it, in-flight requests keep theirs.
    const gateway = current();
    const requestId = requestIdOf(req);
    const tracker = new RequestTracker(req, "messages", sink);
    const fail = (error: GatewayError) => {
      tracker.finish(error.status >= 400 && error.status <= 599 ? error.status : 500, error);
      return sendError(reply, error, requestId);
    };
    const started = await start(req, reply, gateway, tracker, inFlight);
    if (started instanceof GatewayError) return fail(started);
    const { events, stream, routeHeaders } = started;
    reply.headers(routeHeaders);

    if (stream) {
      await sendSse(reply, events, {
        requestId,
        pingIntervalMs: gateway.config.server.pingIntervalMs,
        // A keep-alive ping can force the 200 out before any target succeeded: name the target
        // only when real content commits the response.
        headers: (first?: StreamEvent) => ({
          ...routeHeaders,
          ...(tracker.target && first?.type !== "ping" ? { "x-ccgate-target": tracker.target } : {}),
        }),
        toError: toGatewayError,
        observe: (event) => tracker.observe(event),
        onCommit: () => tracker.firstByte(),
        onEnd: ({ committed, error }) => tracker.finish(committed ? 200 : (error?.status ?? 500), error),
      });
      return reply;
    }
    const iterator = events[Symbol.asyncIterator]();
    let message: Message;
    try {
      message = await readMessage(iterator);
    } catch (err) {
      return fail(toGatewayError(err));
    }
    if (tracker.target) reply.header("x-ccgate-target", tracker.target);
    reply.header("request-id", requestId).header("content-type", "application/json").send(message);
    // The answer is out (Fastify writes it synchronously); the stream's cleanup and the request's
    // record follow it instead of delaying it.
    try {
      await iterator.return?.();
    } catch (err) {
      req.log.warn({ err }, "closing a finished stream failed");
    }
    tracker.usage(message.usage);
    tracker.setStopReason(message.stop_reason);
    tracker.finish(200, undefined);
    return reply;
  });
}

interface Started {
  events: AsyncIterable<EventBatch>;
  stream: boolean;
  routeHeaders: Record<string, string>;
}

/**
 * Everything that needs the client request, up to the event stream. Kept apart from the handler
 * so that only the attempt loop holds the request afterwards, and the loop lets go of it at the
 * commit point: a stream that runs for minutes does not keep a large conversation in memory.
 */
async function start(
  req: FastifyRequest,
  reply: FastifyReply,
  gateway: Gateway,
  tracker: RequestTracker,
  inFlight: InFlightRequests | undefined,
): Promise<Started | GatewayError> {
  const parsed = parseBody(messagesRequestSchema, req.body);
  // The validated copy is the request from here on; the raw parse must not outlive it via `req`.
  req.body = undefined;
  if (parsed instanceof GatewayError) return parsed;
  const request = parsed;
  tracker.model = request.model;
  tracker.stream = request.stream === true;
  const signal = clientAbortSignal(req, reply, inFlight, gateway.resilience.totalTimeoutMs);
  try {
    const plan = gateway.plan({ model: request.model, request, headers: req.headers });
    tracker.route = plan.decision.route;
    tracker.session = plan.session;
    req.log.debug({ route: plan.decision.route, reason: plan.decision.reason }, "route chosen");
    const body = await inlineUrlSources(request, gateway.config.images, signal);
    const events = withStopSequences(
      runAttempts({
        request: body,
        requestedModel: request.model,
        attempts: plan.attempts,
        signal,
        guard: gateway.guard,
        session: plan.affinityKey,
        maxAttempts: gateway.resilience.maxAttempts,
        budgetMs: gateway.resilience.attemptBudgetMs,
        transientRetries: gateway.resilience.transientRetries,
        retryBaseMs: gateway.resilience.retryBaseMs,
        commitAtEnd: request.stream !== true,
        ...(typeof req.headers["anthropic-beta"] === "string"
          ? { anthropicBeta: req.headers["anthropic-beta"] }
          : {}),
        onAttempt: (attempt, n) => {
          tracker.attempt = attempt;
          tracker.attempts = n;
          if (n > 1) req.log.info({ target: tracker.target, attempt: n }, "failing over");
        },
      }),
      plan.attempts.every((a) => a.upstream.provider.handlesStopSequences === true)
        ? []
        : (request.stop_sequences ?? []),
    );
    return {
      events,
      stream: request.stream === true,
      routeHeaders: { "x-ccgate-route": plan.decision.route },
    };
  } catch (err) {
    return toGatewayError(err);
  }
}
