/**
 * Start and stop a gateway: the entry point the CLI, the tests and the benchmark share.
 */
import type { FastifyInstance } from "fastify";
import type { Config } from "./config/schema.js";
import { Gateway } from "./gateway.js";
import { type AppOptions, buildApp } from "./http/app.js";

export interface RunningGateway {
  url: string;
  port: number;
  app: FastifyInstance;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startGateway(config: Config, options: AppOptions = {}): Promise<RunningGateway> {
  const gateway = new Gateway(config);
  const app = buildApp(gateway, options);
  await app.listen({ host: config.server.host, port: config.server.port });
  gateway.prober.start();
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    gateway,
    close() {
      closing ??= (async () => {
        await app.close();
        await gateway.close();
      })();
      return closing;
    },
  };
}
