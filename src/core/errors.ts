/**
 * The one error type that crosses module boundaries.
 *
 * Every failure — a bad client request, an upstream HTTP error, a broken stream, a deadline —
 * becomes a `GatewayError` with a stable `code`, the Anthropic `type` and HTTP `status` the client
 * should see, and a `class` that tells the core's attempt loop what to do with it. `cause` is
 * always kept (style of fastify `lib/errors.js`, undici `lib/core/errors.js`).
 */
import type { AnthropicErrorType } from "../protocol/anthropic/types.js";

/**
 * How the attempt loop treats a failure.
 * - `transient`: the upstream may answer next time (5xx, reset, timeout): retry / fail over.
 * - `rate_limit`: this key is out of quota for a while: cool it, move to the next key at once.
 * - `auth`: this key is rejected: disable it, move to the next key.
 * - `permanent`: the request itself is wrong (or refused): return to the client as is.
 * - `client`: the client's own request failed validation before any upstream was called.
 */
export type ErrorClass = "transient" | "rate_limit" | "auth" | "permanent" | "client";

export interface GatewayErrorInit {
  code: string;
  message: string;
  status: number;
  type: AnthropicErrorType;
  class: ErrorClass;
  /** Seconds the client (or the key) should wait, from Retry-After / RetryInfo. */
  retryAfterSeconds?: number | undefined;
  /** Upstream status, when the error came from an upstream response. */
  upstreamStatus?: number | undefined;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: AnthropicErrorType;
  readonly class: ErrorClass;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "GatewayError";
    this.code = init.code;
    this.status = init.status;
    this.type = init.type;
    this.class = init.class;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.upstreamStatus = init.upstreamStatus;
  }
}

/** The status a client should see for an Anthropic error type. */
export const STATUS_FOR_TYPE: Readonly<Record<AnthropicErrorType, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** A 4xx caused by the client's own request (never retried, never fails over). */
export function invalidRequest(message: string, cause?: unknown): GatewayError {
  return new GatewayError({
    code: "INVALID_REQUEST",
    message,
    status: 400,
    type: "invalid_request_error",
    class: "client",
    cause,
  });
}

/**
 * An upstream answer that broke (cut off, malformed): 502, retryable by the client. Not 529:
 * nothing was overloaded, and Claude Code gives up on Opus models after three 529s in a row
 * where it retries any other 5xx up to ten times (protocol.md E.6).
 */
export function upstreamBroken(message: string, cause?: unknown, code = "UPSTREAM_MALFORMED"): GatewayError {
  return new GatewayError({
    code,
    message,
    status: 502,
    type: "api_error",
    class: "transient",
    cause,
  });
}

/**
 * No upstream can take the request right now (breakers open, shutting down):
 * 503 with a `retry-after`, which Claude Code retries up to ten times; see `upstreamBroken` for
 * why not 529.
 */
export function gatewayUnavailable(code: string, message: string, retryAfterSeconds?: number): GatewayError {
  return new GatewayError({
    code,
    message,
    status: 503,
    type: "api_error",
    class: "transient",
    retryAfterSeconds,
  });
}

/** The client went away: not the upstream's fault, never retried, never counted. */
export function clientAborted(cause?: unknown): GatewayError {
  return new GatewayError({
    code: "CLIENT_ABORTED",
    message: "The client closed the connection",
    status: 499,
    type: "api_error",
    class: "permanent",
    cause,
  });
}

/** The request ran past `resilience.totalTimeoutMs` (the stream included). */
export function requestTimedOut(cause?: unknown): GatewayError {
  return new GatewayError({
    code: "REQUEST_TIMEOUT",
    message: "The request took longer than the gateway's total time limit (resilience.totalTimeoutMs)",
    status: 504,
    type: "timeout_error",
    class: "permanent",
    cause,
  });
}

/**
 * No attempt reached its commit point within `resilience.attemptBudgetMs`: the one running when
 * the budget ran out was stopped. Transient: the upstream was too slow, another may answer.
 */
export function attemptBudgetSpent(cause?: unknown): GatewayError {
  return new GatewayError({
    code: "ATTEMPT_BUDGET_SPENT",
    message: "No upstream produced content within the time allowed (resilience.attemptBudgetMs)",
    status: 504,
    type: "timeout_error",
    class: "transient",
    cause,
  });
}

/** Coerce anything thrown into a GatewayError without losing it. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError({
    code: "INTERNAL",
    message: `Internal gateway error: ${message}`,
    status: 500,
    type: "api_error",
    class: "transient",
    cause: err,
  });
}
