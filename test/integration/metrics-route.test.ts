/**
 * `GET /metrics` over real HTTP, with the gauges read from a real Gateway's status snapshot
 * (so a change of the snapshot's shape breaks this test, not a production scrape) and records
 * fanned out to the request log and the metrics by `combineSinks`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/gateway.js";
import { buildApp } from "../../src/http/app.js";
import { combineSinks } from "../../src/telemetry/combine-sinks.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { openRequestLog } from "../../src/telemetry/request-log.js";
import type { RequestRecord } from "../../src/telemetry/request-record.js";
import { requestRecord } from "../helpers/request-records.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const base: RequestRecord = requestRecord({
  id: "req_m1",
  durationMs: 2_000,
  ttfbMs: 150,
  attempts: 2,
  inputTokens: 1200,
  outputTokens: 80,
  cacheReadTokens: 1000,
});

it("exposes request series, key gauges from /status and process metrics", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ccgate-metrics-"));
  const { config } = loadConfig({ cwd: dir, env: { CCGATE_PORT: "0", GEMINI_API_KEY: "k-one,k-two" } });
  config.resilience.probe.enabled = false;
  const gateway = new Gateway(config);
  const log = openRequestLog({ path: join(dir, "requests.sqlite"), maxRows: 100 });
  const metrics = createMetrics({ status: () => gateway.status("0.1.0", Date.now()) });
  const sink = combineSinks(log, metrics);
  const app = buildApp(() => gateway, {
    logger: false,
    telemetry: { log, metrics, sink, close: async () => sink.close() },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await app.close();
    await gateway.close();
    await sink.close();
  });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  sink.record(base);
  sink.record({ ...base, id: "req_m2", outcome: "error", status: 429, attempts: 1, inputTokens: undefined });
  // The second key was rejected by the upstream a moment ago: it rests for a minute.
  gateway.state.disabledKeys.set("gemini#2", Date.now() + 60_000);

  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const lines = new Set(text.split("\n"));
  const labels = 'endpoint="messages",route="sonnet",target="gemini/gemini-2.5-pro"';
  expect(lines).toContain(`ccgate_requests_total{${labels},outcome="ok",status="200"} 1`);
  expect(lines).toContain(`ccgate_requests_total{${labels},outcome="error",status="429"} 1`);
  expect(lines).toContain(
    'ccgate_request_duration_seconds_count{route="sonnet",target="gemini/gemini-2.5-pro",stream="true"} 2',
  );
  expect(lines).toContain(
    'ccgate_time_to_first_byte_seconds_bucket{le="0.25",route="sonnet",target="gemini/gemini-2.5-pro",stream="true"} 2',
  );
  expect(lines).toContain('ccgate_tokens_total{direction="input",target="gemini/gemini-2.5-pro"} 1200');
  expect(lines).toContain('ccgate_tokens_total{direction="cache_read",target="gemini/gemini-2.5-pro"} 2000');
  expect(lines).toContain('ccgate_upstream_attempts_total{route="sonnet"} 3');
  expect(lines).toContain('ccgate_key_state{provider="gemini",key="gemini#1",state="ok"} 1');
  expect(lines).toContain('ccgate_key_state{provider="gemini",key="gemini#2",state="disabled"} 1');
  expect(lines).toContain('ccgate_key_state{provider="gemini",key="gemini#2",state="ok"} 0');
  expect(lines).toContain('ccgate_inflight{provider="gemini"} 0');
  expect(text).toMatch(/^ccgate_key_cooldown_seconds\{provider="gemini",key="gemini#2"\} (59|60)(\.\d+)?$/m);
  expect(text).toContain("process_resident_memory_bytes");
  expect(text).toContain("nodejs_eventloop_lag_seconds");
  expect(text).not.toContain("k-one");
  // The same records went to the request log.
  expect(log.recent({ limit: 10 }).map((r) => r.id)).toEqual(["req_m2", "req_m1"]);
});
