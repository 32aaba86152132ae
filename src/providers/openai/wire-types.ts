/**
 * The Chat Completions request shapes this adapter sends (protocol.md G.1). Kept narrow: only
 * what the gateway produces. Response chunks are parsed leniently in `chunk.ts`.
 */

export type ChatContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "file"; file: { filename: string; file_data: string } };

/** Gemini's OpenAI-compatible endpoint attaches this to tool calls and needs it echoed. */
export interface GoogleExtraContent {
  google: { thought_signature: string };
}

export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  extra_content?: GoogleExtraContent;
}

export interface ChatSystemMessage {
  role: "system";
  content: string;
}
export interface ChatUserMessage {
  role: "user";
  content: string | ChatContentPart[];
}
export interface ChatAssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ChatToolCall[];
  reasoning_content?: string;
  reasoning?: string;
}
export interface ChatToolMessage {
  role: "tool";
  tool_call_id: string;
  content: string;
}
export type ChatMessage = ChatSystemMessage | ChatUserMessage | ChatAssistantMessage | ChatToolMessage;

export interface ChatTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export type ChatToolChoice = "auto" | "required" | "none" | { type: "function"; function: { name: string } };

export type ReasoningEffort = "low" | "medium" | "high";

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream: true;
  stream_options?: { include_usage: true };
  max_completion_tokens?: number;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  reasoning_effort?: ReasoningEffort;
  response_format?: { type: "json_schema"; json_schema: { name: string; schema: Record<string, unknown> } };
}
