/**
 * Chat Completions `finish_reason` → Anthropic `stop_reason` (protocol.md G.2, G.3).
 */
import type { StopReason } from "../../protocol/anthropic/types.js";

/**
 * `stop`→`end_turn`, `length`→`max_tokens`, `tool_calls`/`function_call`→`tool_use`,
 * `content_filter`→`refusal`. Some servers say `stop` (or nothing) although they emitted tool
 * calls: the presence of calls wins, except over a token limit or a filter. Unknown values
 * (`eos`, `end_turn` from odd servers) end the turn.
 */
export function mapFinishReason(reason: string | undefined, hasToolCalls: boolean): StopReason {
  switch (reason) {
    case "length":
      return "max_tokens";
    case "content_filter":
      return "refusal";
    default:
      // `tool_calls` without any call is a server bug: nothing to run, so the turn just ends.
      return hasToolCalls ? "tool_use" : "end_turn";
  }
}
