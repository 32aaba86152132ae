/**
 * The attempt loop (design.md §1): try the planned attempts in order until one produces its
 * first content event — the commit point. Before it, a failed attempt is invisible to the client
 * (the resilience guard decides: same key again, next key, next target, or stop); after it,
 * failures propagate so the HTTP layer ends the stream with an Anthropic `error` event.
 * Providers stay pure; time and failure policy live here and in the guard.
 */
import type { MessagesRequest } from "../protocol/anthropic/request-schema.js";
import { isContentEvent, type StreamEvent } from "../protocol/anthropic/types.js";
import { clientAborted, GatewayError, toGatewayError } from "./errors.js";
import { type EventBatch, emit } from "./event-batches.js";
import type { AttemptContext } from "./provider.js";
import { summarize } from "./summarize-failures.js";
import { backoff, delay, linkedSignal } from "./timing.js";
import type { UpstreamResponse } from "./transport.js";
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
  /** Whole request, stream included. */
  totalTimeoutMs: number;
  anthropicBeta?: string;
  /** Commit only at `message_stop` (non-streaming clients: failover stays possible until then). */
  commitAtEnd?: boolean;
  /** Called when an attempt starts (for the route/target headers and logs). */
  onAttempt?: (attempt: Attempt, number: number) => void;
}

function isRefusal(x: Admission | Refusal): x is Refusal {
  return "refused" in x;
}

/** Runs the attempts; yields the event batches of the one that commits. Throws if none does. */
export async function* runAttempts(options: AttemptLoopOptions): AsyncGenerator<EventBatch> {
  const { guard } = options;
  const deadline = Date.now() + options.budgetMs;
  const { signal, timeout, dispose } = linkedSignal(options.signal, options.totalTimeoutMs);
  const failures: GatewayError[] = [];
  const refusals: Refusal[] = [];
  const full: Attempt[] = [];
  const skipTargets = new Set<string>();
  let tries = 0;

  // One attempt with its same-key retries. Returns true when it committed and finished.
  async function* run(attempt: Attempt, first: Admission): AsyncGenerator<EventBatch, boolean> {
    let admission: Admission | Refusal = first;
    for (let retry = 0; ; retry++) {
      if (isRefusal(admission)) {
        refusals.push(admission);
        return false;
      }
      options.onAttempt?.(attempt, ++tries);
      const result = yield* once(attempt, admission, options, signal, timeout);
      if (result === "done") return true;
      failures.push(result);
      const outcome = guard.onFailure(attempt, admission, result, options.session);
      if (outcome.action === "stop") throw result;
      if (outcome.action === "next_target") skipTargets.add(targetOf(attempt));
      const more = retry < options.transientRetries && tries < options.maxAttempts && Date.now() < deadline;
      if (outcome.action !== "retry_same" || !more) return false;
      await delay(backoff(options.retryBaseMs, retry), signal);
      if (signal.aborted) throw abortError(options.signal, timeout);
      admission = guard.admit(attempt);
    }
  }

  try {
    for (const attempt of options.attempts) {
      if (tries >= options.maxAttempts || Date.now() >= deadline) break;
      if (skipTargets.has(targetOf(attempt))) continue;
      const admission = guard.admit(attempt);
      if (isRefusal(admission)) {
        refusals.push(admission);
        if (admission.refused === "full") full.push(attempt);
        continue;
      }
      if (yield* run(attempt, admission)) return;
    }
    // Every target was at capacity: wait (bounded) for room on the first one, else shed load.
    if (tries === 0 && full.length > 0) {
      const attempt = full[0]!;
      const admission = await guard.waitForRoom(attempt, signal);
      if (admission !== undefined && (yield* run(attempt, admission))) return;
    }
    if (options.signal.aborted) throw abortError(options.signal, timeout);
    throw summarize(failures, refusals);
  } finally {
    dispose();
  }
}

