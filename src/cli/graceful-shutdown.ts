/**
 * Clean shutdown on SIGINT/SIGTERM: stop accepting connections, let in-flight requests (long
 * streams included) finish for a grace period, then close what is left. A second signal closes
 * everything at once.
 */
import type { ServerResponse } from "node:http";
import type { RunningGateway } from "../server.js";

/** After the grace period, closing may take this much longer before the process just exits. */
const HARD_EXIT_AFTER_MS = 5_000;
/** Time aborted streams get to write their `event: error` before their sockets are closed. */
const ERROR_FLUSH_MS = 1_000;

export interface ShutdownOptions {
  graceMs: number;
}

export function installGracefulShutdown(running: RunningGateway, options: ShutdownOptions): void {
  const { app } = running;
  const log = app.log;
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  let forcing = false;

  app.server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once("close", () => {
      inFlight.delete(res);
      // The last answer went out: keep-alive sockets are idle now, close them so close() returns.
      if (stopping && inFlight.size === 0) setImmediate(() => app.server.closeIdleConnections());
    });
  });

  const force = async (why: string) => {
    if (forcing) return app.server.closeAllConnections();
    forcing = true;
    if (inFlight.size > 0) log.warn(`${why}: aborting ${inFlight.size} in-flight request(s)`);
    // A cut stream ends without message_stop, so a client sees it failed, never complete. When
    // the server offers `abortInFlight()`, streams first end with an `event: error` of their own.
    if ("abortInFlight" in running && typeof running.abortInFlight === "function") {
      running.abortInFlight();
      const deadline = Date.now() + ERROR_FLUSH_MS;
      while (inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    app.server.closeAllConnections();
  };

  const exit = (code: number) => process.exit(code);

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      void force(`${signal} again`);
      return;
    }
    stopping = true;
    log.info(`${signal}: shutting down`);
    if (inFlight.size > 0)
      log.info(`waiting up to ${options.graceMs / 1000} s for ${inFlight.size} in-flight request(s)`);
    const grace = setTimeout(() => void force("grace period over"), options.graceMs);
    const hard = setTimeout(() => {
      log.error("shutdown did not finish in time; exiting");
      exit(1);
    }, options.graceMs + HARD_EXIT_AFTER_MS);
    hard.unref();
    // Fastify stops listening, closes idle keep-alive sockets and waits for the rest.
    running.close().then(
      () => {
        clearTimeout(grace);
        exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "error while shutting down");
        exit(1);
      },
    );
    if (inFlight.size === 0) app.server.closeIdleConnections();
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
