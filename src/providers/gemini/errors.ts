/**
 * A failed Gemini answer → one `GatewayError` (protocol.md F.9, C.2, C.4).
 *
 * Google's body is `{"error":{code,message,status,details}}`, sometimes wrapped in a JSON array;
 * the same object also arrives mid-stream as a `data:` chunk (then the HTTP status was 200 and
 * the error's own `code`/`status` decide). `class` drives failover: a bad key disables the key,
 * a quota cools it, 5xx are retried, a bad request goes back to the client.
 */
import { type ErrorClass, GatewayError } from "../../core/errors.js";
import type { UpstreamHeaders } from "../../core/provider.js";
import type { AnthropicErrorType } from "../../protocol/anthropic/types.js";

interface GoogleError {
  code: number | undefined;
  message: string | undefined;
  status: string | undefined;
  details: Record<string, unknown>[];
}

/** gRPC canonical status → HTTP, for error chunks that carry no numeric `code`. */
const HTTP_FOR_GRPC: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNKNOWN: 500,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

const OVERFLOW = /input token count \(?(\d+)\)? exceeds the maximum number of tokens allowed \(?(\d+)\)?/i;
const BAD_KEY = /API key (not valid|expired|invalid)/i;

/**
 * Decode a non-2xx Gemini answer (or a mid-stream error chunk, with `status` 200). `now` is
 * only for tests of the per-day quota wait.
 */
export function decodeGeminiError(
  status: number,
  headers: UpstreamHeaders,
  body: string,
  now: Date = new Date(),
): GatewayError {
  const google = parseGoogleError(body);
  const httpStatus = status >= 400 ? status : (google?.code ?? HTTP_FOR_GRPC[google?.status ?? ""] ?? 500);
  const upstreamMessage = google?.message ?? nonJsonSummary(body);
  const message = redact(`Gemini: ${upstreamMessage}`);
  // The raw body is kept for logs, redacted like the message.
  const cause = { status, body: redact(body.slice(0, 2000)) };
  const make = (
    code: string,
    type: AnthropicErrorType,
    cls: ErrorClass,
    outStatus: number,
    retryAfter?: number,
  ) =>
    new GatewayError({
      code,
      message,
      status: outStatus,
      type,
      class: cls,
      retryAfterSeconds: retryAfter,
      upstreamStatus: httpStatus,
      cause,
    });

  const reasons = (google?.details ?? []).map((d) => d.reason).filter((r) => typeof r === "string");
  // An invalid key is a 400 INVALID_ARGUMENT on Gemini; clients and failover need a 401.
  if (
    reasons.includes("API_KEY_INVALID") ||
    (google?.message !== undefined && BAD_KEY.test(google.message))
  ) {
    return make("UPSTREAM_AUTH", "authentication_error", "auth", 401);
  }
  const overflow = google?.message?.match(OVERFLOW);
  if (overflow) {
    // Claude Code compacts on this exact wording (protocol.md C.4).
    return new GatewayError({
      code: "PROMPT_TOO_LONG",
      message: `prompt is too long: ${overflow[1]} tokens > ${overflow[2]} maximum`,
      status: 400,
      type: "invalid_request_error",
      class: "permanent",
      upstreamStatus: httpStatus,
      cause,
    });
  }
  if (httpStatus === 429 || google?.status === "RESOURCE_EXHAUSTED") {
    const perDay = isPerDayQuota(google?.details ?? []);
    const wait = perDay
      ? secondsUntilPacificMidnight(now)
      : (retryDelaySeconds(google?.details ?? []) ?? retryAfterHeader(headers, now));
    return make(
      perDay ? "UPSTREAM_QUOTA_DAILY" : "UPSTREAM_RATE_LIMITED",
      "rate_limit_error",
      "rate_limit",
      429,
      wait,
    );
  }
  // A precondition of the account (region, billing) fails: another key or provider may work.
  if (google?.status === "FAILED_PRECONDITION")
    return make("UPSTREAM_PRECONDITION", "permission_error", "auth", 403);
  if (httpStatus === 401) return make("UPSTREAM_AUTH", "authentication_error", "auth", 401);
  if (httpStatus === 403) return make("UPSTREAM_PERMISSION", "permission_error", "auth", 403);
  if (httpStatus === 404) return make("UPSTREAM_NOT_FOUND", "not_found_error", "permanent", 404);
  if (httpStatus === 408) return make("UPSTREAM_TIMEOUT", "timeout_error", "transient", 504);
  if (httpStatus === 413) return make("UPSTREAM_TOO_LARGE", "request_too_large", "permanent", 413);
  // 503 is Gemini's "model is overloaded": Anthropic's overloaded_error (F.9).
  if (httpStatus === 503) return make("UPSTREAM_OVERLOADED", "overloaded_error", "transient", 529);
  if (httpStatus === 504) return make("UPSTREAM_TIMEOUT", "timeout_error", "transient", 504);
  if (httpStatus >= 400 && httpStatus < 500) {
    return make("UPSTREAM_INVALID_REQUEST", "invalid_request_error", "permanent", 400);
  }
  return make("UPSTREAM_SERVER_ERROR", "api_error", "transient", 500);
}

