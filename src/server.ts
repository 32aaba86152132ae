/**
 * Start and stop a gateway: the entry point the CLI, the tests and the benchmark share.
 * A config reload builds a new Gateway and swaps it in: new requests use it at once, in-flight
 * streams finish on the old one, whose connection pools close once they are done.
 */
import type { FastifyInstance } from "fastify";
import type { Config } from "./config/schema.js";
import { gatewayUnavailable } from "./core/errors.js";
import { Gateway } from "./gateway.js";
import { type AppOptions, buildApp, VERSION } from "./http/app.js";
import { InFlightRequests } from "./http/in-flight.js";
import { openTelemetry, type Telemetry } from "./telemetry/open-telemetry.js";

export interface RunningGateway {
  url: string;
  port: number;
  app: FastifyInstance;
  /** The gateway serving new requests now. */
  readonly gateway: Gateway;
  telemetry: Telemetry;
  /**
   * Swap in a new configuration. Throws (and keeps the running one) when it cannot be built;
   * `server.host`, `server.port`, `server.bodyLimitBytes` and the logger need a restart.
   */
  reload(config: Config): void;
  /** End every in-flight request now: streams get `event: error` (overloaded, retryable). */
  abortInFlight(): void;
  close(): Promise<void>;
}

export async function startGateway(
  config: Config,
  options: Omit<AppOptions, "telemetry"> = {},
): Promise<RunningGateway> {
  let gateway = new Gateway(config);
  const started = Date.now();
  let app: FastifyInstance | undefined;
  let telemetry: ReturnType<typeof openTelemetry>;
  try {
    telemetry = openTelemetry(
      config.telemetry,
      () => gateway.status(VERSION, started),
      (err) => app?.log.error({ err }, "request log write failed"),
    );
  } catch (err) {
    await gateway.close(); // its connection pools, before the start-up error is reported
    throw err;
  }
  const inFlight = new InFlightRequests();
  app = buildApp(() => gateway, { ...options, telemetry, inFlight });
  // Load what other instances share (bounded wait) before the first request is served.
  await gateway.shared.start(app.log);
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    // Its reconnect timers would keep the process alive after a failed start.
    await gateway.shared.close();
    throw err;
  }
  gateway.prober.start(app.log);
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  let closing: Promise<void> | undefined;
  const server = app;
  return {
    url: `http://${host}:${port}`,
    port,
    app: server,
    get gateway() {
      return gateway;
    },
    telemetry,
    reload(next: Config) {
      const fresh = new Gateway(next);
      const old = gateway;
      gateway = fresh;
      fresh.prober.start(server.log);
      void fresh.shared.start(server.log);
      // Agent.close() waits for the requests still using the old pools (in-flight streams).
      old.close().catch((err: unknown) => server.log.error({ err }, "closing the previous gateway failed"));
    },
    abortInFlight() {
      inFlight.abortAll(gatewayUnavailable("SHUTTING_DOWN", "ccgate is shutting down; retry the request"));
    },
    close() {
      closing ??= (async () => {
        await server.close();
        await gateway.close();
        await telemetry.close();
      })();
      return closing;
    },
  };
}
