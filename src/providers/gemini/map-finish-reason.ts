/**
 * Gemini `finishReason` → Anthropic `stop_reason` (protocol.md F.4).
 *
 * The table is keyed by every value of the SDK's `FinishReason` enum, so a value added in a
 * newer `@google/genai` fails the type check until it is mapped here. Values unknown at run time
 * (a newer API than the SDK types) count as `end_turn`, like `OTHER`.
 */
import type { FinishReason } from "@google/genai";
import type { StopReason } from "../../protocol/anthropic/types.js";

/** What a finish reason means for the stream decoder. */
export type FinishOutcome =
  /** A normal end: finish the message with this stop reason. */
  | { kind: "stop"; stopReason: StopReason }
  /**
   * The model produced no usable answer (e.g. a malformed function call). Never end the turn
   * silently: the decoder throws a transient error so the core retries (protocol.md F.4).
   */
  | { kind: "malformed"; reason: string };

/** How each reason ends a turn; `natural` becomes `tool_use` when calls were made. */
type Rule = "natural" | "max_tokens" | "refusal" | "malformed";

const RULES: Readonly<Record<`${FinishReason}`, Rule>> = {
  FINISH_REASON_UNSPECIFIED: "natural",
  STOP: "natural",
  OTHER: "natural",
  // Image-generation outcomes without a policy block: nothing to refuse.
  NO_IMAGE: "natural",
  IMAGE_OTHER: "natural",
  MAX_TOKENS: "max_tokens",
  // The answer is cut by a per-request limit and would need a continuation token we don't
  // carry; an incomplete answer is closest to max_tokens.
  CONTINUATION: "max_tokens",
  SAFETY: "refusal",
  RECITATION: "refusal",
  LANGUAGE: "refusal",
  BLOCKLIST: "refusal",
  PROHIBITED_CONTENT: "refusal",
  SPII: "refusal",
  IMAGE_SAFETY: "refusal",
  IMAGE_PROHIBITED_CONTENT: "refusal",
  IMAGE_RECITATION: "refusal",
  MALFORMED_FUNCTION_CALL: "malformed",
  UNEXPECTED_TOOL_CALL: "malformed",
  TOO_MANY_TOOL_CALLS: "malformed",
};

function isKnown(reason: string): reason is `${FinishReason}` {
  return Object.hasOwn(RULES, reason);
}

/**
 * Map a Gemini finish reason. `hasToolCalls` matters because Gemini says `STOP` even when the
 * turn ends in function calls (F.3); Anthropic clients need `tool_use` to run them.
 */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishOutcome {
  const rule: Rule = reason !== undefined && isKnown(reason) ? RULES[reason] : "natural";
  switch (rule) {
    case "natural":
      return { kind: "stop", stopReason: hasToolCalls ? "tool_use" : "end_turn" };
    case "max_tokens":
      return { kind: "stop", stopReason: "max_tokens" };
    case "refusal":
      return { kind: "stop", stopReason: "refusal" };
    case "malformed":
      return { kind: "malformed", reason: reason ?? "FINISH_REASON_UNSPECIFIED" };
    default: {
      const unreachable: never = rule;
      throw new Error(`unhandled finish rule ${String(unreachable)}`);
    }
  }
}
