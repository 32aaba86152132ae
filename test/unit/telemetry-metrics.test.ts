import { describe, expect, it } from "vitest";
import { combineSinks } from "../../src/telemetry/combine-sinks.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import type { RequestRecord, RequestSink } from "../../src/telemetry/request-record.js";
import { requestRecord } from "../helpers/request-records.js";

function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return requestRecord({
    id: "req_1",
    durationMs: 1500,
    ttfbMs: 300,
    route: "default",
    keyLabel: "…abcd",
    inputTokens: 100,
    outputTokens: 20,
    cacheReadTokens: 30,
    ...overrides,
  });
}

/** The value of one exposition line, found by its exact series name with labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics", () => {
  it("keeps the number of target labels bounded: client-chosen model names beyond 200 count as other", async () => {
    const m = createMetrics({ processMetrics: false });
    for (let i = 0; i < 260; i++) m.observe(record({ target: `any/model-${i}` }));
    m.observe(record({ target: "any/model-0" })); // a known one keeps its own label
    const text = await m.text();
    const targets = new Set(
      [...text.matchAll(/^ccgate_requests_total\{[^}]*target="([^"]+)"/gm)].map((match) => match[1]),
    );
    expect(targets.size).toBe(201);
    expect(targets.has("other")).toBe(true);
    expect(targets.has("any/model-199")).toBe(true);
    expect(targets.has("any/model-200")).toBe(false);
    expect(
      sample(
        text,
        'ccgate_requests_total{endpoint="messages",route="default",target="other",outcome="ok",status="200"}',
      ),
    ).toBe(60);
    expect(
      sample(
        text,
        'ccgate_requests_total{endpoint="messages",route="default",target="any/model-0",outcome="ok",status="200"}',
      ),
    ).toBe(2);
  });

  it("counts requests, durations, first byte, tokens and attempts per record", async () => {
    const m = createMetrics({ processMetrics: false });
    m.observe(record());
    m.observe(record({ durationMs: 40_000, ttfbMs: undefined, inputTokens: 5, cacheReadTokens: undefined }));
    m.record(
      record({
        route: undefined,
        target: undefined,
        stream: false,
        status: 529,
        outcome: "error",
        attempts: 3,
        inputTokens: undefined,
        outputTokens: undefined,
        cacheReadTokens: undefined,
      }),
    );
    const text = await m.text();
    const ok = 'endpoint="messages",route="default",target="gemini/gemini-2.5-pro",outcome="ok",status="200"';
    expect(sample(text, `ccgate_requests_total{${ok}}`)).toBe(2);
    expect(
      sample(
        text,
        'ccgate_requests_total{endpoint="messages",route="none",target="none",outcome="error",status="529"}',
      ),
    ).toBe(1);
    const d = 'route="default",target="gemini/gemini-2.5-pro",stream="true"';
    expect(sample(text, `ccgate_request_duration_seconds_count{${d}}`)).toBe(2);
    expect(sample(text, `ccgate_request_duration_seconds_sum{${d}}`)).toBe(41.5);
    expect(sample(text, `ccgate_request_duration_seconds_bucket{le="2.5",${d}}`)).toBe(1);
    expect(sample(text, `ccgate_request_duration_seconds_bucket{le="60",${d}}`)).toBe(2);
    expect(sample(text, `ccgate_time_to_first_byte_seconds_count{${d}}`)).toBe(1);
    expect(sample(text, `ccgate_time_to_first_byte_seconds_sum{${d}}`)).toBe(0.3);
    const t = 'target="gemini/gemini-2.5-pro"';
    expect(sample(text, `ccgate_tokens_total{direction="input",${t}}`)).toBe(105);
    expect(sample(text, `ccgate_tokens_total{direction="output",${t}}`)).toBe(40);
    expect(sample(text, `ccgate_tokens_total{direction="cache_read",${t}}`)).toBe(30);
    expect(sample(text, 'ccgate_upstream_attempts_total{route="default"}')).toBe(2);
    expect(sample(text, 'ccgate_upstream_attempts_total{route="none"}')).toBe(3);
    expect(text).not.toContain("process_cpu");
  });

  it("fills key and in-flight gauges from the status snapshot on every scrape", async () => {
    const now = Date.now();
    let status: unknown = {
      version: "0.1.0",
      providers: [
        {
          name: "gemini",
          type: "gemini",
          inFlight: 3,
          keys: [
            { id: "gemini#1", label: "…aaaa", state: "ok", cooldownUntil: null, inFlight: 2 },
            {
              id: "gemini#2",
              label: "…bbbb",
              state: "disabled",
              cooldownUntil: new Date(now + 60_000).toISOString(),
              inFlight: 1,
            },
          ],
        },
        { name: "relay", type: "anthropic", keys: [] },
      ],
      targets: [],
    };
    const m = createMetrics({ processMetrics: false, status: () => status });
    let text = await m.text();
    expect(sample(text, 'ccgate_key_state{provider="gemini",key="gemini#1",state="ok"}')).toBe(1);
    expect(sample(text, 'ccgate_key_state{provider="gemini",key="gemini#1",state="disabled"}')).toBe(0);
    expect(sample(text, 'ccgate_key_state{provider="gemini",key="gemini#2",state="disabled"}')).toBe(1);
    expect(sample(text, 'ccgate_key_state{provider="gemini",key="gemini#2",state="ok"}')).toBe(0);
    const cooldown = sample(text, 'ccgate_key_cooldown_seconds{provider="gemini",key="gemini#2"}');
    expect(cooldown).toBeGreaterThan(55);
    expect(cooldown).toBeLessThanOrEqual(60);
    expect(sample(text, 'ccgate_key_inflight{provider="gemini",key="gemini#1"}')).toBe(2);
    expect(sample(text, 'ccgate_inflight{provider="gemini"}')).toBe(3);
    expect(text).not.toContain('ccgate_inflight{provider="relay"}');
    expect(text).not.toContain("…aaaa");

    status = { providers: [{ name: "gemini", keys: [{ id: "gemini#1", state: "cooling" }] }] };
    text = await m.text();
    expect(sample(text, 'ccgate_key_state{provider="gemini",key="gemini#1",state="cooling"}')).toBe(1);
    expect(text).not.toContain("gemini#2");
  });

  it("fails the scrape loudly when the status snapshot lost its shape", async () => {
    const m = createMetrics({ processMetrics: false, status: () => ({ providers: "nope" }) });
    await expect(m.text()).rejects.toThrow(/status snapshot.*providers/s);
  });

  it("has process metrics on its own registry; two instances do not collide", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.observe(record());
    expect(await a.text()).toContain("process_cpu_user_seconds_total");
    expect(await b.text()).not.toContain("ccgate_requests_total{");
    expect(a.contentType).toMatch(/^text\/plain/);
  });
});

describe("combineSinks", () => {
  it("gives every sink the record even when one throws, then throws that error", async () => {
    const seen: string[] = [];
    const broken: RequestSink = {
      record() {
        throw new Error("disk full");
      },
      close() {},
    };
    const good = (name: string): RequestSink => ({
      record: (r) => seen.push(`${name}:${r.id}`),
      close: async () => {
        seen.push(`${name}:closed`);
      },
    });
    const sink = combineSinks(good("a"), broken, undefined, good("b"));
    expect(() => sink.record(record())).toThrow("disk full");
    expect(seen).toEqual(["a:req_1", "b:req_1"]);
    await sink.close();
    expect(seen).toEqual(["a:req_1", "b:req_1", "a:closed", "b:closed"]);
  });

  it("reports every failing close", async () => {
    const failing = (msg: string): RequestSink => ({
      record() {},
      close: () => Promise.reject(new Error(msg)),
    });
    await expect(combineSinks(failing("x"), failing("y")).close()).rejects.toThrow(AggregateError);
    await expect(combineSinks().close()).resolves.toBeUndefined();
  });
});
