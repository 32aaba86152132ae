/**
 * Health of every (target, key) slot: breaker, cooldown, consecutive rate limits, latency and
 * recent errors; plus per-provider and per-key in-flight limiters and the session affinity
 * table. One instance per gateway (in memory; shared state across instances goes through the
 * StateStore that mirrors cooldown and breaker transitions).
 */
import type { Attempt } from "../core/upstream.js";
import { AffinityTable } from "./affinity.js";
import { type BreakerTransition, CircuitBreaker } from "./breaker.js";
import { Limiter } from "./limiter.js";
import type { ResilienceOptions } from "./options.js";

const LATENCY_SAMPLES = 256;
const RECENT_ERRORS = 10;

export interface RecentError {
  at: string;
  class: string;
  code: string;
  status: number;
}

export class SlotHealth {
  readonly breaker: CircuitBreaker;
  cooldownUntil = 0;
  consecutiveRateLimits = 0;
  requests = 0;
  failures = 0;
  readonly recentErrors: RecentError[] = [];
  private readonly latencies: number[] = [];
  private latencyAt = 0;

  constructor(options: ResilienceOptions, now: () => number, onBreaker?: BreakerTransition) {
    this.breaker = new CircuitBreaker(options.breaker, now, onBreaker);
  }

  addLatency(ms: number): void {
    if (this.latencies.length < LATENCY_SAMPLES) this.latencies.push(ms);
    else this.latencies[this.latencyAt++ % LATENCY_SAMPLES] = ms;
  }

  addError(error: RecentError): void {
    this.recentErrors.push(error);
    if (this.recentErrors.length > RECENT_ERRORS) this.recentErrors.shift();
  }

  percentiles(): { p50: number; p90: number; p99: number } | null {
    if (this.latencies.length === 0) return null;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  }
}

export function slotId(attempt: Attempt): string {
  const key =
    attempt.key === undefined ? "" : `#${attempt.key.id.slice(attempt.key.id.lastIndexOf("#") + 1)}`;
  return `${attempt.upstream.name}/${attempt.model}${key}`;
}

/**
 * Told about every transition other gateway instances should share (src/state/ mirrors them
 * through Redis). Times are epoch ms; `until` 0 means "ended early" (a probe restored it).
 * Identifiers only: key ids (`provider#n`), slot ids, session ids — never a secret.
 */
export interface StateListener {
  onKeyDisabled(keyId: string, until: number): void;
  onCooldown(slot: string, until: number): void;
  onBreaker(slot: string, state: "open" | "closed", reopensAt: number): void;
  onBind(session: string, slot: string, until: number): void;
  onRelease(session: string): void;
}

export class ResilienceState {
  /** Mirrors transitions to other instances; the `apply*` methods never call it back. */
  listener: StateListener | undefined;
  readonly slots = new Map<string, SlotHealth>();
  /** Keys the upstream rejected: `key id → until` (epoch ms). */
  readonly disabledKeys = new Map<string, number>();
  readonly affinity: AffinityTable;
  private readonly providerLimiters = new Map<string, Limiter>();
  private readonly keyLimiters = new Map<string, Limiter>();

  constructor(
    readonly options: ResilienceOptions,
    readonly now: () => number = Date.now,
  ) {
    this.affinity = new AffinityTable(options.affinity.ttlMs, options.affinity.maxSessions, now);
  }

  slot(id: string): SlotHealth {
    let s = this.slots.get(id);
    if (s === undefined) {
      s = new SlotHealth(this.options, this.now, (state, reopensAt) =>
        this.listener?.onBreaker(id, state, reopensAt),
      );
      this.slots.set(id, s);
    }
    return s;
  }

  /** Rest a rejected key until `until` (never shortens a longer rest). */
  disableKey(keyId: string, until: number): void {
    const next = Math.max(until, this.disabledKeys.get(keyId) ?? 0);
    this.disabledKeys.set(keyId, next);
    this.listener?.onKeyDisabled(keyId, next);
  }

  /** A probe proved the key good again. */
  enableKey(keyId: string): void {
    if (this.disabledKeys.delete(keyId)) this.listener?.onKeyDisabled(keyId, 0);
  }

  /** Rest a (target, key) slot until `until` (never shortens a longer rest). */
  startCooldown(slotKey: string, until: number): void {
    const slot = this.slot(slotKey);
    if (until <= slot.cooldownUntil) return;
    slot.cooldownUntil = until;
    this.listener?.onCooldown(slotKey, until);
  }

  /** Bind a session to the slot that served it (shared only when new or moved). */
  bindSession(session: string, slotKey: string): void {
    if (this.affinity.bind(session, slotKey)) {
      const until = this.now() + this.options.affinity.ttlMs;
      this.listener?.onBind(session, slotKey, until);
    }
  }

  releaseSession(session: string): void {
    if (this.affinity.release(session)) this.listener?.onRelease(session);
  }

  /** From another instance: a key rests until `until` (0: restored). */
  applyKeyDisabled(keyId: string, until: number): void {
    if (until === 0) this.disabledKeys.delete(keyId);
    else if (until > this.now())
      this.disabledKeys.set(keyId, Math.max(until, this.disabledKeys.get(keyId) ?? 0));
  }

  /** From another instance: a slot cools down until `until` (0: restored). */
  applyCooldown(slotKey: string, until: number): void {
    if (until === 0) {
      const slot = this.slots.get(slotKey);
      if (slot !== undefined) slot.cooldownUntil = 0;
    } else if (until > this.now()) {
      const slot = this.slot(slotKey);
      slot.cooldownUntil = Math.max(slot.cooldownUntil, until);
    }
  }

  /** From another instance: a breaker opened (until `reopensAt`) or closed. */
  applyBreaker(slotKey: string, state: "open" | "closed", reopensAt: number): void {
    if (state === "open") {
      if (reopensAt > this.now()) this.slot(slotKey).breaker.applyOpen(reopensAt);
    } else this.slots.get(slotKey)?.breaker.applyClosed();
  }

  applyBind(session: string, slotKey: string, until: number): void {
    if (until > this.now()) this.affinity.bind(session, slotKey, until);
  }

  applyRelease(session: string): void {
    this.affinity.release(session);
  }

  /** Milliseconds until a rejected key may be used again (0: usable). */
  keyDisabledFor(keyId: string): number {
    const until = this.disabledKeys.get(keyId);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.disabledKeys.delete(keyId);
    return 0;
  }

  providerLimiter(provider: string, max: number): Limiter {
    return getOrCreate(
      this.providerLimiters,
      provider,
      () => new Limiter(max, this.options.concurrency.queueSize),
    );
  }

  keyLimiter(keyId: string, max: number): Limiter {
    return getOrCreate(this.keyLimiters, keyId, () => new Limiter(max, this.options.concurrency.queueSize));
  }

  inFlight(provider: string): number {
    return this.providerLimiters.get(provider)?.inFlight ?? 0;
  }

  keyInFlight(keyId: string): number {
    return this.keyLimiters.get(keyId)?.inFlight ?? 0;
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
