/**
 * Child process: the compiled gateway (`dist/`) on 127.0.0.1, ephemeral port, configured only
 * from a synthetic environment (no ccgate.yaml is read: cwd is an empty temp dir) with the fake
 * Gemini as its upstream. Logging is off (`silent`): the measured cost is the request path itself.
 *
 * Upstream: env BENCH_UPSTREAM_URL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { failChild, serveChild } from "./child-ipc.mjs";

async function main() {
  const upstream = process.env.BENCH_UPSTREAM_URL;
  if (upstream === undefined || upstream === "") throw new Error("BENCH_UPSTREAM_URL is not set");
  // Import here so a missing or broken build becomes a "failed" message, not a silent crash.
  const { loadConfig } = await import("../dist/config/load.js");
  const { startGateway } = await import("../dist/server.js");

  const cwd = mkdtempSync(join(tmpdir(), "ccgate-bench-"));
  try {
    const { config } = loadConfig({
      env: { GEMINI_API_KEY: "bench-key", GEMINI_BASE_URL: upstream, CCGATE_PORT: "0" },
      cwd,
    });
    config.server.logLevel = "silent";
    // The request log stays on (the default) and writes a real SQLite file, as in production.
    const logDir = mkdtempSync(join(tmpdir(), "ccgate-bench-log-"));
    config.telemetry.requestLog.path = join(logDir, "requests.sqlite");
    const gateway = await startGateway(config);
    serveChild(gateway.url, async () => {
      await gateway.close();
      rmSync(logDir, { recursive: true, force: true });
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

main().catch(failChild);
