import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { openTelemetry } from "../../src/telemetry/open-telemetry.js";
import type { RequestRecord } from "../../src/telemetry/request-record.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rec: RequestRecord = {
  id: "req_open",
  startedAt: Date.now(),
  durationMs: 10,
  ttfbMs: undefined,
  endpoint: "count_tokens",
  requestedModel: "claude-haiku-4-5",
  route: "haiku",
  target: "gemini/flash",
  provider: "gemini",
  keyLabel: undefined,
  stream: false,
  status: 200,
  outcome: "ok",
  errorType: undefined,
  errorCode: undefined,
  errorMessage: undefined,
  attempts: 1,
  inputTokens: 42,
  outputTokens: undefined,
  cacheReadTokens: undefined,
  stopReason: undefined,
  sessionId: undefined,
};

it("opens the log at the configured path and feeds both log and metrics through one sink", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ccgate-tel-"));
  dirs.push(dir);
  const path = join(dir, "state", "requests.sqlite");
  const t = openTelemetry(
    { requestLog: { enabled: true, path, maxRows: 10 }, metrics: { enabled: true } },
    () => ({ providers: [] }),
  );
  t.sink.record(rec);
  expect(t.log?.recent({ limit: 5 }).map((r) => r.id)).toEqual(["req_open"]);
  expect(await t.metrics?.text()).toContain(
    'ccgate_requests_total{endpoint="count_tokens",route="haiku",target="gemini/flash",outcome="ok",status="200"} 1',
  );
  await t.close();
  expect(existsSync(path)).toBe(true);
});

it("opens nothing when both are disabled, and the sink still accepts records", async () => {
  const t = openTelemetry(
    { requestLog: { enabled: false, maxRows: 10 }, metrics: { enabled: false } },
    () => ({}),
  );
  expect(t.log).toBeUndefined();
  expect(t.metrics).toBeUndefined();
  expect(() => t.sink.record(rec)).not.toThrow();
  await t.close();
});
