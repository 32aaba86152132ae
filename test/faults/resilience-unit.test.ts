/**
 * Unit tests for src/resilience with a fake clock (issue 4): breaker transitions (consecutive
 * failures, ratio over a window with a minimum, exactly one half-open probe, doubling open
 * period), the bounded limiter queue, affinity TTL / spread / eviction, failure classification
 * with rules, the guard's refusals, and the attempt loop's summary of what the client sees.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { type ErrorClass, GatewayError } from "../../src/core/errors.js";
import { summarize } from "../../src/core/summarize-failures.js";
import type { Attempt } from "../../src/core/upstream.js";
import { Gateway } from "../../src/gateway.js";
import { AffinityTable, sessionKey } from "../../src/resilience/affinity.js";
import { CircuitBreaker } from "../../src/resilience/breaker.js";
import { classifyFailure } from "../../src/resilience/classify.js";
import { ResilienceGuard } from "../../src/resilience/guard.js";
import { Limiter } from "../../src/resilience/limiter.js";
import { type FailureRule, resilienceSchema } from "../../src/resilience/options.js";
import { ResilienceState, slotId } from "../../src/resilience/slots.js";
import { fakeClock } from "../helpers/fake-clock.js";

const breakerOptions = {
  consecutiveFailures: 3,
  failureRatio: 1,
  windowMs: 60_000,
  minRequests: 100,
  openMs: 1_000,
  maxOpenMs: 3_000,
};

describe("CircuitBreaker", () => {
  it("opens after N consecutive failures; a success in between resets the count", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker(breakerOptions, clock.now);
    b.onFailure();
    b.onFailure();
    b.onSuccess();
    b.onFailure();
    b.onFailure();
    expect(b.state).toBe("closed");
    expect(b.tryPass()).toBe("pass");
    b.onFailure();
    expect(b.state).toBe("open");
    expect(b.tryPass()).toBe("reject");
    expect(b.reopensAt).toBe(clock.now() + 1_000);
  });

  it("opens on the failure ratio over the window once it holds the minimum of requests", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker(
      { ...breakerOptions, consecutiveFailures: 100, failureRatio: 0.5, minRequests: 4, windowMs: 10_000 },
      clock.now,
    );
    b.onFailure();
    b.onSuccess();
    b.onFailure(); // 2 of 3 failed, but fewer than 4 requests in the window
    expect(b.state).toBe("closed");
    b.onSuccess();
    b.onFailure(); // 3 of 5 ≥ 50 %
    expect(b.state).toBe("open");
  });

  it("forgets failures that slid out of the window", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker(
      { ...breakerOptions, consecutiveFailures: 100, failureRatio: 0.5, minRequests: 4, windowMs: 10_000 },
      clock.now,
    );
    b.onFailure();
    b.onFailure();
    b.onFailure();
    clock.advance(10_001);
    b.onSuccess();
    b.onSuccess();
    b.onSuccess();
    b.onFailure(); // window: S S S F → 25 %
    expect(b.state).toBe("closed");
  });

  it("lets exactly one half-open probe through; a good probe closes it", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ ...breakerOptions, consecutiveFailures: 1 }, clock.now);
    b.onFailure();
    clock.advance(999);
    expect(b.state).toBe("open");
    expect(b.wouldPass()).toBe(false);
    clock.advance(1);
    expect(b.state).toBe("half_open");
    expect(b.wouldPass()).toBe(true);
    expect(b.tryPass()).toBe("probe");
    expect(b.tryPass()).toBe("reject");
    expect(b.tryPass()).toBe("reject");
    expect(b.wouldPass()).toBe(false);
    b.onSuccess();
    expect(b.state).toBe("closed");
    expect(b.tryPass()).toBe("pass");
    expect(b.tryPass()).toBe("pass");
  });

  it("a probe handed back unused lets the next caller probe", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ ...breakerOptions, consecutiveFailures: 1 }, clock.now);
    b.onFailure();
    clock.advance(1_000);
    expect(b.tryPass()).toBe("probe");
    b.releaseProbe();
    expect(b.tryPass()).toBe("probe");
    expect(b.tryPass()).toBe("reject");
  });

  it("a failed probe re-opens for twice as long, capped; closing resets the period", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ ...breakerOptions, consecutiveFailures: 1 }, clock.now);
    b.onFailure(); // open 1 s
    const periods: number[] = [];
    for (let i = 0; i < 4; i++) {
      const opened = clock.now();
      const reopens = b.reopensAt;
      periods.push(reopens - opened);
      clock.advance(reopens - opened - 1);
      expect(b.tryPass()).toBe("reject");
      clock.advance(1);
      expect(b.tryPass()).toBe("probe");
      b.onFailure();
      expect(b.state).toBe("open");
    }
    expect(periods).toEqual([1_000, 2_000, 3_000, 3_000]);
    clock.advance(3_000);
    expect(b.tryPass()).toBe("probe");
    b.onSuccess();
    b.onFailure(); // consecutiveFailures 1: opens again, for the base period
    expect(b.reopensAt - clock.now()).toBe(1_000);
  });

  it("reset() closes it and clears the window", () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ ...breakerOptions, consecutiveFailures: 2 }, clock.now);
    b.onFailure();
    b.onFailure();
    expect(b.state).toBe("open");
    b.reset();
    expect(b.state).toBe("closed");
    expect(b.reopensAt).toBe(0);
    b.onFailure();
    expect(b.state).toBe("closed");
  });
});

describe("Limiter", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("admits up to max, then queues at most queueMax waiters and refuses the rest at once", async () => {
    const limiter = new Limiter(1, 2);
    const first = limiter.tryAcquire();
    expect(first).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
    const signal = new AbortController().signal;
    const w1 = limiter.acquire(10_000, signal);
    const w2 = limiter.acquire(10_000, signal);
    expect(limiter.queued).toBe(2);
    await expect(limiter.acquire(10_000, signal)).resolves.toBeUndefined();
    first!();
    first!(); // idempotent
    const r1 = await w1;
    expect(r1).toBeDefined();
    expect(limiter.inFlight).toBe(1);
    expect(limiter.queued).toBe(1);
    r1!();
    const r2 = await w2;
    expect(r2).toBeDefined();
    r2!();
    expect(limiter.inFlight).toBe(0);
    expect(limiter.hasRoom()).toBe(true);
  });

  it("a waiter gives up after its timeout, or when its signal aborts", async () => {
    vi.useFakeTimers();
    const limiter = new Limiter(1, 4);
    const held = limiter.tryAcquire()!;
    const timed = limiter.acquire(500, new AbortController().signal);
    const controller = new AbortController();
    const aborted = limiter.acquire(10_000, controller.signal);
    expect(limiter.queued).toBe(2);
    vi.advanceTimersByTime(499);
    expect(limiter.queued).toBe(2);
    vi.advanceTimersByTime(1);
    await expect(timed).resolves.toBeUndefined();
    controller.abort();
    await expect(aborted).resolves.toBeUndefined();
    expect(limiter.queued).toBe(0);
    held();
    expect(limiter.inFlight).toBe(0);
  });

  it("max 0 is unlimited; queue 0 never waits", async () => {
    const unlimited = new Limiter(0, 0);
    for (let i = 0; i < 100; i++) expect(unlimited.tryAcquire()).toBeDefined();
    const one = new Limiter(1, 0);
    one.tryAcquire();
    await expect(one.acquire(10_000, new AbortController().signal)).resolves.toBeUndefined();
  });
});

describe("AffinityTable", () => {
  it("binds, renews the TTL on lookup, expires, and keeps per-slot load", () => {
    const clock = fakeClock();
    const table = new AffinityTable(1_000, 10, clock.now);
    table.bind("s1", "gem/m#1");
    table.bind("s2", "gem/m#1");
    table.bind("s3", "gem/m#2");
    expect(table.load("gem/m#1")).toBe(2);
    clock.advance(900);
    expect(table.lookup("s1")).toBe("gem/m#1"); // renewed until +1900
    clock.advance(200);
    expect(table.lookup("s2")).toBeUndefined(); // expired at +1000
    expect(table.lookup("s1")).toBe("gem/m#1");
    expect(table.load("gem/m#1")).toBe(1);
    expect(table.lookup("s3")).toBeUndefined();
    expect(table.load("gem/m#2")).toBe(0);
    expect(table.size).toBe(1);
  });

  it("rebinding moves the load; release drops it", () => {
    const table = new AffinityTable(60_000, 10);
    table.bind("s1", "a");
    table.bind("s1", "b");
    expect(table.load("a")).toBe(0);
    expect(table.load("b")).toBe(1);
    table.release("s1");
    expect(table.load("b")).toBe(0);
    expect(table.lookup("s1")).toBeUndefined();
  });

  it("evicts the oldest binding at maxSessions", () => {
    const table = new AffinityTable(60_000, 3);
    for (const s of ["s1", "s2", "s3", "s4"]) table.bind(s, "a");
    expect(table.size).toBe(3);
    expect(table.lookup("s1")).toBeUndefined();
    expect(table.lookup("s4")).toBe("a");
    expect(table.load("a")).toBe(3);
  });

  it("finds the session in the header, Claude Code's JSON user_id, or the legacy user_id form", () => {
    const uuid = "0f6d3a4e-8c1b-4d2a-9e7f-1a2b3c4d5e6f";
    expect(sessionKey({ "x-claude-code-session-id": "hdr" }, "ignored")).toBe("hdr");
    expect(sessionKey({}, JSON.stringify({ session_id: "json" }))).toBe("json");
    expect(sessionKey({}, `user_abc_account__session_${uuid}`)).toBe(uuid);
    expect(sessionKey({}, "{not json")).toBeUndefined();
    expect(sessionKey(undefined, undefined)).toBeUndefined();
  });
});

/** A gateway built from config only (no server, no I/O) for plan/guard tests. */
function offlineGateway(keys: string[], resilience: Record<string, unknown> = {}) {
  const config = configSchema.parse({
    providers: [
      { name: "gem", type: "gemini", baseUrl: "http://127.0.0.1:9", apiKeys: keys },
      { name: "oai", type: "openai", baseUrl: "http://127.0.0.1:9/v1", apiKeys: ["sk-1"] },
    ],
    routes: [{ name: "all", match: ["*"], targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"] }],
  });
  Object.assign(config, { resilience: { probe: { enabled: false }, ...resilience } });
  return new Gateway(config);
}

describe("key spreading and affinity in the plan", () => {
  it("puts the least-bound key first for a new session and the bound slot first for a known one", async () => {
    const gateway = offlineGateway(["k-one-xxxxxxxx", "k-two-xxxxxxxx", "k-three-xxxxxx"]);
    try {
      const table = gateway.state.affinity;
      table.bind("s-a", "gem/gemini-2.5-pro#1");
      table.bind("s-b", "gem/gemini-2.5-pro#1");
      // Bindings are per session and route (the plan names the key it binds under).
      const keyOf = (session: string) =>
        gateway.plan({ model: "claude-sonnet-4-6", headers: { "x-claude-code-session-id": session } })
          .affinityKey!;
      table.bind(keyOf("s-c"), "gem/gemini-2.5-pro#3");
      const slots = (headers: Record<string, string>) =>
        gateway.plan({ model: "claude-sonnet-4-6", headers }).attempts.map((a) => slotId(a));
      for (let i = 0; i < 3; i++) {
        // Whatever the rotation, the unbound key #2 leads, the twice-bound #1 comes last.
        const order = slots({ "x-claude-code-session-id": `new-${i}` });
        expect(order.slice(0, 3)).toEqual([
          "gem/gemini-2.5-pro#2",
          "gem/gemini-2.5-pro#3",
          "gem/gemini-2.5-pro#1",
        ]);
        expect(order[3]).toBe("oai/gpt-fake#1");
      }
      for (let i = 0; i < 3; i++)
        expect(slots({ "x-claude-code-session-id": "s-c" })[0]).toBe("gem/gemini-2.5-pro#3");
      // Without sessions every key gets to lead in turn (rotation).
      const leaders = new Set<string>();
      const fresh = offlineGateway(["k-one-xxxxxxxx", "k-two-xxxxxxxx", "k-three-xxxxxx"]);
      for (let i = 0; i < 3; i++) leaders.add(slotId(fresh.plan({ model: "m", headers: {} }).attempts[0]!));
      await fresh.close();
      expect(leaders.size).toBe(3);
    } finally {
      await gateway.close();
    }
  });
});

function error(cls: ErrorClass, extra: Partial<ConstructorParameters<typeof GatewayError>[0]> = {}) {
  return new GatewayError({
    code: extra.code ?? "X",
    message: extra.message ?? "boom",
    status: extra.status ?? 500,
    type: extra.type ?? "api_error",
    class: cls,
    retryAfterSeconds: extra.retryAfterSeconds,
    upstreamStatus: extra.upstreamStatus,
  });
}

describe("classifyFailure", () => {
  const options = resilienceSchema.parse({
    rateLimitBaseMs: 1_000,
    rateLimitMaxMs: 8_000,
    authCooldownMs: 60_000,
  });

  it("decides by class when no rule matches", () => {
    expect(classifyFailure(error("transient"), [], options, 0)).toEqual({
      action: "retry_same",
      cooldownMs: undefined,
      countsForBreaker: true,
      disablesKey: false,
    });
    expect(classifyFailure(error("rate_limit", { retryAfterSeconds: 7 }), [], options, 1)).toMatchObject({
      action: "next_key",
      cooldownMs: 7_000,
      countsForBreaker: false,
    });
    // Without Retry-After: 1 s, 2 s, 4 s, 8 s, capped at 8 s.
    const backoff = [1, 2, 3, 4, 5].map(
      (n) => classifyFailure(error("rate_limit"), [], options, n).cooldownMs,
    );
    expect(backoff).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
    expect(classifyFailure(error("auth"), [], options, 0)).toMatchObject({
      action: "next_key",
      cooldownMs: 60_000,
      disablesKey: true,
      countsForBreaker: false,
    });
    for (const cls of ["permanent", "client"] as const)
      expect(classifyFailure(error(cls), [], options, 0)).toMatchObject({
        action: "stop",
        countsForBreaker: false,
      });
  });

  it("applies the first matching rule (status, type, code, message), keeping the breaker signal", () => {
    const rules: FailureRule[] = [
      { when: { status: [400, 404], message: "model .* not found" }, action: "next_target" },
      { when: { code: "UPSTREAM_IDLE_TIMEOUT" }, action: "next_key", cooldownMs: 5_000 },
      { when: { type: "overloaded_error" }, action: "next_target" },
      { when: { status: 500 }, action: "stop" },
    ];
    const notFound = error("permanent", { status: 404, upstreamStatus: 404, message: "Model FOO not found" });
    expect(classifyFailure(notFound, rules, options, 0)).toMatchObject({ action: "next_target" });
    // The status is the upstream's, not the one the client would see.
    const mapped = error("permanent", { status: 400, upstreamStatus: 422, message: "model x not found" });
    expect(classifyFailure(mapped, rules, options, 0).action).toBe("stop");
    const idle = error("transient", { code: "UPSTREAM_IDLE_TIMEOUT", type: "overloaded_error" });
    expect(classifyFailure(idle, rules, options, 0)).toEqual({
      action: "next_key",
      cooldownMs: 5_000,
      countsForBreaker: true,
      disablesKey: false,
    });
    const overloaded = error("transient", { type: "overloaded_error", status: 529, upstreamStatus: 503 });
    expect(classifyFailure(overloaded, rules, options, 0).action).toBe("next_target");
    const server = error("transient", { status: 500, upstreamStatus: 500 });
    expect(classifyFailure(server, rules, options, 0)).toMatchObject({
      action: "stop",
      cooldownMs: undefined,
    });
    // A rule on a rate limit keeps the class's cooldown unless it sets its own.
    const limited = error("rate_limit", { status: 429, upstreamStatus: 429, retryAfterSeconds: 3 });
    expect(
      classifyFailure(limited, [{ when: { status: 429 }, action: "next_target" }], options, 1),
    ).toMatchObject({ action: "next_target", cooldownMs: 3_000 });
  });
});

describe("ResilienceGuard with a fake clock", () => {
  function guardFor(keys: string[], resilience: Record<string, unknown> = {}) {
    const gateway = offlineGateway(keys, resilience);
    const clock = fakeClock();
    const state = new ResilienceState(gateway.resilience, clock.now);
    const guard = new ResilienceGuard(
      state,
      () => [],
      () => ({ perProvider: gateway.resilience.concurrency.perProvider, perKey: 0 }),
    );
    const attempts = gateway.plan({ model: "m", headers: {} }).attempts;
    const byKey = (n: number): Attempt => attempts.find((a) => a.key?.id === `gem#${n}`)!;
    return { gateway, clock, state, guard, byKey };
  }

  it("a rate-limited key is refused until its Retry-After, then admitted again", async () => {
    const { gateway, clock, guard, byKey } = guardFor(["k-one-xxxxxxxx", "k-two-xxxxxxxx"]);
    const a = byKey(1);
    const admission = guard.admit(a);
    expect("refused" in admission).toBe(false);
    if ("refused" in admission) return;
    const outcome = guard.onFailure(a, admission, error("rate_limit", { retryAfterSeconds: 2 }), undefined);
    expect(outcome.action).toBe("next_key");
    expect(guard.admit(a)).toEqual({ refused: "cooling", retryAfterMs: 2_000 });
    expect("refused" in guard.admit(byKey(2))).toBe(false);
    clock.advance(1_999);
    expect(guard.admit(a)).toMatchObject({ refused: "cooling", retryAfterMs: 1 });
    clock.advance(1);
    expect("refused" in guard.admit(a)).toBe(false);
    await gateway.close();
  });

  it("a rejected key is disabled for authCooldownMs", async () => {
    const { gateway, clock, guard, byKey } = guardFor(["k-one-xxxxxxxx"], { authCooldownMs: 5_000 });
    const a = byKey(1);
    const admission = guard.admit(a);
    if ("refused" in admission) throw new Error("refused");
    guard.onFailure(a, admission, error("auth", { status: 401 }), undefined);
    expect(guard.admit(a)).toEqual({ refused: "disabled", retryAfterMs: 5_000 });
    clock.advance(5_000);
    expect("refused" in guard.admit(a)).toBe(false);
    await gateway.close();
  });

  it("an open breaker refuses with the time to its probe; an unreported probe is handed back on release", async () => {
    const { gateway, clock, guard, state, byKey } = guardFor(["k-one-xxxxxxxx"], {
      breaker: { consecutiveFailures: 1, openMs: 1_000 },
    });
    const a = byKey(1);
    const first = guard.admit(a);
    if ("refused" in first) throw new Error("refused");
    guard.onFailure(a, first, error("transient"), undefined);
    expect(guard.admit(a)).toEqual({ refused: "open", retryAfterMs: 1_000 });
    clock.advance(1_000);
    const probe = guard.admit(a);
    if ("refused" in probe) throw new Error("refused");
    expect(probe.probe).toBe(true);
    expect(guard.admit(a)).toMatchObject({ refused: "open" });
    probe.release(); // e.g. the client went away before the probe reported
    const again = guard.admit(a);
    if ("refused" in again) throw new Error("refused");
    expect(again.probe).toBe(true);
    guard.onSuccess(a, again, undefined);
    expect(state.slot(slotId(a)).breaker.state).toBe("closed");
    await gateway.close();
  });

  it("refuses 'full' at the provider limit and frees the slot on release", async () => {
    const { gateway, guard, byKey } = guardFor(["k-one-xxxxxxxx", "k-two-xxxxxxxx"], {
      concurrency: { perProvider: 1 },
    });
    const held = guard.admit(byKey(1));
    if ("refused" in held) throw new Error("refused");
    expect(guard.admit(byKey(2))).toEqual({ refused: "full" });
    held.release();
    expect("refused" in guard.admit(byKey(2))).toBe(false);
    await gateway.close();
  });

  it("a failure on the bound slot releases the session", async () => {
    const { gateway, guard, state, byKey } = guardFor(["k-one-xxxxxxxx"]);
    const a = byKey(1);
    const ok = guard.admit(a);
    if ("refused" in ok) throw new Error("refused");
    guard.onSuccess(a, ok, "sess");
    expect(state.affinity.lookup("sess")).toBe(slotId(a));
    const bad = guard.admit(a);
    if ("refused" in bad) throw new Error("refused");
    guard.onFailure(a, bad, error("transient"), "sess");
    expect(state.affinity.lookup("sess")).toBeUndefined();
    await gateway.close();
  });
});

describe("summarize: what the client sees when nothing committed", () => {
  it("all rate limits → 429 with the soonest wait (cooling refusals included)", () => {
    const e = summarize(
      [error("rate_limit", { retryAfterSeconds: 40 }), error("rate_limit", { retryAfterSeconds: 12 })],
      [{ refused: "cooling", retryAfterMs: 9_500 }],
    );
    expect(e).toMatchObject({ status: 429, type: "rate_limit_error", retryAfterSeconds: 10 });
  });

  it("a real failure wins over refusals when not every failure is a rate limit", () => {
    const last = error("transient", { status: 529, type: "overloaded_error", code: "LAST" });
    expect(summarize([error("rate_limit"), last], [{ refused: "open", retryAfterMs: 5_000 }])).toBe(last);
  });

  it("only refusals: cooling → 429, full → 529 at once, open → 503 with the soonest reopening", () => {
    expect(
      summarize(
        [],
        [
          { refused: "cooling", retryAfterMs: 3_000 },
          { refused: "disabled", retryAfterMs: 60_000 },
        ],
      ),
    ).toMatchObject({ code: "ALL_KEYS_COOLING", status: 429, retryAfterSeconds: 3 });
    expect(summarize([], [{ refused: "full" }, { refused: "open", retryAfterMs: 100 }])).toMatchObject({
      code: "OVERLOADED",
      status: 529,
      retryAfterSeconds: 1,
    });
    expect(
      summarize(
        [],
        [
          { refused: "open", retryAfterMs: 20_000 },
          { refused: "open", retryAfterMs: 4_200 },
        ],
      ),
    ).toMatchObject({
      code: "ALL_TARGETS_OPEN",
      status: 503,
      type: "api_error",
      retryAfterSeconds: 5,
    });
    // A breaker that reopens in minutes is told as at most 60 s: Claude Code gives up on more.
    expect(summarize([], [{ refused: "open", retryAfterMs: 240_000 }])).toMatchObject({
      code: "ALL_TARGETS_OPEN",
      retryAfterSeconds: 60,
    });
    // A quota reset hours away is told as it is.
    expect(summarize([], [{ refused: "cooling", retryAfterMs: 3_600_000 }])).toMatchObject({
      code: "ALL_KEYS_COOLING",
      retryAfterSeconds: 3_600,
    });
  });
});
