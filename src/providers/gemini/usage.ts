/**
 * Gemini `usageMetadata` → Anthropic usage (protocol.md F.8).
 *
 * Gemini's `promptTokenCount` includes `cachedContentTokenCount`, while Anthropic's
 * `input_tokens` excludes cache reads (B.1: total prompt = input + cache_creation + cache_read).
 * `candidatesTokenCount` excludes thoughts, and Anthropic bills thinking as output, so thoughts
 * are added back. Tool-use prompt tokens (server-side tool results) are prompt input too.
 * Stream chunks carry running totals (F.3): callers pass the latest metadata, never a sum.
 */
import type { GenerateContentResponseUsageMetadata } from "@google/genai";
import type { Usage } from "../../protocol/anthropic/types.js";

/** The counters this mapping reads; everything else in `usageMetadata` is ignored. */
export type GeminiUsage = Pick<
  GenerateContentResponseUsageMetadata,
  | "promptTokenCount"
  | "cachedContentTokenCount"
  | "toolUsePromptTokenCount"
  | "candidatesTokenCount"
  | "thoughtsTokenCount"
>;

/** Map one (latest) Gemini usage record to cumulative Anthropic usage. */
export function mapGeminiUsage(usage: GeminiUsage): Usage {
  const prompt = count(usage.promptTokenCount);
  const cached = Math.min(count(usage.cachedContentTokenCount), prompt);
  return {
    input_tokens: prompt - cached + count(usage.toolUsePromptTokenCount),
    output_tokens: count(usage.candidatesTokenCount) + count(usage.thoughtsTokenCount),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** Lenient read of one counter: absent, negative or non-finite values count as 0. */
function count(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
