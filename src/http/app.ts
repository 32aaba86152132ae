/**
 * The Fastify app: Anthropic Messages API routes, client auth, Anthropic-shaped errors for
 * everything (bad JSON, oversize bodies, unknown paths), secrets redacted from logs.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import { GatewayError, invalidRequest } from "../core/errors.js";
import { registerDashboardRoutes } from "../dashboard/dashboard-routes.js";
import { registerMetricsRoute } from "../dashboard/metrics-route.js";
import type { Gateway } from "../gateway.js";
import type { Telemetry } from "../telemetry/open-telemetry.js";
import { isAuthorized, isLoopbackHost } from "./client-auth.js";
import { registerCountTokensRoute } from "./count-tokens-route.js";
import { sendError } from "./errors.js";
import type { InFlightRequests } from "./in-flight.js";
import { registerJsonBodyParser } from "./json-body.js";
import { registerMessagesRoute } from "./messages-route.js";
import { registerModelsRoutes } from "./models-route.js";
import { newRequestId, requestIdOf } from "./request-context.js";
import { registerStatusRoute } from "./status-route.js";

export const VERSION = "0.1.0";

/**
 * Paths any client may call without the gateway token (probes Claude Code makes, health).
 * Claude Code's telemetry batches (protocol.md E.1) are answered (204) rather than refused: a
 * 401 there is log noise, and the gateway keeps none of it.
 */
// `/dashboard` is a page without data: its `/api/*` calls still need the token.
const OPEN_PATHS = new Set([
  "/",
  "/health",
  "/api/hello",
  "/api/event_logging/batch",
  "/api/event_logging/v2/batch",
  "/dashboard",
]);

export interface AppOptions {
  logger?: FastifyServerOptions["logger"];
  /** Request log and metrics; absent → no `/metrics`, an empty request list. */
  telemetry?: Telemetry | undefined;
  /** Where `/v1/messages` requests register, so a shutdown can end every in-flight stream. */
  inFlight?: InFlightRequests | undefined;
}

/**
 * `current` returns the gateway of the moment: a config reload swaps it without restarting the
 * server; each request keeps the one it started with. The body limit and the logger come from
 * the gateway at build time (changing them needs a restart).
 */
export function buildApp(current: () => Gateway, options: AppOptions = {}): FastifyInstance {
  const gateway = current();
  const started = Date.now();
  const status = () => current().status(VERSION, started);
  const app = Fastify({
    logger: options.logger ?? {
      level: gateway.config.server.logLevel,
      redact: {
        paths: [
          'req.headers["x-api-key"]',
          "req.headers.authorization",
          'req.headers["x-goog-api-key"]',
          "headers.authorization",
        ],
        censor: "[redacted]",
      },
    },
    bodyLimit: gateway.config.server.bodyLimitBytes,
    genReqId: newRequestId,
    // One line per request comes from the request tracker (route, target, key label, timing);
    // Fastify's own "incoming request" / "request completed" pair would double it.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // Streams can run for many minutes; Node's defaults would cut them.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    return503OnClosing: false,
  });
  // JSON bodies: json-body.ts.
  registerJsonBodyParser(app);

  // Callback style (no promise per request); answering without calling `done` ends the request.
  app.addHook("onRequest", (req, reply, done) => {
    const path = req.url.split("?", 1)[0] ?? "";
    const token = current().config.server.authToken;
    if (token === undefined && !isLoopbackHost(req.headers.host)) {
      sendError(
        reply,
        new GatewayError({
          code: "HOST_NOT_ALLOWED",
          message: `Host "${req.headers.host}" is not this machine: without a client token ccgate only answers requests addressed to localhost or 127.0.0.1 (this stops web pages that use DNS rebinding); set server.authToken (CCGATE_AUTH_TOKEN) to serve other names`,
          status: 403,
          type: "permission_error",
          class: "client",
        }),
        requestIdOf(req),
      );
      return;
    }
    if (OPEN_PATHS.has(path) || isAuthorized(req.headers, token)) {
      done();
      return;
    }
    sendError(
      reply,
      new GatewayError({
        code: "CLIENT_UNAUTHORIZED",
        message:
          "Invalid or missing gateway key: send the token configured as CCGATE_AUTH_TOKEN as x-api-key or Authorization: Bearer",
        status: 401,
        type: "authentication_error",
        class: "client",
      }),
      requestIdOf(req),
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const e = err as { statusCode?: number; code?: string; message: string };
    let error: GatewayError;
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE")
      error = new GatewayError({
        code: "BODY_TOO_LARGE",
        message: `Request body is larger than the ${gateway.config.server.bodyLimitBytes} bytes allowed (server.bodyLimitBytes)`,
        status: 413,
        type: "request_too_large",
        class: "client",
      });
    else if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)
      error = invalidRequest(
        e.code === "FST_ERR_CTP_INVALID_JSON_BODY" || e.code?.startsWith("FST_ERR_CTP")
          ? `Invalid request body: ${e.message}`
          : e.message,
        err,
      );
    else {
      req.log.error({ err }, "unhandled error");
      error = new GatewayError({
        code: "INTERNAL",
        message: "Internal gateway error",
        status: 500,
        type: "api_error",
        class: "transient",
        cause: err,
      });
    }
    return sendError(reply, error, requestIdOf(req));
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new GatewayError({
        code: "NOT_FOUND",
        message: `${req.method} ${req.url.split("?", 1)[0]} is not an endpoint of this gateway`,
        status: 404,
        type: "not_found_error",
        class: "client",
      }),
      requestIdOf(req),
    ),
  );

  app.get("/health", async () => ({
    status: "ok",
    providers: [...current().upstreams.values()].map((u) => ({
      name: u.name,
      type: u.type,
      keys: u.keys.length,
    })),
  }));
  // Claude Code's connectivity probes (protocol.md E.1): answer instead of logging 404s.
  app.head("/", async (_req, reply) => reply.code(200).send());
  app.head("/api/hello", async (_req, reply) => reply.code(200).send());
  // Its telemetry is accepted and dropped (the gateway keeps none of it).
  for (const path of ["/api/event_logging/batch", "/api/event_logging/v2/batch"])
    app.post(path, async (_req, reply) => reply.code(204).send());

  registerMessagesRoute(app, current, options.telemetry?.sink, options.inFlight);
  registerCountTokensRoute(app, current, options.telemetry?.sink);
  registerModelsRoutes(app, current);
  registerStatusRoute(app, status);
  registerDashboardRoutes(app, { log: options.telemetry?.log, status });
  if (options.telemetry?.metrics) registerMetricsRoute(app, options.telemetry.metrics);
  return app;
}
