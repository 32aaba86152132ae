/**
 * What a background probe may and may not conclude (resilience §3–4), with a fake clock and a
 * real probe request against the fake Gemini, whose `models.get` answers even while generation
 * fails — Gemini's common failure. A healthy probe only lets an open breaker go half-open (the
 * trial is a real request); once such a trial fails, probes stop shortening the doubled open
 * periods; rate-limit cooldowns stay; a rejected key accepted again is restored. Also the
 * guard's refusal while the half-open trial is in flight: always a small positive wait.
 */
import { afterEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { GatewayError } from "../../src/core/errors.js";
import type { Attempt } from "../../src/core/upstream.js";
import { Gateway } from "../../src/gateway.js";
import { CircuitBreaker } from "../../src/resilience/breaker.js";
import { HALF_OPEN_RETRY_MS, ResilienceGuard } from "../../src/resilience/guard.js";
import { Prober } from "../../src/resilience/prober.js";
import { ResilienceState, slotId } from "../../src/resilience/slots.js";
import { startFakeGemini } from "../fakes/gemini.js";
import { fakeClock } from "../helpers/fake-clock.js";
import { onCleanup, runCleanups } from "./helpers.js";

afterEach(runCleanups);

const KEY = "AIzaFakeProbeKey-0123456789abcdefKEY1";
const OPEN_MS = 1_000;
const MAX_OPEN_MS = 4_000;

function transient(): GatewayError {
  return new GatewayError({
    code: "UPSTREAM_UNAVAILABLE",
    message: "overloaded",
    status: 529,
    type: "overloaded_error",
    class: "transient",
    upstreamStatus: 503,
  });
}

/**
 * A gateway (config only; its own state and prober unused) in front of a fake Gemini, plus a
 * fake-clock state, guard and prober of our own driving the same upstream.
 */
async function setup(validKeys?: string[]) {
  const fake = await startFakeGemini(validKeys === undefined ? {} : { validKeys });
  onCleanup(() => fake.close());
  const config = configSchema.parse({
    providers: [{ name: "gem", type: "gemini", baseUrl: fake.url, apiKeys: [KEY] }],
    routes: [{ name: "all", match: ["*"], targets: ["gem/gemini-2.5-pro"] }],
  });
  Object.assign(config, {
    resilience: {
      probe: { enabled: false },
      breaker: { consecutiveFailures: 1, openMs: OPEN_MS, maxOpenMs: MAX_OPEN_MS },
      authCooldownMs: 60_000,
    },
  });
  const gateway = new Gateway(config);
  onCleanup(() => gateway.close());
  const clock = fakeClock();
  const state = new ResilienceState(gateway.resilience, clock.now);
  const guard = new ResilienceGuard(
    state,
    () => [],
    () => ({ perProvider: 0, perKey: 0 }),
  );
  const prober = new Prober(gateway, state, { ...gateway.resilience.probe, timeoutMs: 2_000 });
  const attempt: Attempt = gateway.plan({ model: "m", headers: {} }).attempts[0]!;
  const breaker = state.slot(slotId(attempt)).breaker;

  /** One real request through the guard, ending as `outcome` says. */
  function request(outcome: "fail" | "ok"): "probe" | "pass" {
    const admission = guard.admit(attempt);
    if ("refused" in admission) throw new Error(`refused ${admission.refused}`);
    if (outcome === "ok") guard.onSuccess(attempt, admission, undefined);
    else guard.onFailure(attempt, admission, transient(), undefined);
    return admission.probe ? "probe" : "pass";
  }
  return { fake, clock, state, guard, prober, attempt, breaker, request };
}

describe("a healthy background probe and an open breaker", () => {
  it("moves it to half-open, never closed: one real request is the trial, and its failure doubles the period", async () => {
    const { clock, prober, breaker, request, guard, attempt, fake } = await setup();
    request("fail");
    expect(breaker.state).toBe("open");
    clock.advance(100);

    expect(await prober.probe(attempt)).toBe("healthy");
    expect(fake.requests.some((r) => r.action === "getModel")).toBe(true);
    expect(breaker.state).toBe("half_open");
    expect(breaker.reopensAt).toBeLessThanOrEqual(clock.now());

    // Exactly one request is the trial; the others are refused while it is out.
    const trial = guard.admit(attempt);
    if ("refused" in trial) throw new Error("the trial was refused");
    expect(trial.probe).toBe(true);
    expect(guard.admit(attempt)).toEqual({ refused: "open", retryAfterMs: HALF_OPEN_RETRY_MS });
    guard.onFailure(attempt, trial, transient(), undefined);
    expect(breaker.state).toBe("open");
    expect(breaker.reopensAt - clock.now()).toBe(2 * OPEN_MS);
  });

  it("after an early trial failed, probes no longer shorten the open period: it doubles up to the cap", async () => {
    const { clock, prober, breaker, request, attempt } = await setup();
    request("fail"); // open for 1 s
    await prober.probe(attempt); // generation still fails, metadata answers: early trial
    expect(request("fail")).toBe("probe"); // open for 2 s; the probe's word is now discounted

    const periods: number[] = [];
    for (let i = 0; i < 3; i++) {
      const period = breaker.reopensAt - clock.now();
      periods.push(period);
      for (let t = 0; t < 3; t++) {
        clock.advance(period / 4);
        expect(await prober.probe(attempt)).toBe("healthy");
        expect(breaker.state).toBe("open");
      }
      clock.advance(period / 4);
      expect(breaker.state).toBe("half_open");
      expect(request("fail")).toBe("probe");
    }
    expect(periods).toEqual([2_000, 4_000, 4_000]);

    // A good trial closes it; a later opening believes probes again.
    clock.advance(MAX_OPEN_MS);
    expect(request("ok")).toBe("probe");
    expect(breaker.state).toBe("closed");
    request("fail");
    expect(breaker.reopensAt - clock.now()).toBe(OPEN_MS);
    await prober.probe(attempt);
    expect(breaker.state).toBe("half_open");
    expect(request("ok")).toBe("probe");
    expect(breaker.state).toBe("closed");
  });

  it("leaves a rate-limit cooldown alone, but restores a rejected key the upstream accepts again", async () => {
    const accepted: string[] = [];
    const { clock, state, prober, request, attempt, guard } = await setup(accepted);
    request("fail");
    const id = slotId(attempt);
    state.startCooldown(id, clock.now() + 20_000);
    state.slot(id).consecutiveRateLimits = 3;
    state.disableKey("gem#1", clock.now() + 60_000);

    // Still rejected: the key keeps resting (and the probe says so).
    expect(await prober.probe(attempt)).toBe("rejected");
    expect(state.keyDisabledFor("gem#1")).toBeGreaterThan(0);

    accepted.push(KEY);
    expect(await prober.probe(attempt)).toBe("healthy");
    expect(state.keyDisabledFor("gem#1")).toBe(0); // auth is what the probe checks: restored
    expect(state.slot(id).cooldownUntil).toBe(clock.now() + 20_000); // quota is not
    expect(state.slot(id).consecutiveRateLimits).toBe(3);
    expect(guard.admit(attempt)).toEqual({ refused: "cooling", retryAfterMs: 20_000 });
    expect(state.slot(id).breaker.state).toBe("half_open");
  });
});

describe("a key the probe finds rejected", () => {
  it("is disabled with one warning naming the provider, the key label and the reason", async () => {
    const { prober, attempt, state } = await setup([]); // the fake accepts no key
    const warnings: string[] = [];
    prober.start({ warn: (message) => warnings.push(message) }); // probes are off: only sets the log
    expect(await prober.probe(attempt)).toBe("rejected");
    expect(await prober.probe(attempt)).toBe("rejected"); // still disabled: not said again
    expect(state.keyDisabledFor("gem#1")).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^gem rejected key \S+ \(.*API key not valid.*\): not used for 1 min/);
    expect(warnings[0]).not.toContain(KEY);
  });
});

