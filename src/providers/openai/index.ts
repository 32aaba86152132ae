/**
 * OpenAI-compatible (Chat Completions) upstream adapter (protocol.md G).
 *
 * Quirks handled (G.3), and where:
 * - OpenAI: `max_completion_tokens` (reasoning models reject `max_tokens`); usage only with
 *   `stream_options.include_usage`, in a final `choices: []` chunk; `tool_choice` and
 *   `parallel_tool_calls` only next to `tools`; tool-call ids ≤ 40 chars (tool-ids.ts); every
 *   tool call answered by a `tool` message right after it (messages.ts).
 * - OpenRouter: `: OPENROUTER PROCESSING` SSE comments (ignored by the SSE parser); reasoning in
 *   `delta.reasoning`; a failed generation ends with `finish_reason:"error"` or a mid-stream
 *   `data: {"error":...}` (stream.ts); 402 when credits run out (errors.ts).
 * - DeepSeek: reasoning in `delta.reasoning_content`; cache hits as `prompt_cache_hit_tokens`
 *   (chunk.ts); its thinking mode needs `reasoning_content` echoed on tool-call turns — set
 *   `reasoningField: "reasoning_content"`. Base URL `https://api.deepseek.com` → `/v1/…` (request.ts).
 * - Ollama: reasoning in `delta.reasoning`; bare-string `{"error":"..."}` bodies (error-body.ts);
 *   use `maxTokensField: "max_tokens"` on old versions.
 * - vLLM: flat `{"object":"error","message",...}` bodies; `reasoning_content` / `reasoning`
 *   (both may be present: only one is read); usage may repeat on every chunk (running totals).
 * - LM Studio / llama.cpp: `exceed_context_size_error` with `n_ctx` / `n_prompt_tokens`
 *   (context-length.ts); some builds 400 on `stream_options` → `streamOptions: false`.
 * - Gemini OpenAI-compat (`…/v1beta/openai`): `extra_content.google.thought_signature` on tool
 *   calls must be echoed (carried in the `tool_use` id, tool-ids.ts); tool calls without `index`,
 *   each whole in one chunk, `finish_reason:"stop"` after calls (tool-call-assembler.ts,
 *   map-finish-reason.ts); "input token count (M) exceeds … (N)" overflow wording.
 * - Completion-token limits below Claude Code's 32000 / 128000 (OpenAI "supports at most 16384
 *   completion tokens", Groq, DeepSeek, Volcengine Ark): `maxOutputTokens` clamps up front; a
 *   limit an upstream states is learned per model and clamps later requests (output-limit.ts,
 *   output-limits.ts, `learnFromFailure`).
 * - Any server: body ends without `[DONE]` — an error by default (a proxy may have cut it); the
 *   `requireDone: false` option accepts it when a `finish_reason` came (stream.ts);
 *   several calls claiming `index:0` — matched by `id`; `arguments` `""`/`null` → `{}`.
 */
import type { GatewayError } from "../../core/errors.js";
import type { AttemptContext, Provider } from "../../core/provider.js";
import { decodeChatError } from "./errors.js";
import { clampBodyMaxTokens } from "./max-tokens-member.js";
import type { OpenAIOptions } from "./options.js";
import { outputLimitOf } from "./output-limit.js";
import { OutputLimits } from "./output-limits.js";
import { buildChatBody, buildChatRequest, chatCompletionsUrl, serializeChatBody } from "./request.js";
import { decodeChatStream } from "./stream.js";

export { type OpenAIOptions, parseOpenAIOptions } from "./options.js";

/** The target of a failed attempt, as `learnFromFailure` needs it. */
export type FailedTarget = Pick<AttemptContext, "upstreamModel" | "baseUrl">;

/** The Chat Completions adapter, able to correct its next request after some failures. */
export interface OpenAIProvider extends Provider {
  /**
   * After a failed attempt: true when `error` taught the adapter something that changes its next
   * request for `target` — today, a model's completion-token limit — so retrying that attempt
   * at once (same key, once, not counted as a failure) can succeed. `buildRequest` then lowers
   * `max_tokens` even in a body built before the failure. Later requests to the model are
   * clamped in `buildBody`. Meant for the attempt loop (core/attempt-loop.ts) to call.
   */
  learnFromFailure(target: FailedTarget, error: GatewayError): boolean;
}

/** The Chat Completions adapter; `options` switch per-server quirks (see `OpenAIOptions`). */
export function createOpenAIProvider(options: OpenAIOptions = {}): OpenAIProvider {
  const settings: OpenAIOptions = { ...options };
  const field = settings.maxTokensField ?? "max_completion_tokens";
  const limits = new OutputLimits(settings.maxOutputTokens, settings.modelOutputLimits);
  return {
    type: "openai",
    buildBody: (ctx) => serializeChatBody(buildChatBody(ctx, settings, limits.ceiling(ctx.upstreamModel))),
    buildRequest: (ctx, body) => {
      const ceiling = limits.ceiling(ctx.upstreamModel);
      return buildChatRequest(ctx, ceiling === undefined ? body : clampBodyMaxTokens(body, field, ceiling));
    },
    decodeStream: (body, ctx) => decodeChatStream(body, ctx, settings.requireDone !== false),
    decodeError: (status, headers, body) => decodeChatError(status, headers, body),
    learnFromFailure: (target, error) => {
      const stated = outputLimitOf(error);
      if (stated === undefined) return false;
      limits.learn(target.upstreamModel, stated.limit);
      // Also when another request taught it first: this one's body still asks for more.
      return stated.requested === undefined || stated.requested > stated.limit;
    },
    // `GET /models` checks the server and the key without spending tokens.
    probe: (ctx) => ({
      method: "GET",
      url: chatCompletionsUrl(ctx.baseUrl).replace(/\/chat\/completions$/, "/models"),
      headers: { ...(ctx.apiKey ? { authorization: `Bearer ${ctx.apiKey}` } : {}), ...ctx.headers },
    }),
  };
}
