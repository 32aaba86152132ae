/**
 * Chat Completions usage → Anthropic usage (protocol.md G.2, B.1): `prompt_tokens` includes
 * cached tokens while Anthropic's `input_tokens` excludes them; `completion_tokens` already
 * includes reasoning tokens.
 */
import type { Usage } from "../../protocol/anthropic/types.js";
import type { ChunkUsage } from "./chunk.js";

export function toAnthropicUsage(usage: ChunkUsage): Partial<Usage> {
  const out: Partial<Usage> = {};
  const cached = usage.cachedTokens ?? 0;
  if (usage.promptTokens !== undefined) {
    out.input_tokens = Math.max(0, usage.promptTokens - cached);
    out.cache_read_input_tokens = cached;
  }
  if (usage.completionTokens !== undefined) out.output_tokens = usage.completionTokens;
  return out;
}
