/**
 * `GET /v1/models`, `GET /v1/models/:id` (protocol.md D.2): the model names this gateway accepts
 * — literal route names and every target model (which route by passthrough or default).
 */
import type { FastifyInstance } from "fastify";
import { GatewayError, toGatewayError } from "../core/errors.js";
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

export function registerModelsRoutes(app: FastifyInstance, current: () => Gateway): void {
  const list = (): ModelInfo[] =>
    current()
      .routes.modelNames()
      .map((id) => ({ type: "model", id, display_name: id, created_at: CREATED_AT }));

  app.get("/v1/models", async (req) => {
    const query = req.query as { limit?: string; after_id?: string; before_id?: string };
    let data = list();
    if (query.after_id) data = data.slice(data.findIndex((m) => m.id === query.after_id) + 1);
    if (query.before_id) {
      const end = data.findIndex((m) => m.id === query.before_id);
      if (end >= 0) data = data.slice(0, end);
    }
    const limit = Math.min(1000, Math.max(1, Number(query.limit) || 20));
    const page = data.slice(0, limit);
    return {
      data: page,
      has_more: data.length > limit,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    };
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
    return { type: "model", id, display_name: id, created_at: CREATED_AT };
  });
}
