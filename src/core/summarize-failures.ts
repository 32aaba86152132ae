import type { Refusal } from "./attempt-loop.js";
import { GatewayError, gatewayUnavailable } from "./errors.js";

/**
 * The error a client sees when no attempt committed: a real failure wins (the last one);
 * with none, the refusals decide — every key cooling → 429 with the soonest reset; breakers
 * open → 503 with the soonest reopening, at most a minute; everything at capacity → 529 at once
 * (load shedding).
 */

/**
 * Claude Code waits out a `retry-after` of up to about a minute and gives up at once on a longer
 * one. An open breaker may reopen in up to 5 min (or sooner, when a background check admits its
 * trial early), so its wait is told as at most this: the client comes back and is refused
 * cheaply again, instead of ending the session. A key's cooldown (a quota reset hours away) is
 * told as it is — waiting for it is pointless.
 */
const MAX_BREAKER_WAIT_S = 60;
export function summarize(failures: GatewayError[], refusals: Refusal[] = []): GatewayError {
  const soonest = (list: Refusal[]) => {
    const waits = list.map((r) => r.retryAfterMs).filter((ms): ms is number => ms !== undefined && ms > 0);
    return waits.length > 0 ? Math.max(1, Math.ceil(Math.min(...waits) / 1000)) : undefined;
  };
  const last = failures.at(-1);
  if (last !== undefined) {
    if (!failures.every((f) => f.class === "rate_limit")) return last;
    const waits = [
      ...failures.map((f) => f.retryAfterSeconds),
      ...refusals.filter((r) => r.refused === "cooling").map((r) => (r.retryAfterMs ?? 0) / 1000),
    ].filter((s): s is number => s !== undefined && s > 0);
    return new GatewayError({
      code: "ALL_RATE_LIMITED",
      message: `Every upstream key is rate limited: ${last.message}`,
      status: 429,
      type: "rate_limit_error",
      class: "rate_limit",
      retryAfterSeconds: waits.length > 0 ? Math.max(1, Math.ceil(Math.min(...waits))) : undefined,
      cause: last,
    });
  }
  const cooling = refusals.filter((r) => r.refused === "cooling" || r.refused === "disabled");
  if (refusals.length > 0 && cooling.length === refusals.length) {
    return new GatewayError({
      code: "ALL_KEYS_COOLING",
      message: "Every upstream key is resting after rate limits or rejections",
      status: 429,
      type: "rate_limit_error",
      class: "rate_limit",
      retryAfterSeconds: soonest(cooling),
    });
  }
  if (refusals.some((r) => r.refused === "full")) {
    // Load shedding is an overload, and answered as one (529): Claude Code backs off.
    return new GatewayError({
      code: "OVERLOADED",
      message: "Every upstream is at its concurrency limit; retry shortly",
      status: 529,
      type: "overloaded_error",
      class: "transient",
      retryAfterSeconds: 1,
    });
  }
  return refusals.length > 0
    ? gatewayUnavailable(
        "ALL_TARGETS_OPEN",
        "Every upstream is failing right now (circuit breakers open); retry shortly",
        cap(soonest(refusals), MAX_BREAKER_WAIT_S),
      )
    : gatewayUnavailable("NO_ATTEMPT", "No upstream could take this request");
}

function cap(seconds: number | undefined, max: number): number | undefined {
  return seconds === undefined ? undefined : Math.min(seconds, max);
}
