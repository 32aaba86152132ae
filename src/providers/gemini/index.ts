/**
 * Google Gemini, native API (`streamGenerateContent?alt=sse`, protocol.md F).
 */
import type { Provider } from "../../core/provider.js";
import { createGeminiCountTokens } from "./count-tokens.js";
import { decodeGeminiError } from "./errors.js";
import { DEFAULT_GEMINI_OPTIONS, type GeminiOptions } from "./options.js";
import { buildGenerateBody, buildGenerateRequest } from "./request.js";
import { decodeGeminiStream } from "./stream.js";

export function createGeminiProvider(options: Partial<GeminiOptions> = {}): Provider {
  const resolved: GeminiOptions = { ...DEFAULT_GEMINI_OPTIONS, ...options };
  return {
    type: "gemini",
    buildBody: (ctx) => buildGenerateBody(ctx, resolved),
    buildRequest: buildGenerateRequest,
    decodeStream: decodeGeminiStream,
    decodeError: decodeGeminiError,
    // Tool schemas in the same form as generation (an endpoint refusing one refuses it in both).
    countTokens: createGeminiCountTokens(resolved),
    // `models.get` checks the key and the model without spending generation quota.
    probe: (ctx) => ({
      method: "GET",
      url: `${ctx.baseUrl}/v1beta/models/${encodeURIComponent(ctx.upstreamModel)}`,
      headers: { ...ctx.headers, ...(ctx.apiKey ? { "x-goog-api-key": ctx.apiKey } : {}) },
    }),
  };
}
