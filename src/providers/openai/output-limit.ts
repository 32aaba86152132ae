/**
 * "max_tokens is above this model's completion limit" errors. Claude Code asks for 32000 or
 * 128000 output tokens; many OpenAI-compatible models stop far lower and answer 400. Unlike a
 * context overflow (context-length.ts) the limit does not depend on the input, so the adapter
 * can learn it per model (output-limits.ts) and clamp this and every later request.
 *
 * Wordings recognised (the field may be `max_tokens` or `max_completion_tokens`):
 * - OpenAI: "max_tokens is too large: 32000. This model supports at most 16384 completion
 *   tokens, whereas you provided 32000."
 * - Groq: "max_completion_tokens must be less than or equal to 40960, the maximum value for
 *   max_completion_tokens is less than the context_window for this model", older
 *   "max_tokens for `llama-3.1-8b-instant` must be less than or equal to 8000"
 * - DeepSeek: "Invalid max_tokens value, the valid range of max_tokens is [1, 8192]"
 * - Volcengine Ark: "The parameter `max_completion_tokens` specified in the request are not
 *   valid: integer above maximum value, expected a value <= 12288, but got 32000 instead."
 */
import type { GatewayError } from "../../core/errors.js";
import type { UpstreamErrorInfo } from "./error-body.js";
import { isObject } from "./json.js";

/** The error code of a rejected `max_tokens` whose limit the upstream stated. */
export const OUTPUT_LIMIT_CODE = "UPSTREAM_MAX_TOKENS_TOO_LARGE";

const LIMITS: readonly RegExp[] = [
  /supports at most (\d+) completion tokens/i,
  /max_(?:completion_)?tokens`?(?: for `[^`]*`)? must be less than or equal to `?(\d+)/i,
  /valid range of max_(?:completion_)?tokens is \[\d+,\s*(\d+)\]/i,
  /max_(?:completion_)?tokens`?[^.]*?expected a value <= (\d+)/i,
];

const REQUESTED: readonly RegExp[] = [
  /is too large: (\d+)/i,
  /whereas you provided (\d+)/i,
  /but got (\d+) instead/i,
];

export interface OutputLimit {
  /** The most completion tokens the model accepts. */
  limit: number;
  /** What the request asked for, when the upstream repeated it. */
  requested: number | undefined;
}

/**
 * The completion-token limit an upstream error states, or undefined when it states none. Some
 * relays move OpenAI's text into `param` and put a generic message in front: both are read.
 */
export function statedOutputLimit(error: UpstreamErrorInfo): OutputLimit | undefined {
  const param = error.fields.param;
  for (const text of typeof param === "string" ? [error.message, param] : [error.message]) {
    const limit = firstNumber(LIMITS, text);
    if (limit !== undefined && limit > 0) return { limit, requested: firstNumber(REQUESTED, text) };
  }
  return undefined;
}

/**
 * Anthropic's own wording for this case (`max_tokens: 64001 > 64000, which is the maximum
 * allowed number of output tokens for …`), plus how to make ccgate clamp it before asking.
 * Deliberately not Claude Code's "exceed context limit" wording: with a thinking budget at or
 * above the limit, its retry would send the same `max_tokens` again, ten times over.
 */
export function outputLimitMessage(stated: OutputLimit, upstreamMessage: string): string {
  const over =
    stated.requested === undefined
      ? `max_tokens above ${stated.limit}`
      : `max_tokens: ${stated.requested} > ${stated.limit}`;
  return `${over}, which is the maximum allowed number of output tokens for this model; set options.maxOutputTokens: ${stated.limit} on this openai provider to clamp it (upstream: ${upstreamMessage})`;
}

/** The stated limit a GatewayError from `decodeChatError` carries, read back from its cause. */
export function outputLimitOf(error: GatewayError): OutputLimit | undefined {
  if (error.code !== OUTPUT_LIMIT_CODE || !isUpstreamErrorInfo(error.cause)) return undefined;
  return statedOutputLimit(error.cause);
}

function isUpstreamErrorInfo(value: unknown): value is UpstreamErrorInfo {
  return isObject(value) && typeof value.message === "string" && isObject(value.fields);
}

function firstNumber(patterns: readonly RegExp[], text: string): number | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}
