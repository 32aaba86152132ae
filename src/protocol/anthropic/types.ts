/**
 * The Anthropic Messages wire types the gateway produces.
 *
 * These are the response-side shapes (message, content blocks, stream events) in the exact form
 * the official SDK reads (`@anthropic-ai/sdk` `RawMessageStreamEvent`, `Message`). They are kept
 * narrow on purpose: the gateway only ever emits these members, and a narrow union gives
 * exhaustive `switch` checks. Request-side types are inferred from the zod schema in
 * `request-schema.ts`.
 */

export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** Server tools that ran (web search); present only when one did. */
  server_tool_use?: ServerToolUsage | null;
}

/** `usage.server_tool_use` (protocol.md B.5; SDK `ServerToolUsage`). */
export interface ServerToolUsage {
  web_search_requests: number;
  web_fetch_requests: number;
}

export interface TextBlock {
  type: "text";
  text: string;
  citations?: unknown[] | null;
}
export interface ThinkingBlock {
  type: "thinking";
  thinking: string;
  signature: string;
}
export interface RedactedThinkingBlock {
  type: "redacted_thinking";
  data: string;
}
export interface ToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}
/** Server tools (web search, code execution…) run by an Anthropic-compatible upstream. */
export interface ServerToolUseBlock {
  type: "server_tool_use";
  id: string;
  name: string;
  input: unknown;
}
export interface ServerToolResultBlock {
  type:
    | "web_search_tool_result"
    | "web_fetch_tool_result"
    | "code_execution_tool_result"
    | "bash_code_execution_tool_result"
    | "text_editor_code_execution_tool_result"
    | "tool_search_tool_result";
  tool_use_id: string;
  content: unknown;
}
export type ContentBlock =
  | TextBlock
  | ThinkingBlock
  | RedactedThinkingBlock
  | ToolUseBlock
  | ServerToolUseBlock
  | ServerToolResultBlock;

export interface Message {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
}

export type ContentBlockDelta =
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "input_json_delta"; partial_json: string }
  | { type: "citations_delta"; citation: unknown };

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

export interface MessageStartEvent {
  type: "message_start";
  message: Message;
}
export interface ContentBlockStartEvent {
  type: "content_block_start";
  index: number;
  content_block: ContentBlock;
}
export interface ContentBlockDeltaEvent {
  type: "content_block_delta";
  index: number;
  delta: ContentBlockDelta;
}
export interface ContentBlockStopEvent {
  type: "content_block_stop";
  index: number;
}
export interface MessageDeltaEvent {
  type: "message_delta";
  delta: { stop_reason: StopReason | null; stop_sequence: string | null };
  /** Cumulative totals; relays may send only `output_tokens` (protocol.md B.5). */
  usage: Partial<Usage> & { output_tokens: number };
}
export interface MessageStopEvent {
  type: "message_stop";
}
export interface PingEvent {
  type: "ping";
}
export interface ErrorEvent {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
  request_id?: string;
}

/** The gateway's internal language: every provider decodes its upstream into these. */
export type StreamEvent =
  | MessageStartEvent
  | ContentBlockStartEvent
  | ContentBlockDeltaEvent
  | ContentBlockStopEvent
  | MessageDeltaEvent
  | MessageStopEvent
  | PingEvent
  | ErrorEvent;

/** Events that carry model output: the first one sent to a client is the commit point. */
export function isContentEvent(event: StreamEvent): boolean {
  return (
    event.type === "content_block_start" ||
    event.type === "content_block_delta" ||
    event.type === "content_block_stop" ||
    event.type === "message_delta" ||
    event.type === "message_stop"
  );
}
