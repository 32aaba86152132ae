/**
 * The attempt loop (design.md §1): try the planned attempts in order until one produces its
 * first content event — the commit point. Before it, a failed attempt is invisible to the client
 * (the next key or target is tried); after it, failures propagate as-is so the HTTP layer can end
 * the stream with an Anthropic `error` event. Providers stay pure: all time and failure policy
 * lives here and in the observer.
 */
import type { MessagesRequest } from "../protocol/anthropic/request-schema.js";
import { isContentEvent, type StreamEvent } from "../protocol/anthropic/types.js";
import { GatewayError } from "./errors.js";
import type { AttemptContext } from "./provider.js";
import type { UpstreamResponse } from "./transport.js";
import type { Attempt } from "./upstream.js";

/** What the loop tells the resilience layer (cooldowns, breakers, metrics). */
export interface AttemptObserver {
  onAttemptFailure(attempt: Attempt, error: GatewayError, committed: boolean): void;
  onAttemptSuccess(attempt: Attempt): void;
}

export interface AttemptLoopOptions {
  request: MessagesRequest;
  requestedModel: string;
  attempts: Attempt[];
  signal: AbortSignal;
  observer: AttemptObserver;
  /** Extra tries of the same attempt after a transient failure before moving on. */
  transientRetries?: number;
  /** Base delay before retrying the same attempt (jittered). */
  retryDelayMs?: number;
  /** Called when an attempt starts (for the route/target headers and logs). */
  onAttempt?: (attempt: Attempt, number: number) => void;
}

/** Runs the attempts; yields the events of the one that commits. Throws if none does. */
export async function* runAttempts(options: AttemptLoopOptions): AsyncGenerator<StreamEvent> {
  const { attempts, signal, observer } = options;
  const retries = options.transientRetries ?? 1;
  const failures: GatewayError[] = [];
  let tries = 0;

  for (const attempt of attempts) {
    for (let retry = 0; retry <= retries; retry++) {
      if (signal.aborted) throw abortedError();
      options.onAttempt?.(attempt, ++tries);
      let response: UpstreamResponse | undefined;
      let committed = false;
      try {
        const ctx = attemptContext(options, attempt, await credentialOf(attempt, signal));
        const upstreamRequest = attempt.upstream.provider.buildRequest(ctx);
        response = await attempt.upstream.transport.send(upstreamRequest, attempt.upstream.provider, signal);
        const held: StreamEvent[] = [];
        for await (const event of attempt.upstream.provider.decodeStream(response.body, ctx)) {
          if (!committed) {
            held.push(event);
            if (!isContentEvent(event)) continue;
            committed = true;
            yield* held;
            held.length = 0;
            continue;
          }
          yield event;
        }
        if (!committed) throw new GatewayError({ ...truncated(), cause: undefined });
        observer.onAttemptSuccess(attempt);
        return;
      } catch (err) {
        const error = asGatewayError(err, signal);
        if (error.code === "CLIENT_ABORTED") throw error;
        observer.onAttemptFailure(attempt, error, committed);
        if (committed || error.class === "permanent" || error.class === "client") throw error;
        failures.push(error);
        if (error.class !== "transient" || retry === retries) break;
        await delay(jittered(options.retryDelayMs ?? 200), signal);
      } finally {
        response?.close();
      }
    }
  }
  throw summarize(failures);
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
  return ctx;
}

function asGatewayError(err: unknown, signal: AbortSignal): GatewayError {
  if (signal.aborted) return abortedError(err);
  if (err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError({
    code: "INTERNAL",
    message: `Internal gateway error: ${message}`,
    status: 500,
    type: "api_error",
    class: "permanent",
    cause: err,
  });
}

function truncated() {
  return {
    code: "UPSTREAM_TRUNCATED",
    message: "The upstream ended its answer before any content",
    status: 529,
    type: "overloaded_error" as const,
    class: "transient" as const,
  };
}

function abortedError(cause?: unknown): GatewayError {
  return new GatewayError({
    code: "CLIENT_ABORTED",
    message: "The client closed the connection",
    status: 499,
    type: "api_error",
    class: "permanent",
    cause,
  });
}

/**
 * The error a client sees when every attempt failed: all rate-limited → 429 with the soonest
 * retry-after; otherwise the last failure (the most informative one for the last target).
 */
export function summarize(failures: GatewayError[]): GatewayError {
  const last = failures.at(-1);
  if (last === undefined) {
    return new GatewayError({
      code: "NO_ATTEMPT",
      message: "No upstream could take this request",
      status: 529,
      type: "overloaded_error",
      class: "transient",
    });
  }
  if (failures.every((f) => f.class === "rate_limit")) {
    const waits = failures.map((f) => f.retryAfterSeconds).filter((s): s is number => s !== undefined);
    const soonest = waits.length > 0 ? Math.min(...waits) : undefined;
    return new GatewayError({
      code: "ALL_RATE_LIMITED",
      message: `Every upstream key is rate limited: ${last.message}`,
      status: 429,
      type: "rate_limit_error",
      class: "rate_limit",
      retryAfterSeconds: soonest,
      cause: last,
    });
  }
  return last;
}

function jittered(ms: number): number {
  return ms * (0.75 + Math.random() * 0.5);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
