/**
 * Upstream failures → one GatewayError each (protocol.md G.2, C.2; error classes: core/errors.ts).
 *
 * | upstream | → client | class |
 * | 401 | 401 authentication_error | auth |
 * | 402 | 402 billing_error (OpenRouter: out of credits) | rate_limit, 1 h |
 * | 403 | 403 permission_error | auth |
 * | 404 | 404 not_found_error | permanent |
 * | 429 `insufficient_quota` | 429 rate_limit_error, retry after 1 h | rate_limit |
 * | 429 | 429 rate_limit_error + Retry-After | rate_limit |
 * | 400/413/422 context overflow | 400 in Claude Code's wording (context-length.ts) | permanent |
 * | 400/416/422 max_tokens above the model's stated limit | 400 `max_tokens: B > L, …` (output-limit.ts) | permanent |
 * | 413 | 413 request_too_large | permanent |
 * | other 4xx | 400 invalid_request_error | permanent |
 * | 408 | 504 timeout_error | transient |
 * | 409, 500, other 5xx | 500 api_error | transient |
 * | 502/503/529 | 529 overloaded_error | transient |
 * | 504 | 504 timeout_error | transient |
 */
import { type ErrorClass, GatewayError, STATUS_FOR_TYPE } from "../../core/errors.js";
import type { UpstreamHeaders } from "../../core/provider.js";
import type { AnthropicErrorType } from "../../protocol/anthropic/types.js";
import { contextLengthMessage } from "./context-length.js";
import { parseErrorBody, type UpstreamErrorInfo } from "./error-body.js";
import { OUTPUT_LIMIT_CODE, outputLimitMessage, statedOutputLimit } from "./output-limit.js";
import { retryAfterSeconds } from "./retry-after.js";

/** A key whose quota or credit is gone does not recover in seconds: cool it for an hour. */
const QUOTA_COOLDOWN_SECONDS = 3600;

export function decodeChatError(status: number, headers: UpstreamHeaders, body: string): GatewayError {
  return mapUpstreamError(status, parseErrorBody(body), headers);
}

/**
 * `data: {"error":{...}}` inside a 2xx stream has no HTTP status: infer one from the error's
 * numeric `code` or its type/code names; anything unrecognised is a retryable server error.
 */
export function decodeStreamError(error: UpstreamErrorInfo): GatewayError {
  return mapUpstreamError(inferStatus(error), error, {});
}

export function mapUpstreamError(
  status: number,
  error: UpstreamErrorInfo,
  headers: UpstreamHeaders,
): GatewayError {
  const message = error.message === "" ? `Upstream answered HTTP ${status}` : error.message;
  const make = (
    type: AnthropicErrorType,
    cls: ErrorClass,
    code: string,
    text = message,
    retryAfter?: number,
  ) =>
    new GatewayError({
      code,
      message: text,
      status: STATUS_FOR_TYPE[type],
      type,
      class: cls,
      retryAfterSeconds: retryAfter,
      upstreamStatus: status,
      cause: error,
    });
  if (isQuotaExhausted(error)) {
    return make(
      "rate_limit_error",
      "rate_limit",
      "UPSTREAM_QUOTA_EXHAUSTED",
      `Upstream quota exhausted (insufficient_quota); this key is cooled for ${QUOTA_COOLDOWN_SECONDS} s: ${message}`,
      QUOTA_COOLDOWN_SECONDS,
    );
  }
  switch (status) {
    case 401:
      return make("authentication_error", "auth", "UPSTREAM_AUTH");
    case 402:
      return make("billing_error", "rate_limit", "UPSTREAM_BILLING", message, QUOTA_COOLDOWN_SECONDS);
    case 403:
      return make("permission_error", "auth", "UPSTREAM_PERMISSION");
    case 404:
      return make("not_found_error", "permanent", "UPSTREAM_NOT_FOUND");
    case 408:
      return make("timeout_error", "transient", "UPSTREAM_TIMEOUT");
    case 429:
      return make(
        "rate_limit_error",
        "rate_limit",
        "UPSTREAM_RATE_LIMITED",
        message,
        retryAfterSeconds(headers, message),
      );
    case 500:
      return make("api_error", "transient", "UPSTREAM_SERVER_ERROR");
    case 502:
    case 503:
    case 529:
      return make("overloaded_error", "transient", "UPSTREAM_OVERLOADED");
    case 504:
      return make("timeout_error", "transient", "UPSTREAM_TIMEOUT");
    default:
      break;
  }
  if (status >= 500 || status === 409) return make("api_error", "transient", "UPSTREAM_SERVER_ERROR");
  const overflow =
    status === 400 || status === 413 || status === 422 ? contextLengthMessage(error) : undefined;
  if (overflow !== undefined)
    return make("invalid_request_error", "permanent", "UPSTREAM_CONTEXT_LENGTH", overflow);
  // The stated limit travels in `cause`: the provider learns it from there (`outputLimitOf`).
  const outputLimit =
    status === 400 || status === 416 || status === 422 ? statedOutputLimit(error) : undefined;
  if (outputLimit !== undefined)
    return make(
      "invalid_request_error",
      "permanent",
      OUTPUT_LIMIT_CODE,
      outputLimitMessage(outputLimit, message),
    );
  if (status === 413) return make("request_too_large", "permanent", "UPSTREAM_REQUEST_TOO_LARGE");
  return make("invalid_request_error", "permanent", "UPSTREAM_INVALID_REQUEST");
}

function isQuotaExhausted(error: UpstreamErrorInfo): boolean {
  return error.code === "insufficient_quota" || error.type === "insufficient_quota";
}

const STATUS_BY_NAME: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  context_length_exceeded: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  permission_error: 403,
  not_found_error: 404,
  model_not_found: 404,
  rate_limit_exceeded: 429,
  rate_limit_error: 429,
  insufficient_quota: 429,
  overloaded_error: 529,
};

function inferStatus(error: UpstreamErrorInfo): number {
  if (typeof error.code === "number" && error.code >= 400 && error.code <= 599) return error.code;
  for (const name of [error.code, error.type]) {
    const status = typeof name === "string" ? STATUS_BY_NAME[name] : undefined;
    if (status !== undefined) return status;
  }
  return 500;
}
