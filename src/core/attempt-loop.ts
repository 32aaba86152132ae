/**
 * The attempt loop (design.md §1): try the planned attempts in order until one produces its
 * first content event — the commit point. Before it, a failed attempt is invisible to the client
 * (the resilience guard decides: same key again, next key, next target, or stop); after it,
 * failures propagate so the HTTP layer ends the stream with an Anthropic `error` event.
 * Providers stay pure; time and failure policy live here and in the guard.
 */
import type { MessagesRequest } from "../protocol/anthropic/request-schema.js";
import { abortError, type Bodies, type LiveAttempt, open } from "./attempt.js";
import { GatewayError } from "./errors.js";
import type { EventBatch } from "./event-batches.js";
import { summarize } from "./summarize-failures.js";
import { backoff, delay, linkedSignal } from "./timing.js";
import type { Attempt } from "./upstream.js";

/**
 * A granted attempt. `release` frees its in-flight slots (idempotent); an admission released
 * without an outcome (client gone, stop sequence) gives back a half-open probe untouched.
 */
export interface Admission {
  probe: boolean;
  release: () => void;
  startedAt: number;
}

/** Why an attempt was not even tried. */
export interface Refusal {
  refused: "cooling" | "disabled" | "open" | "full";
  retryAfterMs?: number;
}

export interface FailureOutcome {
  action: "retry_same" | "next_key" | "next_target" | "stop";
}

/** The resilience layer, as the loop needs it (implemented in resilience/guard.ts). */
export interface AttemptGuard {
  admit(attempt: Attempt): Admission | Refusal;
  waitForRoom(attempt: Attempt, signal: AbortSignal): Promise<Admission | undefined>;
  onSuccess(attempt: Attempt, admission: Admission, session: string | undefined): void;
  /**
   * A half-open probe reached its commit point: the upstream answers again, so the breaker may
   * close now (the attempt's slots stay held until `onSuccess` / `onFailure`).
   */
  probeCommitted(attempt: Attempt): void;
  onFailure(
    attempt: Attempt,
    admission: Admission,
    error: GatewayError,
    session: string | undefined,
  ): FailureOutcome;
}

export interface AttemptLoopOptions {
  request: MessagesRequest;
  requestedModel: string;
  attempts: Attempt[];
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  guard: AttemptGuard;
  session?: string | undefined;
  maxAttempts: number;
  /** Time allowed to reach the commit point. */
  budgetMs: number;
  transientRetries: number;
  retryBaseMs: number;
  /**
   * Whole request, stream included. Leave it out when `signal` already enforces the limit
   * (aborting with `requestTimedOut()`), as the HTTP route's does: one controller per request.
   */
  totalTimeoutMs?: number;
  anthropicBeta?: string;
  /** Commit only at `message_stop` (non-streaming clients: failover stays possible until then). */
  commitAtEnd?: boolean;
  /** Called when an attempt starts (for the route/target headers and logs). */
  onAttempt?: (attempt: Attempt, number: number) => void;
}

function isRefusal(x: Admission | Refusal): x is Refusal {
  return "refused" in x;
}

/** The loop's options without the request, which only the runner holds (and drops at commit). */
export type LoopOptions = Omit<AttemptLoopOptions, "request">;

/**
 * Runs the attempts; yields the event batches of the one that commits. Throws if none does.
 * One generator for the whole request: attempts run as plain async functions up to their commit
 * point, then the committed stream's batches are yielded from here (no generator per level).
 *
 * Only the runner holds the request, and only until every planned target has its upstream body
 * (one body serves all keys and retries of a target): with one target, that is before the first
 * upstream call goes out. A request waiting seconds for its first token, or streaming for
 * minutes, does not keep a large conversation in memory — nor, at high concurrency, make the
 * garbage collector copy it again and again. A plan with fallback targets keeps it until the
 * last of them is built, and at most until the commit point (no failover is possible after it).
 */
export function runAttempts(options: AttemptLoopOptions): AsyncGenerator<EventBatch> {
  const { request, ...loop } = options;
  return streamCommitted(new AttemptRunner(request, loop), loop);
}

async function* streamCommitted(runner: AttemptRunner, options: LoopOptions): AsyncGenerator<EventBatch> {
  const { signal, timeout, dispose } =
    options.totalTimeoutMs === undefined
      ? { signal: options.signal, timeout: NOT_TIMED_OUT, dispose: () => {} }
      : linkedSignal(options.signal, options.totalTimeoutMs);
  try {
    const live = await runner.commit(signal, timeout);
    try {
      yield live.held;
      for (;;) {
        let next: IteratorResult<EventBatch>;
        try {
          next = await live.batches.next();
        } catch (err) {
          throw live.failed(err);
        }
        if (next.done) break;
        live.saw(next.value);
        yield next.value;
      }
      live.succeed();
    } finally {
      live.close();
    }
  } finally {
    dispose();
  }
}