/** One upstream call. Returns "done" after a committed, complete stream; the error otherwise. */
async function* once(
  attempt: Attempt,
  admission: Admission,
  options: AttemptLoopOptions,
  signal: AbortSignal,
  timeout: { readonly aborted: boolean },
): AsyncGenerator<EventBatch, "done" | GatewayError> {
  let response: UpstreamResponse | undefined;
  let committed = false;
  let succeeded = false;
  // A non-streaming client sees nothing until the message is complete, so its attempt can
  // still fail over after content: it commits at `message_stop`.
  const commits = options.commitAtEnd === true ? isMessageStop : isContentEvent;
  try {
    const ctx = attemptContext(options, attempt, await credentialOf(attempt, signal));
    const upstreamRequest = attempt.upstream.provider.buildRequest(ctx);
    response = await attempt.upstream.transport.send(upstreamRequest, attempt.upstream.provider, signal);
    // Before the commit point, events wait here (a failure now must stay invisible).
    let held: StreamEvent[] = [];
    for await (const batch of attempt.upstream.provider.decodeStream(response.body, ctx)) {
      // Success is recorded before message_stop goes out: a consumer that stops right after it
      // (the non-stream accumulator) never resumes this generator.
      if (!succeeded && batch.some(isMessageStop)) {
        succeeded = true;
        options.guard.onSuccess(attempt, admission, options.session);
      }
      if (committed) {
        yield batch;
        continue;
      }
      if (held.length === 0) held = batch;
      else emit(held, batch);
      if (!batch.some(commits)) continue;
      committed = true;
      yield held;
      held = [];
    }
    if (!committed) return truncatedBeforeContent();
    if (!succeeded) {
      succeeded = true;
      options.guard.onSuccess(attempt, admission, options.session);
    }
    return "done";
  } catch (err) {
    const error = asGatewayError(err, options.signal, timeout);
    if (error.code === "CLIENT_ABORTED") throw error;
    if (succeeded) throw error;
    if (!committed) return error;
    // After the commit point the client has content: record the failure, then let it surface.
    options.guard.onFailure(attempt, admission, error, options.session);
    throw error;
  } finally {
    response?.close();
    admission.release();
  }
}

function isMessageStop(event: StreamEvent): boolean {
  return event.type === "message_stop";
}

function targetOf(attempt: Attempt): string {
  return `${attempt.upstream.name}/${attempt.model}`;
}

/** The key's static secret, or a fresh token from its source (a failure is an `auth` error). */
export async function credentialOf(attempt: Attempt, signal: AbortSignal): Promise<string | undefined> {
  const key = attempt.key;
  if (key?.tokenSource === undefined) return key?.secret;
  try {
    return await key.tokenSource.getToken(signal);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError({
      code: "CREDENTIALS_UNAVAILABLE",
      message: `Could not obtain an access token for ${attempt.upstream.name} (${key.label}): ${err instanceof Error ? err.message : String(err)}`,
      status: 401,
      type: "authentication_error",
      class: "auth",
      cause: err,
    });
  }
}

function attemptContext(
  options: AttemptLoopOptions,
  attempt: Attempt,
  apiKey: string | undefined,
): AttemptContext {
  const ctx: AttemptContext = {
    request: options.request,
    requestedModel: options.requestedModel,
    upstreamModel: attempt.model,
    baseUrl: attempt.upstream.baseUrl,
    apiKey,
  };
  if (Object.keys(attempt.upstream.headers).length > 0) ctx.headers = attempt.upstream.headers;
  if (options.anthropicBeta !== undefined) ctx.anthropicBeta = options.anthropicBeta;
  return ctx;
}

function asGatewayError(
  err: unknown,
  client: AbortSignal,
  timeout: { readonly aborted: boolean },
): GatewayError {
  return client.aborted || timeout.aborted ? abortError(client, timeout, err) : toGatewayError(err);
}

function abortError(
  client: AbortSignal,
  timeout: { readonly aborted: boolean },
  cause?: unknown,
): GatewayError {
  // The server aborts in-flight requests with the error they should end with (shutdown).
  if (client.aborted && client.reason instanceof GatewayError) return client.reason;
  if (!client.aborted && timeout.aborted) {
    return new GatewayError({
      code: "REQUEST_TIMEOUT",
      message: "The request took longer than the gateway's total time limit (resilience.totalTimeoutMs)",
      status: 504,
      type: "timeout_error",
      class: "permanent",
      cause,
    });
  }
  return clientAborted(cause);
}

function truncatedBeforeContent(): GatewayError {
  return new GatewayError({
    code: "UPSTREAM_TRUNCATED",
    message: "The upstream ended its answer before any content",
    status: 529,
    type: "overloaded_error",
    class: "transient",
  });
}
