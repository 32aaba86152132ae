/**
 * `POST /v1/messages/count_tokens` (protocol.md D.1): the first routed target that can count
 * natively is asked (short deadline); otherwise, or when it fails, the documented local estimate.
 * Claude Code compacts from this number, so a failure never turns into an error here.
 */
import type { FastifyInstance } from "fastify";
import { credentialOf } from "../core/attempt.js";
import { GatewayError, toGatewayError } from "../core/errors.js";
import { estimateInputTokens } from "../core/estimate-tokens.js";
import type { CountTokensContext } from "../core/provider.js";
import { redactSecrets } from "../core/redact.js";
import type { Gateway } from "../gateway.js";
import { countTokensRequestSchema } from "../protocol/anthropic/request-schema.js";
import type { RequestSink } from "../telemetry/request-record.js";
import { sendError } from "./errors.js";
import { clientAbortSignal, requestIdOf } from "./request-context.js";
import { RequestTracker } from "./request-tracker.js";
import { parseBody } from "./validate.js";

const COUNT_DEADLINE_MS = 5_000;

export function registerCountTokensRoute(
  app: FastifyInstance,
  current: () => Gateway,
  sink: RequestSink | undefined,
): void {
  app.post("/v1/messages/count_tokens", async (req, reply) => {
    const gateway = current();
    const requestId = requestIdOf(req);
    const tracker = new RequestTracker(req, "count_tokens", sink);
    const fail = (error: GatewayError) => {
      tracker.finish(error.status, error);
      return sendError(reply, error, requestId);
    };
    const parsed = parseBody(countTokensRequestSchema, req.body);
    if (parsed instanceof GatewayError) return fail(parsed);
    tracker.model = parsed.model;
    let attempts: ReturnType<Gateway["plan"]>["attempts"] = [];
    try {
      const plan = gateway.plan({ model: parsed.model, request: parsed, headers: req.headers });
      attempts = plan.attempts;
      tracker.route = plan.decision.route;
    } catch (err) {
      const error = toGatewayError(err);
      if (error.class === "client") return fail(error);
      // No usable key right now: counting still works locally.
    }
    // A key the upstream rejected is not asked (it would only fail and fall back anyway).
    const attempt = attempts.find(
      (a) =>
        a.upstream.provider.countTokens !== undefined &&
        (a.key === undefined || gateway.state.keyDisabledFor(a.key.id) === 0),
    );
    const counter = attempt?.upstream.provider.countTokens;
    if (attempt !== undefined && counter !== undefined) {
      const signal = AbortSignal.any([clientAbortSignal(req, reply), AbortSignal.timeout(COUNT_DEADLINE_MS)]);
      try {
        const ctx: CountTokensContext = {
          request: parsed,
          requestedModel: parsed.model,
          upstreamModel: attempt.model,
          baseUrl: attempt.upstream.baseUrl,
          apiKey: await credentialOf(attempt, signal),
          headers: attempt.upstream.headers,
        };
        const res = await attempt.upstream.transport.send(
          counter.buildRequest(ctx),
          attempt.upstream.provider,
          signal,
        );
        let text = "";
        for await (const chunk of res.body) text += Buffer.from(chunk).toString("utf8");
        const input_tokens = counter.decodeResponse(JSON.parse(text));
        tracker.attempt = attempt;
        tracker.attempts = 1;
        tracker.usage({ input_tokens });
        tracker.finish(200, undefined);
        return reply
          .header("request-id", requestId)
          .header("x-ccgate-count-source", "upstream")
          .send({ input_tokens });
      } catch (err) {
        req.log.warn(
          { err: redactSecrets(toGatewayError(err).message) },
          "upstream token count failed; using the local estimate",
        );
      }
    }
    const input_tokens = estimateInputTokens(parsed);
    tracker.usage({ input_tokens });
    tracker.finish(200, undefined);
    // The SDK reads `request-id` as `requestID` on successes too (protocol.md C.1).
    return reply
      .header("request-id", requestId)
      .header("x-ccgate-count-source", "estimate")
      .send({ input_tokens });
  });
}
