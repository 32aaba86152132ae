/**
 * `GET /status`: what the gateway knows about its upstreams — per provider and key (masked or
 * named, never the secret): state, cooldown, traffic. Read by `ccgate status` and the dashboard.
 */
import type { FastifyInstance } from "fastify";
import type { Gateway } from "../gateway.js";

export function registerStatusRoute(app: FastifyInstance, status: () => ReturnType<Gateway["status"]>): void {
  app.get("/status", async () => status());
}