/** Parse `{"error":{...}}` or `[{"error":{...}}]`; undefined when the body is not that. */
function parseGoogleError(body: string): GoogleError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) value = value[0];
  const error = isRecord(value) ? value.error : undefined;
  if (!isRecord(error)) return undefined;
  return {
    code: typeof error.code === "number" && error.code >= 400 ? error.code : undefined,
    message: typeof error.message === "string" && error.message !== "" ? error.message : undefined,
    status: typeof error.status === "string" ? error.status : undefined,
    details: Array.isArray(error.details) ? error.details.filter(isRecord) : [],
  };
}

function nonJsonSummary(body: string): string {
  const text = body.replace(/\s+/g, " ").trim().slice(0, 200);
  return text === "" ? "upstream error without a body" : `non-JSON error body: ${text}`;
}

/** `google.rpc.RetryInfo.retryDelay` is a proto Duration string: `"43s"`, `"1.5s"`. */
function retryDelaySeconds(details: Record<string, unknown>[]): number | undefined {
  for (const detail of details) {
    const delay = detail.retryDelay;
    if (!isType(detail, "RetryInfo") || typeof delay !== "string") continue;
    const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
    if (match) return Math.max(1, Math.ceil(Number(match[1])));
  }
  return undefined;
}

/** A `QuotaFailure` violation whose `quotaId` is a per-day quota (e.g. `...PerDayPerProject...`). */
function isPerDayQuota(details: Record<string, unknown>[]): boolean {
  return details.some(
    (detail) =>
      isType(detail, "QuotaFailure") &&
      Array.isArray(detail.violations) &&
      detail.violations.some(
        (v) => isRecord(v) && typeof v.quotaId === "string" && v.quotaId.includes("PerDay"),
      ),
  );
}

/** `Retry-After` as integer seconds (delta-seconds or an HTTP date). */
function retryAfterHeader(headers: UpstreamHeaders, now: Date): number | undefined {
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === "retry-after")?.[1];
  const raw = Array.isArray(entry) ? entry[0] : entry;
  if (raw === undefined || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds > 0 ? Math.ceil(seconds) : undefined;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  const delta = Math.ceil((date - now.getTime()) / 1000);
  return delta > 0 ? delta : undefined;
}

/**
 * Seconds until the next midnight in America/Los_Angeles, when Gemini's daily quotas reset.
 * Approximation: on the two DST-change days the answer is off by up to one hour; a daily quota
 * is cooled for that long either way, and the key is retried after the wait.
 */
export function secondsUntilPacificMidnight(now: Date): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/Los_Angeles",
    hourCycle: "h23",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const elapsed = (part("hour") % 24) * 3600 + part("minute") * 60 + part("second");
  return 86_400 - elapsed;
}

function isType(detail: Record<string, unknown>, name: string): boolean {
  const type = detail["@type"];
  return typeof type === "string" && type.endsWith(`google.rpc.${name}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Never echo a key: drop `key=` query values and Google API keys (`AIza…`) from any text. */
function redact(text: string): string {
  return text
    .replace(/([?&]key=)[^&\s"']+/gi, "$1[redacted]")
    .replace(/AIza[0-9A-Za-z_-]{20,}/g, "[redacted]");
}
