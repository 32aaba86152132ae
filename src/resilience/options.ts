/**
 * Resilience knobs with their defaults (README "Failure policies" documents each one).
 * Global under `resilience:`; `rules` may also be set per provider (`providers[].rules`).
 */
import { z } from "zod";

export const ACTIONS = ["retry_same", "next_key", "next_target", "stop"] as const;
export type FailureAction = (typeof ACTIONS)[number];

/** A classification rule: when an upstream failure matches, do this (first match wins). */
export const ruleSchema = z.strictObject({
  when: z.strictObject({
    /** Upstream HTTP status(es). */
    status: z.union([z.number().int(), z.array(z.number().int())]).optional(),
    /** Anthropic error type after mapping (`rate_limit_error`, `overloaded_error`…). */
    type: z.string().optional(),
    /** Gateway error code (`UPSTREAM_IDLE_TIMEOUT`, `UPSTREAM_MALFORMED`…). */
    code: z.string().optional(),
    /** Regular expression on the error message (case-insensitive). */
    message: z.string().optional(),
  }),
  action: z.enum(ACTIONS),
  /** Rest the key (this target) for this long after the failure. */
  cooldownMs: z.number().int().nonnegative().optional(),
});
export type FailureRule = z.infer<typeof ruleSchema>;

export const resilienceSchema = z
  .strictObject({
    /** Attempts per request before giving up (all targets × keys × retries together). */
    maxAttempts: z.number().int().min(1).max(50).default(8),
    /**
     * Time allowed to find an upstream that answers (before the first content reaches the
     * client); an attempt still waiting when it runs out is stopped. Longer than the default
     * first-byte deadline (120 s), so a hung primary still leaves time for a fallback.
     */
    attemptBudgetMs: z.number().int().positive().default(300_000),
    /** Extra tries of the same key after a transient failure before moving on. */
    transientRetries: z.number().int().min(0).max(5).default(1),
    /** Backoff base for those retries (doubles, ±25 % jitter, capped at 4 s). */
    retryBaseMs: z.number().int().min(0).default(250),
    /** Cooldown for a 429 without Retry-After: doubles from here per consecutive 429, capped. */
    rateLimitBaseMs: z.number().int().positive().default(1_000),
    rateLimitMaxMs: z.number().int().positive().default(60_000),
    /** A key the upstream rejects (401/403/invalid) rests this long, then a probe may restore it. */
    authCooldownMs: z
      .number()
      .int()
      .positive()
      .default(30 * 60_000),
    breaker: z
      .strictObject({
        consecutiveFailures: z.number().int().min(1).default(5),
        failureRatio: z.number().min(0.01).max(1).default(0.5),
        windowMs: z.number().int().positive().default(60_000),
        minRequests: z.number().int().min(1).default(10),
        openMs: z.number().int().positive().default(30_000),
        maxOpenMs: z.number().int().positive().default(300_000),
      })
      .prefault({}),
    /** Background recovery probes for open breakers and rested keys. */
    probe: z
      .strictObject({
        enabled: z.boolean().default(true),
        intervalMs: z.number().int().positive().default(30_000),
        timeoutMs: z.number().int().positive().default(10_000),
        /** Probe every target once at start-up (opens its connection pool). */
        warmup: z.boolean().default(true),
      })
      .prefault({}),
    affinity: z
      .strictObject({
        enabled: z.boolean().default(true),
        ttlMs: z
          .number()
          .int()
          .positive()
          .default(60 * 60_000),
        maxSessions: z.number().int().positive().default(100_000),
      })
      .prefault({}),
    concurrency: z
      .strictObject({
        /** Requests in flight per provider (0 = unlimited). */
        perProvider: z.number().int().min(0).default(0),
        /** Requests in flight per key (0 = unlimited). */
        perKey: z.number().int().min(0).default(0),
        /** When every target is full: how many requests may wait, and for how long. */
        queueSize: z.number().int().min(0).default(16),
        queueTimeoutMs: z.number().int().min(0).default(2_000),
      })
      .prefault({}),
    /** Longest a whole request may take, stream included. */
    totalTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30 * 60_000),
    rules: z.array(ruleSchema).default([]),
  })
  .prefault({});

export type ResilienceOptions = z.infer<typeof resilienceSchema>;