/** The attempts of one request, tried in order (with same-key retries) until one commits. */
class AttemptRunner implements Bodies {
  private readonly deadline: number;
  /** Upstream bodies by target, built on first use. */
  private readonly bodies = new Map<string, string | Uint8Array>();
  private readonly failures: GatewayError[] = [];
  private readonly refusals: Refusal[] = [];
  private readonly skipTargets = new Set<string>();
  private tries = 0;
  // The request's signal and time limit, as `commit` receives them from the stream.
  private signal: AbortSignal;
  private timeout: { readonly aborted: boolean } = NOT_TIMED_OUT;

  constructor(
    private request: MessagesRequest | undefined,
    private readonly options: LoopOptions,
  ) {
    this.deadline = Date.now() + options.budgetMs;
    this.signal = options.signal;
  }

  /** The first attempt to reach its commit point; throws the summary of failures if none does. */
  async commit(signal: AbortSignal, timeout: { readonly aborted: boolean }): Promise<LiveAttempt> {
    this.signal = signal;
    this.timeout = timeout;
    try {
      return await this.firstToCommit();
    } finally {
      this.request = undefined;
      this.bodies.clear();
    }
  }

  /**
   * The attempt's upstream body, built once per target. When every planned target has one, the
   * request is not needed any more and the runner drops it.
   */
  bodyFor(attempt: Attempt): string | Uint8Array {
    const target = targetOf(attempt);
    let body = this.bodies.get(target);
    if (body !== undefined) return body;
    const request = this.request;
    if (request === undefined) throw new Error("attempt loop: the request was already released");
    body = attempt.upstream.provider.buildBody({ request, upstreamModel: attempt.model });
    this.bodies.set(target, body);
    if (this.options.attempts.every((a) => this.bodies.has(targetOf(a)))) this.request = undefined;
    return body;
  }

  private async firstToCommit(): Promise<LiveAttempt> {
    const { options, signal } = this;
    const full: Attempt[] = [];
    for (const attempt of options.attempts) {
      if (this.tries >= options.maxAttempts || Date.now() >= this.deadline) break;
      if (this.skipTargets.has(targetOf(attempt))) continue;
      const admission = options.guard.admit(attempt);
      if (isRefusal(admission)) {
        this.refusals.push(admission);
        if (admission.refused === "full") full.push(attempt);
        continue;
      }
      const live = await this.run(attempt, admission);
      if (live !== undefined) return live;
    }
    // Every target was at capacity: wait (bounded) for room on the first one, else shed load.
    if (this.tries === 0 && full.length > 0) {
      const attempt = full[0]!;
      const admission = await options.guard.waitForRoom(attempt, signal);
      const live = admission === undefined ? undefined : await this.run(attempt, admission);
      if (live !== undefined) return live;
    }
    if (options.signal.aborted) throw abortError(options.signal, this.timeout);
    throw summarize(this.failures, this.refusals);
  }

  /** One attempt with its same-key retries: the committed stream, or undefined to move on. */
  private async run(attempt: Attempt, first: Admission): Promise<LiveAttempt | undefined> {
    const { options, signal } = this;
    let admission: Admission | Refusal = first;
    let corrected = false;
    for (let retry = 0; ; retry++) {
      if (isRefusal(admission)) {
        this.refusals.push(admission);
        return undefined;
      }
      options.onAttempt?.(attempt, ++this.tries);
      // The budget bounds the attempt too (`open`): a hung upstream cannot outlast it.
      const result = await open(attempt, admission, this, options, signal, this.timeout, this.deadline);
      if (!(result instanceof GatewayError)) return result;
      // The provider corrected its next request (e.g. a learned max_tokens limit): once, at once,
      // not a failure of the upstream (no breaker, no cooldown, no transient retry used).
      if (!corrected && learnedFrom(attempt, result)) {
        corrected = true;
        retry--;
        admission = options.guard.admit(attempt);
        continue;
      }
      this.failures.push(result);
      const outcome = options.guard.onFailure(attempt, admission, result, options.session);
      if (outcome.action === "stop") throw result;
      if (outcome.action === "next_target") this.skipTargets.add(targetOf(attempt));
      const more =
        retry < options.transientRetries && this.tries < options.maxAttempts && Date.now() < this.deadline;
      if (outcome.action !== "retry_same" || !more) return undefined;
      await delay(backoff(options.retryBaseMs, retry), signal);
      if (signal.aborted) throw abortError(options.signal, this.timeout);
      if (Date.now() >= this.deadline) return undefined;
      admission = options.guard.admit(attempt);
    }
  }
}

const NOT_TIMED_OUT = { aborted: false } as const;

function learnedFrom(attempt: Attempt, error: GatewayError): boolean {
  const target = { upstreamModel: attempt.model, baseUrl: attempt.upstream.baseUrl };
  return attempt.upstream.provider.learnFromFailure?.(target, error) === true;
}

function targetOf(attempt: Attempt): string {
  return `${attempt.upstream.name}/${attempt.model}`;
}
