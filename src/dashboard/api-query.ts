/**
 * Query strings of the dashboard API, parsed with zod at the boundary (unknown parameters, such
 * as cache busters, are ignored) and the JSON shape of a request record.
 */
import { z } from "zod";
import { MAX_RECENT_LIMIT } from "../telemetry/request-log.js";
import type { RequestRecord } from "../telemetry/request-record.js";

/** `GET /api/requests?limit=&before=&outcome=&route=` */
export const recentQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_RECENT_LIMIT).default(100),
  /** Epoch ms: page backwards from the oldest `startedAt` of the previous page. */
  before: z.coerce.number().int().nonnegative().optional(),
  outcome: z.enum(["ok", "error", "aborted"]).optional(),
  route: z.string().min(1).max(200).optional(),
});

const DAY_MS = 86_400_000;

/** `GET /api/summary?windowMs=` — the last `windowMs` milliseconds (default one hour). */
export const summaryQuerySchema = z.object({
  windowMs: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(90 * DAY_MS)
    .default(3_600_000),
});

/** A record as JSON: every field present, `null` where the record has none (stable columns). */
export type RequestRecordJson = { [K in keyof RequestRecord]: Exclude<RequestRecord[K], undefined> | null };

export function recordToJson(r: RequestRecord): RequestRecordJson {
  return {
    id: r.id,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    ttfbMs: r.ttfbMs ?? null,
    endpoint: r.endpoint,
    requestedModel: r.requestedModel,
    route: r.route ?? null,
    target: r.target ?? null,
    provider: r.provider ?? null,
    keyLabel: r.keyLabel ?? null,
    stream: r.stream,
    status: r.status,
    outcome: r.outcome,
    errorType: r.errorType ?? null,
    errorCode: r.errorCode ?? null,
    errorMessage: r.errorMessage ?? null,
    attempts: r.attempts,
    inputTokens: r.inputTokens ?? null,
    outputTokens: r.outputTokens ?? null,
    cacheReadTokens: r.cacheReadTokens ?? null,
    stopReason: r.stopReason ?? null,
    sessionId: r.sessionId ?? null,
  };
}
