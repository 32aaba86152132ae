/**
 * Lenient parsing of one Chat Completions stream chunk (protocol.md G.2). Upstream JSON stays
 * `unknown` until read here; fields of the wrong type are treated as absent, so a server's extra or
 * odd fields never break the stream, while a chunk that is not JSON at all is a broken stream.
 */
import { errorField, type UpstreamErrorInfo } from "./error-body.js";
import { isObject } from "./json.js";

export interface ToolCallDelta {
  index: number | undefined;
  id: string | undefined;
  name: string | undefined;
  arguments: string | undefined;
  /** Gemini OpenAI-compat `extra_content.google.thought_signature` (G.3). */
  signature: string | undefined;
}

export interface ChunkUsage {
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  cachedTokens: number | undefined;
}

export interface ParsedChunk {
  /** `{"error":{...}}` sent as a data line instead of (or inside) a chunk. */
  error: UpstreamErrorInfo | undefined;
  /** From `delta.reasoning_content` (DeepSeek, vLLM) or `delta.reasoning` (OpenRouter, Ollama). */
  reasoning: string | undefined;
  content: string | undefined;
  toolCalls: ToolCallDelta[];
  finishReason: string | undefined;
  usage: ChunkUsage | undefined;
}

type Json = Record<string, unknown>;

/** Parse one `data:` payload; throws SyntaxError when it is not a JSON object. */
export function parseChunk(data: string): ParsedChunk {
  const value: unknown = JSON.parse(data);
  if (!isObject(value)) throw new SyntaxError("chunk is not a JSON object");
  const chunk: ParsedChunk = {
    error: errorField(value.error),
    reasoning: undefined,
    content: undefined,
    toolCalls: [],
    finishReason: undefined,
    usage: isObject(value.usage) ? parseUsage(value.usage) : undefined,
  };
  // Only choice 0: the gateway never asks for n > 1.
  const choice = Array.isArray(value.choices)
    ? value.choices.find((c: unknown) => isObject(c) && (c.index === undefined || c.index === 0))
    : undefined;
  if (!isObject(choice)) return chunk;
  chunk.finishReason = str(choice.finish_reason);
  const delta = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : undefined;
  if (delta === undefined) return chunk;
  const reasoningContent = str(delta.reasoning_content);
  // Some servers send both fields with the same text: read one, never both.
  chunk.reasoning =
    reasoningContent !== undefined && reasoningContent !== "" ? reasoningContent : str(delta.reasoning);
  chunk.content = str(delta.content) ?? str(delta.refusal);
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls) if (isObject(call)) chunk.toolCalls.push(parseToolCall(call));
  }
  return chunk;
}

function parseToolCall(call: Json): ToolCallDelta {
  const fn = isObject(call.function) ? call.function : {};
  const extra = isObject(call.extra_content) ? call.extra_content : {};
  const google = isObject(extra.google) ? extra.google : {};
  const id = str(call.id);
  const name = str(fn.name);
  const args = fn.arguments;
  return {
    index: typeof call.index === "number" && Number.isInteger(call.index) ? call.index : undefined,
    id: id === "" ? undefined : id,
    name: name === "" ? undefined : name,
    // A server that sends arguments as an object (seen on local servers) is taken at its word.
    arguments: typeof args === "string" ? args : isObject(args) ? JSON.stringify(args) : undefined,
    signature: str(google.thought_signature),
  };
}

function parseUsage(usage: Json): ChunkUsage {
  const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  return {
    promptTokens: num(usage.prompt_tokens),
    completionTokens: num(usage.completion_tokens),
    // DeepSeek reports cache hits as a top-level `prompt_cache_hit_tokens`.
    cachedTokens: num(details.cached_tokens) ?? num(usage.prompt_cache_hit_tokens),
  };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