describe("CircuitBreaker.admitTrialEarly", () => {
  it("applies only to a breaker still waiting out its open period", () => {
    const clock = fakeClock();
    const options = {
      consecutiveFailures: 1,
      failureRatio: 1,
      windowMs: 60_000,
      minRequests: 100,
      openMs: OPEN_MS,
      maxOpenMs: MAX_OPEN_MS,
    };
    const b = new CircuitBreaker(options, clock.now);
    expect(b.admitTrialEarly()).toBe(false); // closed stays closed
    expect(b.state).toBe("closed");
    b.onFailure();
    expect(b.admitTrialEarly()).toBe(true);
    expect(b.tryPass()).toBe("probe");
    expect(b.admitTrialEarly()).toBe(false); // the trial is out: nothing to shorten
    expect(b.tryPass()).toBe("reject");
    b.releaseProbe(); // not a health signal: still half-open, the next caller tries
    expect(b.tryPass()).toBe("probe");
  });
});

describe("guard refusals while a half-open trial is in flight", () => {
  it("carry a small positive wait, never a negative or zero one", async () => {
    const { clock, guard, attempt, breaker, request } = await setup();
    request("fail");
    expect(guard.admit(attempt)).toEqual({ refused: "open", retryAfterMs: OPEN_MS });
    clock.advance(OPEN_MS);
    const trial = guard.admit(attempt);
    if ("refused" in trial) throw new Error("the trial was refused");
    expect(breaker.state).toBe("half_open");
    expect(breaker.reopensAt).toBe(0);
    for (let i = 0; i < 3; i++) {
      const refusal = guard.admit(attempt);
      expect(refusal).toEqual({ refused: "open", retryAfterMs: HALF_OPEN_RETRY_MS });
      clock.advance(10_000); // however long the trial takes
    }
    expect(HALF_OPEN_RETRY_MS).toBeGreaterThanOrEqual(1_000);
    expect(HALF_OPEN_RETRY_MS).toBeLessThan(60_000);
    trial.release();
  });
});
