import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openRequestLog, type RequestLog } from "../../src/telemetry/request-log.js";
import { defaultRequestLogPath } from "../../src/telemetry/request-log-path.js";
import { redactSecrets } from "../../src/telemetry/request-log-schema.js";
import type { RequestRecord } from "../../src/telemetry/request-record.js";
import { FAKE_GOOGLE_KEY, FAKE_OPENAI_KEY } from "../helpers/fake-credentials.js";
import { requestRecord } from "../helpers/request-records.js";

let seq = 0;
function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  seq++;
  return requestRecord({
    id: `req_${seq}`,
    startedAt: 1_700_000_000_000 + seq * 1000,
    durationMs: 100,
    ttfbMs: 20,
    route: "default",
    keyLabel: "…abcd",
    inputTokens: 10,
    outputTokens: 5,
    ...overrides,
  });
}

let dir: string;
const open: RequestLog[] = [];
function openLog(options: Partial<Parameters<typeof openRequestLog>[0]> = {}): RequestLog {
  const log = openRequestLog({ path: ":memory:", maxRows: 1000, ...options });
  open.push(log);
  return log;
}
/** Rows visible to a second connection, i.e. what has really been committed to the file. */
function committedRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM requests").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ccgate-reqlog-"));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe("request log: storage and queries", () => {
  it("round-trips every field, absent ones stay undefined (:memory:)", () => {
    const log = openLog();
    const r = record({ ttfbMs: undefined, route: undefined, errorType: "api_error", cacheReadTokens: 7 });
    log.record(r);
    expect(log.recent({ limit: 10 })).toEqual([r]);
  });

  it("returns newest first and filters by outcome, route and before", () => {
    const log = openLog();
    const a = record({ route: "fast" });
    const b = record({ outcome: "error", status: 529, errorType: "overloaded_error" });
    const c = record({ route: "fast", outcome: "aborted", status: 200 });
    for (const r of [a, b, c]) log.record(r);
    expect(log.recent({ limit: 10 }).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(log.recent({ limit: 2 }).map((r) => r.id)).toEqual([c.id, b.id]);
    expect(log.recent({ limit: 10, outcome: "error" }).map((r) => r.id)).toEqual([b.id]);
    expect(log.recent({ limit: 10, route: "fast" }).map((r) => r.id)).toEqual([c.id, a.id]);
    expect(log.recent({ limit: 10, before: c.startedAt }).map((r) => r.id)).toEqual([b.id, a.id]);
    expect(log.recent({ limit: 10, route: "fast", outcome: "ok" }).map((r) => r.id)).toEqual([a.id]);
  });

  it("uses WAL on a file and creates the directory", () => {
    const path = join(dir, "nested", "state", "requests.sqlite");
    const log = openLog({ path });
    log.record(record());
    log.flush();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    expect(committedRows(path)).toBe(1);
  });

  it("keeps only the newest maxRows", () => {
    const log = openLog({ maxRows: 10 });
    const all = Array.from({ length: 25 }, () => record());
    for (const r of all.slice(0, 12)) log.record(r);
    log.flush();
    for (const r of all.slice(12)) log.record(r);
    const kept = log.recent({ limit: 100 });
    expect(kept.map((r) => r.id)).toEqual(
      all
        .slice(15)
        .reverse()
        .map((r) => r.id),
    );
  });

  it("masks credentials that an error message echoes", () => {
    const log = openLog();
    log.record(
      record({
        outcome: "error",
        errorMessage: `API key ${FAKE_GOOGLE_KEY} not valid; Bearer ${FAKE_OPENAI_KEY}`,
      }),
    );
    const [stored] = log.recent({ limit: 1 });
    expect(stored?.errorMessage).not.toContain(FAKE_GOOGLE_KEY);
    expect(stored?.errorMessage).not.toContain(FAKE_OPENAI_KEY);
    expect(redactSecrets("https://x/v1?key=secret123&alt=sse")).toBe("https://x/v1?key=[redacted]&alt=sse");
  });

  it("refuses a file written by a newer schema, naming the path", () => {
    const path = join(dir, "future.sqlite");
    const db = new Database(path);
    db.pragma("user_version = 99");
    db.close();
    expect(() => openRequestLog({ path, maxRows: 10 })).toThrow(/future\.sqlite.*newer ccgate/);
  });

  it("rejects a non-positive maxRows", () => {
    expect(() => openRequestLog({ path: ":memory:", maxRows: 0 })).toThrow(/maxRows/);
  });
});

describe("request log: buffering off the request path", () => {
  it("record() does not write; the timer flushes within the interval", async () => {
    const path = join(dir, "timer.sqlite");
    const log = openLog({ path, flushIntervalMs: 50 });
    log.record(record());
    log.record(record());
    expect(committedRows(path)).toBe(0);
    await vi.waitFor(() => expect(committedRows(path)).toBe(2), { timeout: 2000, interval: 10 });
  });

  it("a full batch is written on the next turn of the event loop", async () => {
    const path = join(dir, "batch.sqlite");
    const log = openLog({ path, flushIntervalMs: 60_000, flushBatch: 100 });
    for (let i = 0; i < 99; i++) log.record(record());
    await new Promise((resolve) => setImmediate(resolve));
    expect(committedRows(path)).toBe(0);
    log.record(record());
    expect(committedRows(path)).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(committedRows(path)).toBe(100);
  });

  it("close() writes what is pending; later records are counted as dropped", async () => {
    const path = join(dir, "close.sqlite");
    const log = openRequestLog({ path, maxRows: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) log.record(record());
    await log.close();
    await log.close();
    expect(committedRows(path)).toBe(5);
    log.record(record());
    expect(log.dropped).toBe(1);
    const reopened = openLog({ path });
    expect(reopened.recent({ limit: 10 })).toHaveLength(5);
  });

  it("drops the oldest beyond maxBuffered and counts them", () => {
    const log = openLog({ flushIntervalMs: 60_000, flushBatch: 1000, maxBuffered: 3 });
    const all = [record(), record(), record(), record(), record()];
    for (const r of all) log.record(r);
    expect(log.dropped).toBe(2);
    expect(log.recent({ limit: 10 }).map((r) => r.id)).toEqual([all[4]?.id, all[3]?.id, all[2]?.id]);
  });

  it("a failed write is reported through onError and counted, not swallowed", () => {
    const path = join(dir, "locked.sqlite");
    const errors: unknown[] = [];
    const log = openLog({ path, flushIntervalMs: 60_000, onError: (err) => errors.push(err) });
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      log.record(record());
      log.record(record());
      log.flush();
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/locked|busy/i);
    expect(log.dropped).toBe(2);
    log.record(record());
    expect(log.recent({ limit: 10 })).toHaveLength(1);
  });
});

describe("request log: summary", () => {
  it("counts, percentiles by nearest rank, groups and token totals since a time", () => {
    const log = openLog();
    const since = 1_800_000_000_000;
    log.record(record({ startedAt: since - 1, durationMs: 99_999, inputTokens: 1_000_000 }));
    for (let i = 1; i <= 100; i++) {
      log.record(
        record({
          startedAt: since + i,
          durationMs: i,
          ttfbMs: i % 2 === 0 ? i / 2 : undefined,
          route: i <= 60 ? "default" : "fast",
          target: i <= 30 ? "openai/gpt" : "gemini/pro",
          outcome: i % 10 === 0 ? "error" : i === 1 ? "aborted" : "ok",
          inputTokens: 10,
          outputTokens: i <= 50 ? 2 : undefined,
          cacheReadTokens: i === 7 ? 500 : undefined,
        }),
      );
    }
    const s = log.summary(since);
    expect(s).toMatchObject({ since, requests: 100, errors: 10, aborted: 1 });
    expect(s.latencyMs).toEqual({ p50: 50, p95: 95 });
    // 50 ttfb values 1..50: rank ⌈0.5·50⌉ = 25, ⌈0.95·50⌉ = 48.
    expect(s.ttfbMs).toEqual({ p50: 25, p95: 48 });
    expect(s.tokens).toEqual({ input: 1000, output: 100, cacheRead: 500 });
    expect(s.byRoute).toEqual([
      { name: "default", requests: 60, errors: 6 },
      { name: "fast", requests: 40, errors: 4 },
    ]);
    expect(s.byTarget).toEqual([
      { name: "gemini/pro", requests: 70, errors: 7 },
      { name: "openai/gpt", requests: 30, errors: 3 },
    ]);
  });

  it("is empty, not NaN, with no requests; a lone request is its own p50 and p95", () => {
    const log = openLog();
    expect(log.summary(0)).toEqual({
      since: 0,
      requests: 0,
      errors: 0,
      aborted: 0,
      byRoute: [],
      byTarget: [],
      latencyMs: null,
      ttfbMs: null,
      tokens: { input: 0, output: 0, cacheRead: 0 },
    });
    log.record(record({ durationMs: 42, ttfbMs: 7, route: undefined }));
    const s = log.summary(0);
    expect(s.latencyMs).toEqual({ p50: 42, p95: 42 });
    expect(s.byRoute).toEqual([{ name: null, requests: 1, errors: 0 }]);
  });
});

describe("defaultRequestLogPath", () => {
  it("follows XDG_STATE_HOME, else ~/.local/state; a relative XDG path is ignored", () => {
    expect(defaultRequestLogPath({ XDG_STATE_HOME: "/x/state" }, "/home/u")).toBe(
      "/x/state/ccgate/requests.sqlite",
    );
    expect(defaultRequestLogPath({}, "/home/u")).toBe("/home/u/.local/state/ccgate/requests.sqlite");
    expect(defaultRequestLogPath({ XDG_STATE_HOME: "rel" }, "/home/u")).toBe(
      "/home/u/.local/state/ccgate/requests.sqlite",
    );
  });
});
