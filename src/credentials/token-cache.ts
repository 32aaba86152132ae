/**
 * A `TokenSource` that caches a short-lived token and refreshes it before it expires.
 *
 * The attempt loop asks for a token on every attempt, so the common case must be a lookup, not
 * a network call. A token is reused until `refreshMarginMs` before its expiry (an attempt can
 * stream for minutes, but the token is only checked when the request starts, so a small margin is
 * enough). Concurrent callers share one in-flight refresh: a burst of requests at expiry makes
 * one token exchange, not one per request. A failed refresh is not cached; the next call tries
 * again (the resilience guard decides how often a failing key is tried).
 *
 * A refresh has a deadline (`refreshTimeoutMs`). Without one, a token endpoint that accepts the
 * connection and never answers would hang every request of the key: each joins the same shared
 * refresh, inside its attempt, so nothing fails over. At the deadline the refresh is abandoned
 * (its signal aborts, so the fetcher can cancel its request), dropped from the cache so the next
 * call starts a fresh one, and its waiters get a transient 503, which the attempt loop fails
 * over on.
 */
import { GatewayError } from "../core/errors.js";
import type { TokenSource } from "../core/upstream.js";

/** One token as the credential library returned it. */
export interface FetchedToken {
  token: string;
  /** Epoch milliseconds; undefined when the issuer did not say. */
  expiresAt: number | undefined;
}

export interface TokenCacheOptions {
  /** Refresh this long before expiry. Default 60 s. */
  refreshMarginMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /** Give up on a refresh after this long. Default `DEFAULT_REFRESH_TIMEOUT_MS`. */
  refreshTimeoutMs?: number;
  /** What is being asked, for the timeout message (e.g. `token endpoint https://…`). */
  issuer?: string;
}

export const DEFAULT_REFRESH_MARGIN_MS = 60_000;
/**
 * How long one token refresh may take. A healthy exchange takes well under a second, and the
 * library retries 5xx itself inside this window; 30 s is far below Claude Code's 10-minute request
 * timeout (`API_TIMEOUT_MS`), so the attempt loop still has time to fail over to another target.
 */
export const DEFAULT_REFRESH_TIMEOUT_MS = 30_000;
/** How long a token without a known expiry is reused (Google's access tokens live 1 h). */
const UNKNOWN_EXPIRY_REUSE_MS = 5 * 60_000;

/** Wrap `fetchToken` (which really asks the issuer) in a cache; see the module comment. */
export function cachedTokenSource(
  fetchToken: (signal: AbortSignal) => Promise<FetchedToken>,
  options: TokenCacheOptions = {},
): TokenSource {
  const margin = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const now = options.now ?? Date.now;
  const timeoutMs = options.refreshTimeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
  const issuer = options.issuer ?? "the token endpoint";
  let current: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  const refresh = (): Promise<string> => {
    const started = now();
    const deadline = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = refreshTimedOut(issuer, timeoutMs);
        deadline.abort(error);
        reject(error);
      }, timeoutMs);
    });
    let fetched: Promise<FetchedToken>;
    try {
      fetched = fetchToken(deadline.signal);
    } catch (err) {
      // A fetcher that throws synchronously still rejects the shared promise, not the caller.
      fetched = Promise.reject(err);
    }
    const pending = Promise.race([fetched, timedOut])
      .then((fetched) => {
        if (fetched.token === "") throw new Error("the token endpoint returned an empty access token");
        const refreshAt =
          fetched.expiresAt === undefined ? started + UNKNOWN_EXPIRY_REUSE_MS : fetched.expiresAt - margin;
        current = { token: fetched.token, refreshAt };
        return fetched.token;
      })
      .finally(() => {
        clearTimeout(timer);
        // A timed-out refresh leaves here too: the next call starts a fresh one.
        if (inflight === pending) inflight = undefined;
      });
    // Callers that gave up (aborted) no longer listen; the outcome still must not go unhandled.
    pending.catch(() => {});
    inflight = pending;
    return pending;
  };

  return {
    getToken(signal) {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      // A token that came back already inside the margin is still handed to the callers that
      // waited for it, but the next call refreshes.
      if (current !== undefined && now() < current.refreshAt) return Promise.resolve(current.token);
      return untilAborted(inflight ?? refresh(), signal);
    },
  };
}

/** Transient, like an unreachable token endpoint: the key is fine, the attempt fails over. */
function refreshTimedOut(issuer: string, timeoutMs: number): GatewayError {
  return new GatewayError({
    code: "TOKEN_REFRESH_TIMEOUT",
    message: `${issuer} did not issue an access token within ${timeoutMs} ms`,
    status: 503,
    type: "api_error",
    class: "transient",
  });
}

/** `promise`, or a rejection as soon as `signal` aborts (the shared refresh keeps going). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("aborted");
}
