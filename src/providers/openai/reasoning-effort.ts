/**
 * Anthropic thinking / `output_config.effort` → Chat Completions `reasoning_effort` (protocol.md
 * A.5, G.1). Only the three values every reasoning-capable server knows are sent; Anthropic's
 * `xhigh`/`max` become `high`.
 */
import type { MessagesRequest } from "../../protocol/anthropic/request-schema.js";
import type { ReasoningEffort } from "./wire-types.js";

const FROM_EFFORT: Readonly<Record<string, ReasoningEffort>> = {
  minimal: "low",
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "high",
  max: "high",
};

/** Budget thresholds (tokens) for `thinking.type:"enabled"` without an explicit effort. */
const LOW_BELOW = 4096;
const MEDIUM_BELOW = 16384;

/**
 * The effort to send, or undefined when thinking is off/absent or nothing says how much
 * (adaptive without `output_config.effort` → the server's default).
 */
export function toReasoningEffort(request: MessagesRequest): ReasoningEffort | undefined {
  const thinking = request.thinking;
  if (thinking === undefined || thinking === null) return undefined;
  if (thinking.type !== "enabled" && thinking.type !== "adaptive") return undefined;
  const effort = request.output_config?.effort;
  if (typeof effort === "string") {
    const mapped = FROM_EFFORT[effort];
    if (mapped !== undefined) return mapped;
  }
  if (thinking.type === "adaptive") return undefined;
  if (thinking.budget_tokens < LOW_BELOW) return "low";
  return thinking.budget_tokens < MEDIUM_BELOW ? "medium" : "high";
}
