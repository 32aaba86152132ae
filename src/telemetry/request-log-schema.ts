/**
 * The request log's table and the mapping between a `RequestRecord` and one row. Columns hold
 * only what `RequestRecord` carries (no prompts, no keys — keys appear as their label), and
 * error messages pass through `redactSecrets` as a second guard.
 */
import { redactSecrets } from "../core/redact.js";
import type { RequestRecord } from "./request-record.js";

/** Re-exported: the request log was its first user; the filter itself is shared (core/redact.ts). */
export { redactSecrets };

/** Stored as `PRAGMA user_version`; a file written by a newer schema is refused, not guessed at. */
export const SCHEMA_VERSION = 1;

export const CREATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  ttfb_ms REAL,
  endpoint TEXT NOT NULL,
  requested_model TEXT NOT NULL,
  route TEXT,
  target TEXT,
  provider TEXT,
  key_label TEXT,
  stream INTEGER NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error_type TEXT,
  error_code TEXT,
  error_message TEXT,
  attempts INTEGER NOT NULL,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cache_read_tokens INTEGER,
  stop_reason TEXT,
  session_id TEXT
);
CREATE INDEX IF NOT EXISTS requests_started_at ON requests (started_at);
`;

export const INSERT_ROW = `
INSERT INTO requests (id, started_at, duration_ms, ttfb_ms, endpoint, requested_model, route, target,
  provider, key_label, stream, status, outcome, error_type, error_code, error_message, attempts,
  input_tokens, output_tokens, cache_read_tokens, stop_reason, session_id)
VALUES (@id, @started_at, @duration_ms, @ttfb_ms, @endpoint, @requested_model, @route, @target,
  @provider, @key_label, @stream, @status, @outcome, @error_type, @error_code, @error_message, @attempts,
  @input_tokens, @output_tokens, @cache_read_tokens, @stop_reason, @session_id)
`;

/** One row as SQLite returns it (`seq` is the insertion order, used for retention). */
export interface RequestRow {
  seq?: number;
  id: string;
  started_at: number;
  duration_ms: number;
  ttfb_ms: number | null;
  endpoint: string;
  requested_model: string;
  route: string | null;
  target: string | null;
  provider: string | null;
  key_label: string | null;
  stream: number;
  status: number;
  outcome: string;
  error_type: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  stop_reason: string | null;
  session_id: string | null;
}

/** Longest error message kept: enough to diagnose, never a whole upstream body. */
const MAX_ERROR_MESSAGE = 1_000;

export function toRow(r: RequestRecord): RequestRow {
  return {
    id: r.id,
    started_at: Math.round(r.startedAt),
    duration_ms: r.durationMs,
    ttfb_ms: r.ttfbMs ?? null,
    endpoint: r.endpoint,
    requested_model: r.requestedModel,
    route: r.route ?? null,
    target: r.target ?? null,
    provider: r.provider ?? null,
    key_label: r.keyLabel ?? null,
    stream: r.stream ? 1 : 0,
    status: r.status,
    outcome: r.outcome,
    error_type: r.errorType ?? null,
    error_code: r.errorCode ?? null,
    error_message:
      r.errorMessage === undefined ? null : redactSecrets(r.errorMessage).slice(0, MAX_ERROR_MESSAGE),
    attempts: r.attempts,
    input_tokens: r.inputTokens ?? null,
    output_tokens: r.outputTokens ?? null,
    cache_read_tokens: r.cacheReadTokens ?? null,
    stop_reason: r.stopReason ?? null,
    session_id: r.sessionId ?? null,
  };
}

const ENDPOINTS: readonly RequestRecord["endpoint"][] = ["messages", "count_tokens"];
const OUTCOMES: readonly RequestRecord["outcome"][] = ["ok", "error", "aborted"];

export function fromRow(row: RequestRow): RequestRecord {
  const u = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    id: row.id,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    ttfbMs: u(row.ttfb_ms),
    // The file may have been written by a newer ccgate: unknown enum values degrade, not crash.
    endpoint: ENDPOINTS.find((e) => e === row.endpoint) ?? "messages",
    requestedModel: row.requested_model,
    route: u(row.route),
    target: u(row.target),
    provider: u(row.provider),
    keyLabel: u(row.key_label),
    stream: row.stream !== 0,
    status: row.status,
    outcome: OUTCOMES.find((o) => o === row.outcome) ?? "error",
    errorType: u(row.error_type),
    errorCode: u(row.error_code),
    errorMessage: u(row.error_message),
    attempts: row.attempts,
    inputTokens: u(row.input_tokens),
    outputTokens: u(row.output_tokens),
    cacheReadTokens: u(row.cache_read_tokens),
    stopReason: u(row.stop_reason),
    sessionId: u(row.session_id),
  };
}
