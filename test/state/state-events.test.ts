/**
 * The shared-state hooks without Redis: which local transitions the ResilienceState reports
 * (and that applying another instance's event never reports again), the event round trip
 * between two states, lenient parsing of messages, the Redis key layout, and an unreachable
 * Redis: start-up does not hang, requests' hooks never throw, and it is logged once.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { GatewayError } from "../../src/core/errors.js";
import type { Attempt } from "../../src/core/upstream.js";
import { Gateway } from "../../src/gateway.js";
import { ResilienceGuard } from "../../src/resilience/guard.js";
import { resilienceSchema } from "../../src/resilience/options.js";
import { ResilienceState, type StateListener } from "../../src/resilience/slots.js";
import { applyEvent, localEvents } from "../../src/state/apply-event.js";
import { RedisSharedState } from "../../src/state/redis-shared-state.js";
import { MemoryState } from "../../src/state/shared-state.js";
import {
  holdsUntil,
  parseEvent,
  parseMessage,
  type StateEvent,
  storageKey,
} from "../../src/state/state-events.js";
import { fakeClock } from "../helpers/fake-clock.js";

/** A listener that records what it is told, as events. */
function recorder(): StateListener & { seen: StateEvent[] } {
  const seen: StateEvent[] = [];
  return {
    seen,
    onKeyDisabled: (key, until) => seen.push({ kind: "key", key, until }),
    onCooldown: (slot, until) => seen.push({ kind: "cooldown", slot, until }),
    onBreaker: (slot, state, reopensAt) => seen.push({ kind: "breaker", slot, state, reopensAt }),
    onBind: (session, slot, until) => seen.push({ kind: "bind", session, slot, until }),
    onRelease: (session) => seen.push({ kind: "release", session }),
  };
}

const options = resilienceSchema.parse({
  breaker: { consecutiveFailures: 2, openMs: 10_000 },
  affinity: { ttlMs: 60_000 },
  authCooldownMs: 600_000,
});

function offlineGateway(): Gateway {
  const config = configSchema.parse({
    providers: [
      {
        name: "gem",
        type: "gemini",
        baseUrl: "http://127.0.0.1:9",
        apiKeys: ["k-one-xxxxxxxx", "k-two-xxxxxxxx"],
      },
    ],
    routes: [{ name: "all", match: ["*"], targets: ["gem/gemini-2.5-pro"] }],
  });
  return new Gateway(config);
}

function failure(cls: "rate_limit" | "auth" | "transient", retryAfterSeconds?: number): GatewayError {
  return new GatewayError({
    code: "X",
    message: "boom",
    status: 500,
    type: "api_error",
    class: cls,
    retryAfterSeconds,
  });
}

describe("ResilienceState transitions for sharing", () => {
  it("reports cooldowns, rejected keys, breaker opens/closes, binds and releases from the guard", async () => {
    const gateway = offlineGateway();
    const clock = fakeClock();
    const state = new ResilienceState(options, clock.now);
    const listener = recorder();
    state.listener = listener;
    const guard = new ResilienceGuard(
      state,
      () => [],
      () => ({ perProvider: 0, perKey: 0 }),
    );
    const [one, two] = gateway.plan({ model: "m", headers: {} }).attempts as [Attempt, Attempt];
    const admit = (a: Attempt) => {
      const admission = guard.admit(a);
      if ("refused" in admission) throw new Error(`refused: ${admission.refused}`);
      return admission;
    };
    const t0 = clock.now();

    guard.onFailure(one, admit(one), failure("rate_limit", 30), undefined);
    guard.onFailure(two, admit(two), failure("auth"), undefined);
    clock.advance(31_000);
    const t1 = clock.now();
    guard.onSuccess(one, admit(one), "s-1");
    guard.onSuccess(one, admit(one), "s-1"); // a renewal is not news
    guard.onFailure(one, admit(one), failure("transient"), "s-1");
    // The 2nd failure in a row opens the breaker; after its open period the probe closes it.
    guard.onFailure(one, admit(one), failure("transient"), undefined);
    clock.advance(10_000);
    guard.onSuccess(one, admit(one), undefined);
    const slot = "gem/gemini-2.5-pro#1";
    expect(listener.seen).toEqual([
      { kind: "cooldown", slot, until: t0 + 30_000 },
      { kind: "key", key: "gem#2", until: t0 + 600_000 },
      { kind: "bind", session: "s-1", slot, until: t1 + 60_000 },
      { kind: "release", session: "s-1" },
      { kind: "breaker", slot, state: "open", reopensAt: t1 + 10_000 },
      { kind: "breaker", slot, state: "closed", reopensAt: 0 },
    ]);
    await gateway.close();
  });

  it("applying another instance's events changes the state but reports nothing", () => {
    const clock = fakeClock();
    const state = new ResilienceState(options, clock.now);
    const listener = recorder();
    state.listener = listener;
    const now = clock.now();
    const events: StateEvent[] = [
      { kind: "key", key: "gem#1", until: now + 5_000 },
      { kind: "cooldown", slot: "gem/m#2", until: now + 7_000 },
      { kind: "breaker", slot: "gem/m#1", state: "open", reopensAt: now + 9_000 },
      { kind: "bind", session: "s", slot: "gem/m#2", until: now + 60_000 },
    ];
    for (const e of events) applyEvent(state, e);
    expect(state.keyDisabledFor("gem#1")).toBe(5_000);
    expect(state.slots.get("gem/m#2")?.cooldownUntil).toBe(now + 7_000);
    expect(state.slots.get("gem/m#1")?.breaker.state).toBe("open");
    expect(state.slots.get("gem/m#1")?.breaker.reopensAt).toBe(now + 9_000);
    expect(state.affinity.lookup("s")).toBe("gem/m#2");
    // A longer local rest is never shortened by an older, shorter one.
    applyEvent(state, { kind: "cooldown", slot: "gem/m#2", until: now + 1_000 });
    expect(state.slots.get("gem/m#2")?.cooldownUntil).toBe(now + 7_000);
    // Stale events (already over) change nothing.
    applyEvent(state, { kind: "key", key: "gem#3", until: now - 1 });
    applyEvent(state, { kind: "breaker", slot: "gem/m#3", state: "open", reopensAt: now - 1 });
    expect(state.keyDisabledFor("gem#3")).toBe(0);
    expect(state.slots.get("gem/m#3")?.breaker.state ?? "closed").toBe("closed");
    // Endings.
    applyEvent(state, { kind: "key", key: "gem#1", until: 0 });
    applyEvent(state, { kind: "cooldown", slot: "gem/m#2", until: 0 });
    applyEvent(state, { kind: "breaker", slot: "gem/m#1", state: "closed", reopensAt: 0 });
    applyEvent(state, { kind: "release", session: "s" });
    expect(state.keyDisabledFor("gem#1")).toBe(0);
    expect(state.slots.get("gem/m#2")?.cooldownUntil).toBe(0);
    expect(state.slots.get("gem/m#1")?.breaker.state).toBe("closed");
    expect(state.affinity.lookup("s")).toBeUndefined();
    expect(listener.seen).toEqual([]);
  });

  it("what one state holds, applied to a fresh one, gives the same view", () => {
    const clock = fakeClock();
    const a = new ResilienceState(options, clock.now);
    a.disableKey("gem#1", clock.now() + 1_000);
    a.startCooldown("gem/m#2", clock.now() + 2_000);
    a.slot("gem/m#3").breaker.onFailure();
    a.slot("gem/m#3").breaker.onFailure();
    a.bindSession("s-1", "gem/m#2");
    a.startCooldown("gem/m#4", clock.now() + 10);
    clock.advance(20); // m#4's cooldown is over: not worth sharing
    const b = new ResilienceState(options, clock.now);
    for (const e of localEvents(a)) applyEvent(b, e);
    expect(b.keyDisabledFor("gem#1")).toBe(a.keyDisabledFor("gem#1"));
    expect(b.slots.get("gem/m#2")?.cooldownUntil).toBe(a.slots.get("gem/m#2")?.cooldownUntil);
    expect(b.slots.get("gem/m#3")?.breaker.reopensAt).toBe(a.slots.get("gem/m#3")?.breaker.reopensAt);
    expect(b.affinity.lookup("s-1")).toBe("gem/m#2");
    expect(b.slots.has("gem/m#4")).toBe(false);
  });
});

