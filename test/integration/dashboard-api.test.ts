/**
 * The dashboard API over real HTTP: the real app (buildApp with a real Gateway, so `/api/status`
 * is the real snapshot), the dashboard routes, and a real request log in a temp SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/gateway.js";
import { buildApp } from "../../src/http/app.js";
import { combineSinks } from "../../src/telemetry/combine-sinks.js";
import { openRequestLog, type RequestLog } from "../../src/telemetry/request-log.js";
import type { RequestRecord } from "../../src/telemetry/request-record.js";
import { requestRecord } from "../helpers/request-records.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(env: Record<string, string> = {}, withLog = true) {
  const dir = mkdtempSync(join(tmpdir(), "ccgate-dash-"));
  const { config } = loadConfig({
    cwd: dir,
    env: { CCGATE_PORT: "0", GEMINI_API_KEY: "k-one,k-two", ...env },
  });
  config.resilience.probe.enabled = false;
  const gateway = new Gateway(config);
  const log = withLog ? openRequestLog({ path: join(dir, "requests.sqlite"), maxRows: 1000 }) : undefined;
  const sink = combineSinks(log);
  const app = buildApp(() => gateway, {
    logger: false,
    telemetry: { log, metrics: undefined, sink, close: async () => sink.close() },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(async () => {
    await app.close();
    await gateway.close();
    await log?.close();
  });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  return { log, get, url: `http://127.0.0.1:${port}` };
}

let n = 0;
function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  n++;
  return requestRecord({
    id: `req_${n}`,
    startedAt: Date.now() - 60_000 + n,
    durationMs: n * 10,
    ttfbMs: n,
    ...overrides,
  });
}

function seed(log: RequestLog | undefined, records: RequestRecord[]): void {
  if (log === undefined) throw new Error("no request log");
  for (const r of records) log.record(r);
}

describe("GET /api/requests", () => {
  it("lists recorded requests newest first with every column (absent = null), filtered", async () => {
    const { log, get } = await start();
    const a = record();
    const b = record({ outcome: "error", status: 529, errorType: "overloaded_error", errorMessage: "busy" });
    const c = record({ route: "haiku", target: undefined });
    seed(log, [a, b, c]);
    // No explicit flush: the API must see records still in the buffer.
    const all = await get("/api/requests?limit=100");
    expect(all.status).toBe(200);
    expect(all.body.enabled).toBe(true);
    const data = all.body.data as Record<string, unknown>[];
    expect(data.map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(data[0]).toMatchObject({ route: "haiku", target: null, cacheReadTokens: null, stream: true });
    expect(Object.keys(data[0] ?? {}).sort()).toEqual(Object.keys(a).sort());

    const errors = await get("/api/requests?outcome=error");
    expect((errors.body.data as { id: string }[]).map((r) => r.id)).toEqual([b.id]);
    const byRoute = await get("/api/requests?route=sonnet&limit=1");
    expect((byRoute.body.data as { id: string }[]).map((r) => r.id)).toEqual([b.id]);
    const older = await get(`/api/requests?before=${b.startedAt}`);
    expect((older.body.data as { id: string }[]).map((r) => r.id)).toEqual([a.id]);
  });

  it("answers 400 in the Anthropic error shape for bad parameters", async () => {
    const { get } = await start();
    for (const q of ["limit=0", "limit=5000", "limit=abc", "outcome=maybe", "before=-1"]) {
      const res = await get(`/api/requests?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
      expect(String((res.body.error as { message: string }).message), q).toMatch(/limit|outcome|before/);
    }
  });

  it("says the log is disabled instead of failing", async () => {
    const { get } = await start({}, false);
    expect((await get("/api/requests")).body).toEqual({ enabled: false, data: [] });
    expect((await get("/api/summary")).body).toEqual({ enabled: false, windowMs: 3_600_000 });
  });

  it("is behind the gateway token like every API route", async () => {
    const { get } = await start({ CCGATE_AUTH_TOKEN: "s3cret-token" });
    expect((await get("/api/requests")).status).toBe(401);
    expect((await get("/api/summary")).status).toBe(401);
    expect((await get("/api/status")).status).toBe(401);
    expect((await get("/api/requests", { "x-api-key": "s3cret-token" })).status).toBe(200);
  });
});

describe("GET /api/summary", () => {
  it("summarises the window: counts, percentiles, groups, tokens", async () => {
    const { log, get } = await start();
    const old = record({ startedAt: Date.now() - 2 * 3_600_000, durationMs: 1e6 });
    const recent = Array.from({ length: 20 }, (_, i) =>
      record({ durationMs: (i + 1) * 100, outcome: i < 2 ? "error" : "ok", cacheReadTokens: 5 }),
    );
    seed(log, [old, ...recent]);
    const res = await get("/api/summary?windowMs=3600000");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      enabled: true,
      windowMs: 3_600_000,
      requests: 20,
      errors: 2,
      aborted: 0,
      latencyMs: { p50: 1000, p95: 1900 },
      tokens: { input: 2000, output: 200, cacheRead: 100 },
      byRoute: [{ name: "sonnet", requests: 20, errors: 2 }],
    });
    const wide = await get("/api/summary?windowMs=86400000");
    expect(wide.body.requests).toBe(21);
    expect((await get("/api/summary?windowMs=5")).status).toBe(400);
  });
});

describe("GET /api/status and /dashboard", () => {
  it("serves the gateway snapshot with named keys, never secrets", async () => {
    const { get } = await start();
    const res = await get("/api/status");
    expect(res.status).toBe(200);
    const providers = res.body.providers as { name: string; keys: { label: string; state: string }[] }[];
    expect(providers[0]?.name).toBe("gemini");
    expect(providers[0]?.keys.map((k) => k.label)).toEqual(["GEMINI_API_KEY#1", "GEMINI_API_KEY#2"]);
    expect(JSON.stringify(res.body)).not.toContain("k-one");
  });

  it("serves a self-contained page with a CSP that allows only its own inline blocks", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toMatch(/connect-src 'self'/);
    const html = await res.text();
    expect(html).toContain('id="requests-body"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain("innerHTML");
  });
});
