/**
 * `GET /v1/models`, `GET /v1/models/:id` (protocol.md D.2): the model names this gateway accepts
 * — literal route names and every target model (which route by passthrough or default).
 *
 * Paging follows Anthropic's cursors: `after_id` → the `limit` entries right after it,
 * `before_id` → the `limit` entries right before it; `has_more` says whether more lie in that
 * direction. A cursor that names no listed model gets an empty page with `has_more: false` (the
 * list can change on a config reload; restarting at the first page would let a client loop).
 * Anthropic's docs do not say what it answers there, so this is the choice that cannot loop.
 */
import type { FastifyInstance } from "fastify";
import { GatewayError, invalidRequest, toGatewayError } from "../core/errors.js";
import type { Gateway } from "../gateway.js";
import { sendError } from "./errors.js";
import { requestIdOf } from "./request-context.js";

interface ModelInfo {
  type: "model";
  id: string;
  display_name: string;
  created_at: string;
}

const CREATED_AT = "2025-01-01T00:00:00Z";
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

interface ModelPage {
  data: ModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** The query of `GET /v1/models`, checked; a 400 naming the field otherwise. */
function parseListQuery(query: Record<string, unknown>): ListQuery | GatewayError {
  const limitRaw = single(query, "limit");
  if (limitRaw instanceof GatewayError) return limitRaw;
  const afterId = single(query, "after_id");
  if (afterId instanceof GatewayError) return afterId;
  const beforeId = single(query, "before_id");
  if (beforeId instanceof GatewayError) return beforeId;
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== undefined) {
    limit = /^\d+$/.test(limitRaw) ? Number(limitRaw) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      return invalidRequest(
        `limit: must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limitRaw)}`,
      );
    }
  }
  if (afterId !== undefined && beforeId !== undefined) {
    return invalidRequest("after_id, before_id: give at most one of them");
  }
  return { limit, afterId, beforeId };
}

interface ListQuery {
  limit: number;
  afterId: string | undefined;
  beforeId: string | undefined;
}

/** One query parameter; empty counts as absent (as before), a repeated one is a 400. */
function single(query: Record<string, unknown>, name: string): string | undefined | GatewayError {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") return invalidRequest(`${name}: give it once, as a string`);
  return value;
}

/** One page of `all` (see the module comment for the cursor rules). */
function pageOf(all: ModelInfo[], limit: number, afterId?: string, beforeId?: string): ModelPage {
  let data: ModelInfo[];
  let hasMore: boolean;
  const cursor = afterId ?? beforeId;
  const at = cursor === undefined ? -1 : all.findIndex((m) => m.id === cursor);
  if (cursor !== undefined && at < 0) {
    data = [];
    hasMore = false;
  } else if (beforeId !== undefined) {
    const start = Math.max(0, at - limit);
    data = all.slice(start, at);
    hasMore = start > 0;
  } else {
    const start = at + 1;
    data = all.slice(start, start + limit);
    hasMore = start + limit < all.length;
  }
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

export function registerModelsRoutes(app: FastifyInstance, current: () => Gateway): void {
  const list = (): ModelInfo[] =>
    current()
      .routes.modelNames()
      .map((id) => ({ type: "model", id, display_name: id, created_at: CREATED_AT }));

  app.get("/v1/models", async (req, reply) => {
    const query = parseListQuery((req.query ?? {}) as Record<string, unknown>);
    if (query instanceof GatewayError) return sendError(reply, query, requestIdOf(req));
    // The SDK reads `request-id` as `requestID` on successes too (protocol.md C.1).
    return reply
      .header("request-id", requestIdOf(req))
      .send(pageOf(list(), query.limit, query.afterId, query.beforeId));
  });

  app.get("/v1/models/:id", async (req, reply) => {
    const { id } = req.params as { id: string };
    let decision: ReturnType<Gateway["routes"]["resolve"]>;
    try {
      decision = current().routes.resolve({ model: id });
    } catch (err) {
      return sendError(reply, toGatewayError(err), requestIdOf(req));
    }
    if (decision === undefined) {
      return sendError(
        reply,
        new GatewayError({
          code: "NO_ROUTE",
          message: `model: ${id}`,
          status: 404,
          type: "not_found_error",
          class: "client",
        }),
        requestIdOf(req),
      );
    }
    const model: ModelInfo = { type: "model", id, display_name: id, created_at: CREATED_AT };
    return reply.header("request-id", requestIdOf(req)).send(model);
  });
}
