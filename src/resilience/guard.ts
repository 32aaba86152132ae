/**
 * The resilience layer as the attempt loop sees it: admit an attempt (breaker, cooldowns,
 * in-flight limits), learn from its outcome (classification → cooldown, breaker, affinity).
 */
import type { Admission, AttemptGuard, FailureOutcome, Refusal } from "../core/attempt-loop.js";
import type { GatewayError } from "../core/errors.js";
import type { Attempt } from "../core/upstream.js";
import type { CircuitBreaker } from "./breaker.js";
import { classifyFailure } from "./classify.js";
import type { Release } from "./limiter.js";
import type { FailureRule } from "./options.js";
import { type ResilienceState, slotId } from "./slots.js";

/**
 * The wait suggested to callers refused while a half-open trial is in flight. The breaker has no
 * reopening time then (`reopensAt` is 0), but the trial settles at its commit point, usually
 * within seconds, after which the slot is closed or re-opened with a real time. A few seconds
 * keeps Claude Code retrying soon (it honours integer-second retry-after and gives up at once
 * above ~60 s) without hammering a slot whose verdict is not in yet.
 */
export const HALF_OPEN_RETRY_MS = 5_000;

/** An admission whose release also hands back a half-open probe that never reported. */
class GuardAdmission implements Admission {
  settled = false;
  private released = false;

  constructor(
    readonly probe: boolean,
    readonly startedAt: number,
    private readonly releaseLimits: Release,
    private readonly breaker: CircuitBreaker,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseLimits();
    if (this.probe && !this.settled) this.breaker.releaseProbe();
  }
}

export interface GuardLimits {
  perProvider: number;
  perKey: number;
}

export class ResilienceGuard implements AttemptGuard {
  constructor(
    private readonly state: ResilienceState,
    /** Rules per provider name (provider rules first, then the global ones). */
    private readonly rulesFor: (provider: string) => readonly FailureRule[],
    private readonly limitsFor: (provider: string) => GuardLimits,
  ) {}

  admit(attempt: Attempt): Admission | Refusal {
    const refusal = this.check(attempt);
    if (refusal !== undefined) return refusal;
    const slot = this.state.slot(slotId(attempt));
    const verdict = slot.breaker.tryPass();
    if (verdict === "reject") return { refused: "open", retryAfterMs: this.openWait(slot.breaker) };
    const release = this.takeLimits(attempt);
    if (release === undefined) {
      if (verdict === "probe") slot.breaker.releaseProbe();
      return { refused: "full" };
    }
    return this.admission(attempt, verdict === "probe", release);
  }

  private admission(attempt: Attempt, probe: boolean, releaseLimits: Release): GuardAdmission {
    return new GuardAdmission(
      probe,
      this.state.now(),
      releaseLimits,
      this.state.slot(slotId(attempt)).breaker,
    );
  }

  async waitForRoom(attempt: Attempt, signal: AbortSignal): Promise<Admission | undefined> {
    if (this.check(attempt) !== undefined) return undefined;
    const limits = this.limitsFor(attempt.upstream.name);
    const { queueTimeoutMs } = this.state.options.concurrency;
    const provider = this.state.providerLimiter(attempt.upstream.name, limits.perProvider);
    const releaseProvider = await provider.acquire(queueTimeoutMs, signal);
    if (releaseProvider === undefined) return undefined;
    let releaseKey: Release | undefined;
    if (attempt.key !== undefined) {
      releaseKey = await this.state.keyLimiter(attempt.key.id, limits.perKey).acquire(queueTimeoutMs, signal);
      if (releaseKey === undefined) {
        releaseProvider();
        return undefined;
      }
    }
    const slot = this.state.slot(slotId(attempt));
    const verdict = slot.breaker.tryPass();
    const release = () => {
      releaseKey?.();
      releaseProvider();
    };
    if (verdict === "reject") {
      release();
      return undefined;
    }
    return this.admission(attempt, verdict === "probe", release);
  }

  onSuccess(attempt: Attempt, admission: Admission, session: string | undefined): void {
    if (admission instanceof GuardAdmission) admission.settled = true;
    admission.release();
    const slot = this.state.slot(slotId(attempt));
    slot.requests++;
    slot.consecutiveRateLimits = 0;
    slot.addLatency(this.state.now() - admission.startedAt);
    slot.breaker.onSuccess();
    if (session !== undefined && this.state.options.affinity.enabled)
      this.state.bindSession(session, slotId(attempt));
  }

  probeCommitted(attempt: Attempt): void {
    this.state.slot(slotId(attempt)).breaker.trialAnswered();
  }

  onFailure(
    attempt: Attempt,
    admission: Admission,
    error: GatewayError,
    session: string | undefined,
  ): FailureOutcome {
    if (admission instanceof GuardAdmission) admission.settled = true;
    admission.release();
    const id = slotId(attempt);
    const slot = this.state.slot(id);
    slot.requests++;
    slot.failures++;
    slot.addError({
      at: new Date(this.state.now()).toISOString(),
      class: error.class,
      code: error.code,
      status: error.status,
    });
    if (error.class === "rate_limit") slot.consecutiveRateLimits++;
    const decision = classifyFailure(
      error,
      this.rulesFor(attempt.upstream.name),
      this.state.options,
      slot.consecutiveRateLimits,
    );
    if (decision.countsForBreaker) slot.breaker.onFailure();
    else if (admission.probe) slot.breaker.releaseProbe(); // not a health signal: let another probe go
    if (decision.cooldownMs !== undefined && decision.cooldownMs > 0) {
      if (decision.disablesKey && attempt.key !== undefined)
        this.state.disableKey(attempt.key.id, this.state.now() + decision.cooldownMs);
      else this.state.startCooldown(id, this.state.now() + decision.cooldownMs);
    }
    // An unhealthy bound slot releases the session at once (never blocks failover).
    if (session !== undefined && this.state.affinity.lookup(session) === id)
      this.state.releaseSession(session);
    return { action: decision.action };
  }

  /** Time until a refusing breaker may admit this slot again: always positive. */
  private openWait(breaker: CircuitBreaker): number {
    const left = breaker.reopensAt - this.state.now();
    return breaker.state === "open" && left > 0 ? left : HALF_OPEN_RETRY_MS;
  }

  /** Cooling or disabled → a refusal with the time left. */
  private check(attempt: Attempt): Refusal | undefined {
    if (attempt.key !== undefined) {
      const disabled = this.state.keyDisabledFor(attempt.key.id);
      if (disabled > 0) return { refused: "disabled", retryAfterMs: disabled };
    }
    const slot = this.state.slots.get(slotId(attempt));
    if (slot !== undefined && slot.cooldownUntil > this.state.now())
      return { refused: "cooling", retryAfterMs: slot.cooldownUntil - this.state.now() };
    return undefined;
  }

  private takeLimits(attempt: Attempt): Release | undefined {
    const limits = this.limitsFor(attempt.upstream.name);
    const provider = this.state.providerLimiter(attempt.upstream.name, limits.perProvider).tryAcquire();
    if (provider === undefined) return undefined;
    if (attempt.key === undefined) return provider;
    const key = this.state.keyLimiter(attempt.key.id, limits.perKey).tryAcquire();
    if (key === undefined) {
      provider();
      return undefined;
    }
    return () => {
      key();
      provider();
    };
  }
}
