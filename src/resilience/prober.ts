/**
 * Background recovery probes and start-up warm-up (issue: resilience §4).
 *
 * On a schedule, every slot whose breaker is open or whose key was rejected is checked with the
 * provider's cheap probe request (a models lookup, a token count). What a healthy answer proves
 * differs by cause:
 * - a rejected key (401/403): the probe goes through the same authentication as generation, so
 *   an accepted probe restores the key at once;
 * - an open breaker: it only proves the upstream is reachable, not that generation works (Gemini
 *   commonly fails generation while `models.get` answers), so the breaker merely moves to
 *   half-open early and the next real request is the one trial that closes or re-opens it
 *   (`CircuitBreaker.admitTrialEarly`);
 * - a rate-limit or rule cooldown: untouched; a metadata call says nothing about generation quota
 *   or the upstream's Retry-After.
 * At start-up each (target, key) is probed once, which also opens its connection pool.
 */
import { credentialOf } from "../core/attempt.js";
import type { Attempt, Upstream } from "../core/upstream.js";
import type { ResilienceOptions } from "./options.js";
import { type ResilienceState, slotId } from "./slots.js";

/** Probes run at most this many at a time. */
const PROBE_CONCURRENCY = 4;

interface ProbeSource {
  upstreams: ReadonlyMap<string, Upstream>;
  config: { routes: { targets: unknown[] }[] };
}

export type ProbeResult = "healthy" | "rejected" | "unhealthy" | "skipped";

/** Where the prober says what it did on its own (the gateway's logger). */
export interface ProbeLog {
  warn(message: string): void;
}

export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private log: ProbeLog | undefined;

  constructor(
    private readonly source: ProbeSource,
    private readonly state: ResilienceState,
    private readonly options: ResilienceOptions["probe"],
  ) {}

  start(log?: ProbeLog): void {
    this.log = log;
    if (!this.options.enabled || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.recover(), this.options.intervalMs);
    this.timer.unref();
    if (this.options.warmup) void this.warmup();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Probe every slot that is open, half-open or whose key rests after a rejection. */
  async recover(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const sick = this.allSlots().filter((a) => {
        const health = this.state.slots.get(slotId(a));
        const open = health !== undefined && health.breaker.state !== "closed";
        return open || (a.key !== undefined && this.state.keyDisabledFor(a.key.id) > 0);
      });
      await this.probeAll(sick);
    } finally {
      this.running = false;
    }
  }

  /** Probe every (target, key) once: rejected keys are disabled before any user request. */
  async warmup(): Promise<void> {
    await this.probeAll(this.allSlots());
  }

  /** One probe; a healthy answer re-enables its key and lets an open breaker try a request. */
  async probe(attempt: Attempt): Promise<ProbeResult> {
    const build = attempt.upstream.provider.probe;
    if (build === undefined) return "skipped";
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let status: number;
    try {
      const ctx = {
        upstreamModel: attempt.model,
        baseUrl: attempt.upstream.baseUrl,
        apiKey: await credentialOf(attempt, signal),
        headers: attempt.upstream.headers,
      };
      const res = await attempt.upstream.transport.send(build(ctx), attempt.upstream.provider, signal);
      res.close();
      status = res.status;
    } catch (err) {
      status = (err as { upstreamStatus?: number }).upstreamStatus ?? 0;
      const cls = (err as { class?: string }).class;
      if (cls === "auth") return this.rejected(attempt, err);
      if (status === 0 || status >= 500 || status === 429) return "unhealthy";
    }
    // Reached the upstream and the key was accepted (a 404/400 on the probe path still proves both).
    this.state.slots.get(slotId(attempt))?.breaker.admitTrialEarly();
    if (attempt.key !== undefined) this.state.enableKey(attempt.key.id);
    return "healthy";
  }

  private rejected(attempt: Attempt, err: unknown): ProbeResult {
    if (attempt.key === undefined) return "rejected";
    // Said once, when the key goes from usable to disabled: clients then see 429s "resting after
    // rejections", and this line is how the operator learns which key and why.
    const wasDisabled = this.state.keyDisabledFor(attempt.key.id) > 0;
    this.state.disableKey(attempt.key.id, this.state.now() + this.state.options.authCooldownMs);
    if (!wasDisabled) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log?.warn(
        `${attempt.upstream.name} rejected key ${attempt.key.label} (${reason}): not used for ${Math.round(this.state.options.authCooldownMs / 60_000)} min, or until a probe finds it accepted again`,
      );
    }
    return "rejected";
  }

  private async probeAll(attempts: Attempt[]): Promise<void> {
    const queue = [...attempts];
    const workers = Array.from({ length: Math.min(PROBE_CONCURRENCY, queue.length) }, async () => {
      for (let a = queue.shift(); a !== undefined; a = queue.shift())
        await this.probe(a).catch(() => "unhealthy");
    });
    await Promise.all(workers);
  }

  /** Every (target, key) the routes can use, once each. */
  private allSlots(): Attempt[] {
    const seen = new Map<string, Attempt>();
    for (const route of this.source.config.routes) {
      for (const t of route.targets) {
        const target = typeof t === "string" ? t : (t as { target?: string }).target;
        if (target === undefined || target.includes("$model")) continue;
        const slash = target.indexOf("/");
        const upstream = this.source.upstreams.get(target.slice(0, slash));
        if (upstream === undefined) continue;
        const model = target.slice(slash + 1);
        const keys = upstream.keys.length > 0 ? upstream.keys : upstream.requiresKey ? [] : [undefined];
        for (const key of keys) {
          const attempt: Attempt = { upstream, model, key };
          seen.set(slotId(attempt), attempt);
        }
      }
    }
    return [...seen.values()];
  }
}
