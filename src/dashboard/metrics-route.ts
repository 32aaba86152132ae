/** `GET /metrics`: the Prometheus text exposition of the gateway's own registry. */
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../telemetry/metrics.js";

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get("/metrics", async (_req, reply) =>
    reply
      .header("content-type", metrics.contentType)
      .header("cache-control", "no-store")
      .send(await metrics.text()),
  );
}
