/**
 * The dashboard and its API:
 * - `GET /dashboard` — the page (static: it holds no data, so it may be served without the token)
 * - `GET /api/status` — the `/status` snapshot the page shows providers, keys and targets from
 * - `GET /api/requests?limit=&before=&outcome=&route=` — recent requests, newest first
 * - `GET /api/summary?windowMs=` — counts, error rate inputs, latency percentiles, tokens
 * With the request log disabled the API answers `enabled: false` and no data.
 */
import type { FastifyInstance } from "fastify";
import { GatewayError } from "../core/errors.js";
import { sendError } from "../http/errors.js";
import { requestIdOf } from "../http/request-context.js";
import { parseBody } from "../http/validate.js";
import type { RequestLog } from "../telemetry/request-log.js";
import { recentQuerySchema, recordToJson, summaryQuerySchema } from "./api-query.js";
import { PAGE_HEADERS, PAGE_HTML } from "./page-html.js";
import { SummaryCache } from "./summary-cache.js";

export interface DashboardDeps {
  /** `undefined` when `telemetry.requestLog.enabled` is false. */
  log: RequestLog | undefined;
  /** The gateway's status snapshot (what `GET /status` serves). */
  status: () => unknown;
}

export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const log = deps.log;
  const summaries = log === undefined ? undefined : new SummaryCache((since) => log.summary(since));
  app.get("/dashboard", async (_req, reply) => reply.headers(PAGE_HEADERS).send(PAGE_HTML));

  app.get("/api/status", async () => deps.status());

  app.get("/api/requests", async (req, reply) => {
    const query = parseBody(recentQuerySchema, req.query);
    if (query instanceof GatewayError) return sendError(reply, query, requestIdOf(req));
    if (deps.log === undefined) return { enabled: false, data: [] };
    const data = deps.log.recent({
      limit: query.limit,
      ...(query.before === undefined ? {} : { before: query.before }),
      ...(query.outcome === undefined ? {} : { outcome: query.outcome }),
      ...(query.route === undefined ? {} : { route: query.route }),
    });
    return { enabled: true, data: data.map(recordToJson) };
  });

  app.get("/api/summary", async (req, reply) => {
    const query = parseBody(summaryQuerySchema, req.query);
    if (query instanceof GatewayError) return sendError(reply, query, requestIdOf(req));
    if (summaries === undefined) return { enabled: false, windowMs: query.windowMs };
    return { enabled: true, windowMs: query.windowMs, ...summaries.get(query.windowMs) };
  });
}
