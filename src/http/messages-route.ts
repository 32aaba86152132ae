/**
 * `POST /v1/messages`: validate → route → inline URL sources → attempt loop → stop sequences →
 * (stream) keep-alive + SSE with the commit point, or (non-stream) accumulate into one Message.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { runAttempts } from "../core/attempt-loop.js";
import { GatewayError, toGatewayError } from "../core/errors.js";
import { inlineUrlSources } from "../core/inline-url-sources.js";
import { withKeepAlive } from "../core/keepalive.js";
import { withStopSequences } from "../core/stop-sequences.js";
import type { Attempt } from "../core/upstream.js";
import type { Gateway } from "../gateway.js";
import { accumulateMessage } from "../protocol/anthropic/accumulate.js";
import { messagesRequestSchema } from "../protocol/anthropic/request-schema.js";
import { sendError } from "./errors.js";
import { clientAbortSignal, requestIdOf } from "./request-context.js";
import { sendSse } from "./sse-response.js";
import { parseBody } from "./validate.js";

export function registerMessagesRoute(app: FastifyInstance, gateway: Gateway): void {
  app.post("/v1/messages", async (req: FastifyRequest, reply: FastifyReply) => {
    const requestId = requestIdOf(req);
    const started = performance.now();
    const parsed = parseBody(messagesRequestSchema, req.body);
    if (parsed instanceof GatewayError) return sendError(reply, parsed, requestId);
    const request = parsed;
    const signal = clientAbortSignal(req, reply);

    let plan: ReturnType<Gateway["plan"]>;
    let body: typeof request;
    try {
      plan = gateway.plan({ model: request.model, request, headers: req.headers });
      body = await inlineUrlSources(request, gateway.config.images, signal);
    } catch (err) {
      return sendError(reply, toGatewayError(err), requestId);
    }
    const routeHeaders = { "x-ccgate-route": plan.decision.route };
    reply.headers(routeHeaders);
    req.log.debug({ route: plan.decision.route, reason: plan.decision.reason }, "route chosen");

    let current: Attempt | undefined;
    let attemptCount = 0;
    const events = withStopSequences(
      runAttempts({
        request: body,
        requestedModel: request.model,
        attempts: plan.attempts,
        signal,
        guard: gateway.guard,
        session: plan.session,
        maxAttempts: gateway.resilience.maxAttempts,
        budgetMs: gateway.resilience.attemptBudgetMs,
        transientRetries: gateway.resilience.transientRetries,
        retryBaseMs: gateway.resilience.retryBaseMs,
        totalTimeoutMs: gateway.resilience.totalTimeoutMs,
        ...(typeof req.headers["anthropic-beta"] === "string"
          ? { anthropicBeta: req.headers["anthropic-beta"] }
          : {}),
        onAttempt: (attempt, n) => {
          current = attempt;
          attemptCount = n;
          if (n > 1) req.log.info({ target: targetName(attempt), attempt: n }, "failing over");
        },
      }),
      plan.attempts.every((a) => a.upstream.provider.handlesStopSequences === true)
        ? []
        : (request.stop_sequences ?? []),
    );
    const logOutcome = (committed: boolean, error: GatewayError | undefined) => {
      req.log.info(
        {
          route: plan.decision.route,
          target: current ? targetName(current) : undefined,
          key: current?.key?.label,
          attempts: attemptCount,
          stream: request.stream === true,
          ms: Math.round(performance.now() - started),
          ...(error ? { error: error.code, errorMessage: error.message, committed } : {}),
        },
        error ? "messages failed" : "messages done",
      );
    };

    if (request.stream === true) {
      await sendSse(reply, withKeepAlive(events, gateway.config.server.pingIntervalMs), {
        requestId,
        headers: () => ({ ...routeHeaders, ...(current ? { "x-ccgate-target": targetName(current) } : {}) }),
        toError: toGatewayError,
        onEnd: ({ committed, error }) => logOutcome(committed, error),
      });
      return reply;
    }
    try {
      const message = await accumulateMessage(events);
      logOutcome(true, undefined);
      if (current) reply.header("x-ccgate-target", targetName(current));
      return reply.header("request-id", requestId).header("content-type", "application/json").send(message);
    } catch (err) {
      const error = toGatewayError(err);
      logOutcome(false, error);
      return sendError(reply, error, requestId);
    }
  });
}

function targetName(attempt: Attempt): string {
  return `${attempt.upstream.name}/${attempt.model}`;
}
