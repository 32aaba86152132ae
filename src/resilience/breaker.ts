/**
 * A circuit breaker with a real half-open state (issue: resilience §3).
 *
 * closed → open on N consecutive failures, or on a failure ratio over a sliding window once the
 * window holds a minimum number of requests. After its open period the next caller gets the one
 * probe (`tryPass` → "probe"); everyone else is still rejected until that probe reports. A good
 * probe closes the breaker; a bad one re-opens it for longer (doubling, capped).
 * A background health check (src/resilience/prober.ts) can only end an open period early
 * (`admitTrialEarly`): the trial is still a real request. Once such an early trial fails, the
 * check evidently does not predict real traffic for this slot (e.g. Gemini's metadata answering
 * while generation is overloaded), so it is ignored until the breaker closes and the doubling
 * periods run their course.
 * Only failures that say something about the upstream's health count (transient ones); rate
 * limits and rejected keys have their own cooldowns.
 */

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  consecutiveFailures: number;
  /** Failure ratio over the window that opens it (0–1), once `minRequests` are in the window. */
  failureRatio: number;
  windowMs: number;
  minRequests: number;
  /** First open period; doubles on each failed probe up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = {
  consecutiveFailures: 5,
  failureRatio: 0.5,
  windowMs: 60_000,
  minRequests: 10,
  openMs: 30_000,
  maxOpenMs: 5 * 60_000,
};

export type BreakerState = "closed" | "open" | "half_open";

/**
 * Told when this breaker opens (with the time it admits its probe) or closes, so the state can
 * be mirrored to other gateway instances (src/state/). Not called for changes applied from them.
 */
export type BreakerTransition = (state: "open" | "closed", reopensAt: number) => void;

export class CircuitBreaker {
  private stateValue: BreakerState = "closed";
  private consecutive = 0;
  private openUntil = 0;
  private openFor: number;
  private probeTaken = false;
  /** This open period was ended early by a background check (`admitTrialEarly`). */
  private earlyTrial = false;
  /** An early trial failed: background checks do not shorten open periods until it closes. */
  private checksDistrusted = false;
  /** Outcomes per tenth of the window: [bucket start, successes, failures]. */
  private readonly buckets: [number, number, number][] = [];

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
    private readonly onTransition?: BreakerTransition,
  ) {
    this.openFor = options.openMs;
  }

  /** The state as seen now (an open breaker whose period elapsed reads as half-open). */
  get state(): BreakerState {
    if (this.stateValue === "open" && this.now() >= this.openUntil) return "half_open";
    return this.stateValue;
  }

  /** When an open breaker admits its probe (epoch ms); 0 when not open. */
  get reopensAt(): number {
    return this.stateValue === "open" ? this.openUntil : 0;
  }

  /**
   * May a request go through? "pass" when closed; "probe" for the single half-open trial (the
   * caller must report its outcome, or `releaseProbe` if it did not send it); "reject" otherwise.
   */
  tryPass(): "pass" | "probe" | "reject" {
    const state = this.state;
    if (state === "closed") return "pass";
    if (state === "open" || this.probeTaken) return "reject";
    this.stateValue = "half_open";
    this.probeTaken = true;
    return "probe";
  }

  /** Whether a request could pass now, without taking the probe. */
  wouldPass(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half_open" && !this.probeTaken);
  }

  releaseProbe(): void {
    this.probeTaken = false;
  }

  /**
   * The half-open trial reached its first content: the upstream answers again, so the breaker
   * closes now rather than when that answer ends (minutes, in a long turn, during which every
   * other request would be refused). Its final outcome is still recorded when it ends.
   */
  trialAnswered(): void {
    if (this.stateValue === "half_open" && this.probeTaken) this.close();
  }

  onSuccess(): void {
    this.record(true);
    this.consecutive = 0;
    if (this.stateValue !== "closed") this.close();
  }

  onFailure(): void {
    this.record(false);
    this.consecutive++;
    if (this.stateValue === "half_open") {
      if (this.earlyTrial) this.checksDistrusted = true;
      this.openFor = Math.min(this.openFor * 2, this.options.maxOpenMs);
      this.open();
      return;
    }
    if (this.stateValue === "open") return;
    if (this.consecutive >= this.options.consecutiveFailures || this.ratioTripped()) this.open();
  }

  /**
   * A background check found the upstream answering: end the open period now, so the next
   * caller gets the half-open trial. Never closes the breaker (a metadata answer does not prove
   * generation works) and keeps the doubled period for the trial's failure. No-op unless open
   * and still waiting, or after an early trial failed (see the class comment). Not mirrored to
   * other instances: each keeps its own period (or runs its own checks). True when it applied.
   */
  admitTrialEarly(): boolean {
    if (this.stateValue !== "open" || this.now() >= this.openUntil || this.checksDistrusted) return false;
    this.openUntil = this.now();
    this.earlyTrial = true;
    return true;
  }

  /** Forget everything (closed, empty window, base open period). */
  reset(): void {
    this.close();
    this.buckets.length = 0;
  }

  /**
   * Another instance opened this breaker: stay open until `reopensAt` (then one local probe).
   * A time already past, or an earlier one than ours, changes nothing. Does not notify.
   */
  applyOpen(reopensAt: number): void {
    if (reopensAt <= this.now()) return;
    if (this.stateValue === "open" && this.openUntil >= reopensAt) return;
    this.stateValue = "open";
    this.openUntil = reopensAt;
    this.probeTaken = false;
    this.earlyTrial = false;
  }

  /** Another instance closed this breaker (its probe or a request succeeded). Does not notify. */
  applyClosed(): void {
    if (this.stateValue !== "closed") this.close(false);
  }

  private open(): void {
    this.stateValue = "open";
    this.openUntil = this.now() + this.openFor;
    this.probeTaken = false;
    this.earlyTrial = false;
    this.onTransition?.("open", this.openUntil);
  }

  private close(notify = true): void {
    const was = this.stateValue;
    this.stateValue = "closed";
    this.consecutive = 0;
    this.openFor = this.options.openMs;
    this.probeTaken = false;
    this.earlyTrial = false;
    this.checksDistrusted = false;
    if (notify && was !== "closed") this.onTransition?.("closed", 0);
  }

  /** Constant time and memory per outcome: ten buckets slide over the window. */
  private record(ok: boolean): void {
    const now = this.now();
    const width = Math.max(1, Math.floor(this.options.windowMs / 10));
    const start = now - (now % width);
    let last = this.buckets.at(-1);
    if (last === undefined || last[0] !== start) {
      last = [start, 0, 0];
      this.buckets.push(last);
    }
    if (ok) last[1]++;
    else last[2]++;
    while (this.buckets.length > 0 && this.buckets[0]![0] <= now - this.options.windowMs)
      this.buckets.shift();
  }

  private ratioTripped(): boolean {
    let total = 0;
    let failures = 0;
    for (const [, ok, failed] of this.buckets) {
      total += ok + failed;
      failures += failed;
    }
    return total >= this.options.minRequests && failures / total >= this.options.failureRatio;
  }
}
