/**
 * Per-target switches for OpenAI-compatible servers that deviate from OpenAI's own API
 * (see the quirks list at the top of `index.ts`). Defaults follow OpenAI.
 */
export interface OpenAIOptions {
  /**
   * Send `stream_options: {include_usage: true}` (default `true`). Without it no usage arrives;
   * a few servers answer 400 on the unknown field (protocol.md G.3), set `false` for them.
   */
  streamOptions?: boolean;
  /**
   * Field that carries Anthropic `max_tokens` (default `max_completion_tokens`, which OpenAI's
   * reasoning models require). Use `max_tokens` for servers that only know the legacy field.
   */
  maxTokensField?: "max_completion_tokens" | "max_tokens";
  /**
   * Most completion tokens ever asked for (default: none). Claude Code asks for 32000 or 128000,
   * which many models reject with 400 ("supports at most 16384 completion tokens"): the request's
   * `max_tokens` is clamped to this. Limits an upstream states are also learned per model
   * (output-limits.ts); this sets one before the first rejection.
   */
  maxOutputTokens?: number;
  /**
   * Per upstream model, the same ceiling, overriding `maxOutputTokens` (set from the provider's
   * `models[].maxOutputTokens`, not from `options`).
   */
  modelOutputLimits?: Readonly<Record<string, number>>;
  /** Send `reasoning_effort` derived from thinking / `output_config.effort` (default `true`). */
  reasoningEffort?: boolean;
  /**
   * Echo the text of earlier Anthropic `thinking` blocks in this assistant-message field.
   * Default: thinking is dropped (Chat Completions has no standard input slot, protocol.md G.1).
   * DeepSeek's thinking mode needs `reasoning_content` echoed on turns that made tool calls
   * (it answers 400 otherwise), while older `deepseek-reasoner` rejects the field — hence opt-in.
   */
  reasoningField?: "reasoning_content" | "reasoning";
  /**
   * A stream is complete only with `data: [DONE]` (default `true`): a body that ends after a
   * `finish_reason` but without it may have been cut by a proxy. Set `false` for servers known
   * to omit `[DONE]`; then a finish reason is enough.
   */
  requireDone?: boolean;
  /**
   * Where mid-conversation Anthropic `system` messages go: `user` (default) joins them to the
   * neighbouring user message as `<system-reminder>` text — accepted by every chat template —;
   * `system` keeps them as system messages in place (OpenAI itself accepts that).
   */
  midConversationSystem?: "user" | "system";
}

/**
 * `options` of an `openai` provider in the config file → `OpenAIOptions`, with a message naming
 * the bad key. Unknown keys are rejected so a typo does not silently keep a default.
 */
export function parseOpenAIOptions(options: Record<string, unknown>): OpenAIOptions {
  const out: OpenAIOptions = {};
  for (const [key, value] of Object.entries(options)) {
    switch (key) {
      case "streamOptions":
      case "reasoningEffort":
      case "requireDone":
        if (typeof value !== "boolean") throw new Error(`options.${key} must be true or false`);
        out[key] = value;
        break;
      case "maxTokensField":
        if (value !== "max_completion_tokens" && value !== "max_tokens")
          throw new Error(`options.maxTokensField must be "max_completion_tokens" or "max_tokens"`);
        out.maxTokensField = value;
        break;
      case "maxOutputTokens":
        if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
          throw new Error(
            "options.maxOutputTokens must be a whole number of tokens, at least 1 (e.g. 16384)",
          );
        out.maxOutputTokens = value;
        break;
      case "midConversationSystem":
        if (value !== "user" && value !== "system")
          throw new Error(`options.midConversationSystem must be "user" or "system"`);
        out.midConversationSystem = value;
        break;
      case "reasoningField":
        if (value !== "reasoning_content" && value !== "reasoning")
          throw new Error(`options.reasoningField must be "reasoning_content" or "reasoning"`);
        out.reasoningField = value;
        break;
      default:
        throw new Error(`unknown option "${key}" for an openai provider`);
    }
  }
  return out;
}
