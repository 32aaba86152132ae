/**
 * Anthropic-compatible upstream failures → `GatewayError` (protocol.md B.6, C.1–C.4).
 *
 * The relay speaks the client's own protocol, so the upstream's error `type` and `message` are
 * kept as they are: Claude Code reacts to the message text ("prompt is too long: …",
 * protocol.md C.4), and the HTTP status is the upstream's (a 529 stays a 529). The `class`, which
 * drives failover in the core, comes from the status.
 */
import { type ErrorClass, GatewayError, STATUS_FOR_TYPE } from "../../core/errors.js";
import type { UpstreamHeaders } from "../../core/provider.js";
import type { AnthropicErrorType } from "../../protocol/anthropic/types.js";

/** How much of a non-Anthropic error body (an HTML page from a proxy) is kept as `cause`. */
const MAX_CAUSE_BODY = 2048;

function isErrorType(value: unknown): value is AnthropicErrorType {
  return typeof value === "string" && Object.hasOwn(STATUS_FOR_TYPE, value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * What the attempt loop does with an upstream status (protocol.md C.2, design.md §1):
 * 429 → cool the key; 401/402/403 → this key is unusable (402 = its billing), try the next;
 * 408/409/5xx/529 → the upstream may answer next time; other 4xx → the request itself is wrong.
 */
export function classForStatus(status: number): ErrorClass {
  if (status === 429) return "rate_limit";
  if (status === 401 || status === 402 || status === 403) return "auth";
  if (status === 408 || status === 409 || status >= 500) return "transient";
  if (status >= 400) return "permanent";
  // A non-error status reaching the error path means a confused upstream: another may do better.
  return "transient";
}

/** The Anthropic error type for a status when the body does not name one (protocol.md C.2). */
export function typeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 400 && status < 500 && status !== 408 && status !== 409
        ? "invalid_request_error"
        : "api_error";
  }
}

function codeFor(type: AnthropicErrorType): string {
  return `UPSTREAM_${type.toUpperCase()}`;
}

function headerValue(headers: UpstreamHeaders, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    // undici hands headers over lower-cased; other transports may not.
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds to wait from `retry-after-ms` (float ms) or `retry-after` (seconds or HTTP date), the
 * order the SDK reads them (protocol.md C.3). Rounded up: Claude Code parses integer seconds (E.6).
 */
export function parseRetryAfter(headers: UpstreamHeaders, now: number = Date.now()): number | undefined {
  const ms = Number(headerValue(headers, "retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms > 0) return Math.ceil(ms / 1000);
  const raw = headerValue(headers, "retry-after")?.trim();
  if (raw === undefined || raw === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds > 0 ? Math.ceil(seconds) : undefined;
  const date = Date.parse(raw);
  if (Number.isNaN(date) || date <= now) return undefined;
  return Math.ceil((date - now) / 1000);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `{type:"error", error:{type, message}}` (also a bare `{error:{…}}` from lenient relays). */
function errorPayload(json: unknown): { type: unknown; message: unknown } | undefined {
  if (!isRecord(json)) return undefined;
  if (isRecord(json.error)) return { type: json.error.type, message: json.error.message };
  if (typeof json.message === "string") return { type: json.type, message: json.message };
  return undefined;
}

/**
 * A non-2xx answer from an Anthropic-compatible upstream → one GatewayError: same type and
 * message as the upstream, the upstream's status, class from the status, Retry-After kept.
 */
export function decodeAnthropicError(status: number, headers: UpstreamHeaders, body: string): GatewayError {
  const json = parseJson(body);
  const payload = errorPayload(json);
  const type = isErrorType(payload?.type) ? payload.type : typeForStatus(status);
  const message =
    typeof payload?.message === "string" && payload.message !== ""
      ? payload.message
      : `Upstream returned HTTP ${status}`;
  return new GatewayError({
    code: codeFor(type),
    message,
    status,
    type,
    class: classForStatus(status),
    retryAfterSeconds: parseRetryAfter(headers),
    upstreamStatus: status,
    cause: payload === undefined ? { upstreamStatus: status, body: body.slice(0, MAX_CAUSE_BODY) } : json,
  });
}

/**
 * An in-band `event: error` (protocol.md B.6) → GatewayError. The stream already had a 200, so
 * the status is the one the error type stands for (overloaded_error → 529, api_error → 500, …);
 * an unknown or missing type is treated as an `api_error`.
 */
export function decodeInBandError(event: Record<string, unknown>): GatewayError {
  const payload = errorPayload(event);
  const type: AnthropicErrorType = isErrorType(payload?.type) ? payload.type : "api_error";
  const status = STATUS_FOR_TYPE[type];
  const message =
    typeof payload?.message === "string" && payload.message !== ""
      ? payload.message
      : `Upstream stream error (${typeof payload?.type === "string" ? payload.type : "unknown"})`;
  return new GatewayError({
    code: codeFor(type),
    message,
    status,
    type,
    class: classForStatus(status),
    cause: event,
  });
}
