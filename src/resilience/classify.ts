/**
 * Failure → action (issue: resilience §2). Configured rules (provider first, then global) win;
 * otherwise the class decides:
 * - transient (connect/reset, timeouts, 5xx, UNAVAILABLE, overloaded): retry the same key with
 *   backoff, then move on; counts against the breaker. An upstream that hung (no answer, or
 *   silence before any content, for its whole deadline) is not tried again: the next target is,
 *   while the attempt budget still has room for it;
 * - rate_limit (429, RESOURCE_EXHAUSTED): rest the key until Retry-After / RetryInfo (else
 *   exponential from `rateLimitBaseMs`), next key at once;
 * - auth (401/403, invalid key): rest the key for `authCooldownMs`, next key;
 * - permanent / client (400, prompt too long, content policy): stop — the client gets it as is.
 */
import type { GatewayError } from "../core/errors.js";
import type { FailureAction, FailureRule, ResilienceOptions } from "./options.js";

export interface FailureDecision {
  action: FailureAction;
  /** Rest this (target, key) for this long; undefined = no cooldown. */
  cooldownMs: number | undefined;
  /** Whether the failure says the upstream is unhealthy (feeds the breaker). */
  countsForBreaker: boolean;
  /** The key itself is rejected (all its targets): shown as "disabled". */
  disablesKey: boolean;
}

export function classifyFailure(
  error: GatewayError,
  rules: readonly FailureRule[],
  options: ResilienceOptions,
  consecutiveRateLimits: number,
): FailureDecision {
  const base = defaultDecision(error, options, consecutiveRateLimits);
  const rule = rules.find((r) => matches(r, error));
  if (rule === undefined) return base;
  return {
    ...base,
    action: rule.action,
    cooldownMs: rule.cooldownMs ?? (rule.action === "stop" ? undefined : base.cooldownMs),
  };
}

/** Deadlines that ran out: waiting as long again on the same upstream would spend the budget. */
const HUNG = new Set(["UPSTREAM_FIRST_BYTE_TIMEOUT", "UPSTREAM_IDLE_TIMEOUT", "ATTEMPT_BUDGET_SPENT"]);

function defaultDecision(error: GatewayError, options: ResilienceOptions, n: number): FailureDecision {
  switch (error.class) {
    case "transient":
      return {
        action: HUNG.has(error.code) ? "next_target" : "retry_same",
        cooldownMs: undefined,
        countsForBreaker: true,
        disablesKey: false,
      };
    case "rate_limit": {
      const backoff = Math.min(options.rateLimitBaseMs * 2 ** Math.max(0, n - 1), options.rateLimitMaxMs);
      const cooldownMs = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : backoff;
      return { action: "next_key", cooldownMs, countsForBreaker: false, disablesKey: false };
    }
    case "auth":
      return {
        action: "next_key",
        cooldownMs: options.authCooldownMs,
        countsForBreaker: false,
        disablesKey: true,
      };
    case "permanent":
    case "client":
      return { action: "stop", cooldownMs: undefined, countsForBreaker: false, disablesKey: false };
    default: {
      const never: never = error.class;
      throw new Error(`unknown error class ${String(never)}`);
    }
  }
}

function matches(rule: FailureRule, error: GatewayError): boolean {
  const w = rule.when;
  if (w.status !== undefined) {
    const statuses = Array.isArray(w.status) ? w.status : [w.status];
    const status = error.upstreamStatus ?? error.status;
    if (!statuses.includes(status)) return false;
  }
  if (w.type !== undefined && w.type !== error.type) return false;
  if (w.code !== undefined && w.code !== error.code) return false;
  if (w.message !== undefined && !new RegExp(w.message, "i").test(error.message)) return false;
  return true;
}