describe("state events on the wire", () => {
  it("parses messages leniently: unknown events are skipped and counted, garbage is refused", () => {
    const good = { kind: "release", session: "s" };
    const parsed = parseMessage(JSON.stringify({ from: "x", events: [good, { kind: "future", n: 1 }] }));
    expect(parsed).toEqual({ message: { from: "x", events: [good] }, skipped: 1 });
    expect(parseMessage("not json")).toBeUndefined();
    expect(parseMessage(JSON.stringify({ events: [] }))).toBeUndefined();
    expect(parseEvent(JSON.stringify({ kind: "key", key: "gem#1", until: -5 }))).toBeUndefined();
  });

  it("keys one Redis entry per key, slot and session; endings delete it", () => {
    const bind: StateEvent = { kind: "bind", session: "s", slot: "g/m#1", until: 5 };
    expect(storageKey("team", bind)).toBe("team:state:session:s");
    expect(storageKey("team", { kind: "release", session: "s" })).toBe("team:state:session:s");
    expect(storageKey("team", { kind: "key", key: "g#1", until: 1 })).toBe("team:state:key:g#1");
    expect(storageKey("team", { kind: "cooldown", slot: "g/m#1", until: 1 })).toBe(
      "team:state:cooldown:g/m#1",
    );
    expect(holdsUntil(bind)).toBe(5);
    expect(holdsUntil({ kind: "breaker", slot: "g/m#1", state: "closed", reopensAt: 9 })).toBe(0);
    expect(holdsUntil({ kind: "release", session: "s" })).toBe(0);
  });
});

describe("shared state without a reachable Redis", () => {
  it("memory mode shares nothing", async () => {
    const gateway = offlineGateway();
    expect(gateway.shared).toBeInstanceOf(MemoryState);
    expect(gateway.shared.mode()).toBe("memory");
    await gateway.close();
  });

  it("starts within its wait, keeps working from local state, and warns once", async () => {
    const port = await closedPort();
    const state = new ResilienceState(options);
    const shared = new RedisSharedState(state, { url: `redis://127.0.0.1:${port}`, prefix: "t" });
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (_: { err: unknown }, msg: string) => warnings.push(msg) };
    const started = Date.now();
    await shared.start(log, 300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(shared.mode()).toBe("redis (disconnected)");
    // The request path's hooks neither throw nor wait.
    state.startCooldown("gem/m#1", Date.now() + 5_000);
    state.disableKey("gem#1", Date.now() + 5_000);
    state.bindSession("s", "gem/m#1");
    expect(state.slots.get("gem/m#1")?.cooldownUntil).toBeGreaterThan(Date.now());
    // Several reconnect attempts fail meanwhile (every ≤ 1 s): one warning.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Redis unavailable/);
    await shared.close();
    expect(state.listener).toBeUndefined();
  });
});

/** A port nothing listens on (picked free, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
