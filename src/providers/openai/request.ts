/**
 * One attempt → the upstream Chat Completions request (protocol.md G.1). Pure: no I/O.
 */
import { fragment, JsonBytes, openObject } from "../../core/json-bytes.js";
import type { AttemptContext, BodyContext, UpstreamRequest } from "../../core/provider.js";
import type { MessagesRequest } from "../../protocol/anthropic/request-schema.js";
import { toolsInEffect } from "../../protocol/anthropic/tool-changes.js";
import { maxTokensMember } from "./max-tokens-member.js";
import { toChatMessages } from "./messages.js";
import type { OpenAIOptions } from "./options.js";
import { toReasoningEffort } from "./reasoning-effort.js";
import { toChatToolChoice, toChatTools } from "./tools.js";
import type { ChatCompletionRequest } from "./wire-types.js";

/** A path segment that names an API version: `v1`, `v1beta`, `v4`, `v2alpha`. */
const VERSION_SEGMENT = /^v\d+[a-z0-9.]*$/i;

/**
 * Where to POST. Rule: a base URL that already names an API version anywhere in its path is the
 * API root (`https://openrouter.ai/api/v1`, `http://127.0.0.1:11434/v1`,
 * `https://generativelanguage.googleapis.com/v1beta/openai`) → `+ /chat/completions`; a base URL
 * without one (`https://api.deepseek.com`, `https://api.openai.com`, `https://openrouter.ai/api`)
 * → `+ /v1/chat/completions`. A base URL that already ends in `/chat/completions` is used as is.
 */
export function chatCompletionsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  if (base.endsWith("/chat/completions")) return base;
  let path = "";
  try {
    path = new URL(base).pathname;
  } catch {
    path = base;
  }
  const versioned = path.split("/").some((segment) => VERSION_SEGMENT.test(segment));
  return versioned ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
}

export function buildChatRequest(ctx: AttemptContext, body: string | Uint8Array): UpstreamRequest {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  if (ctx.apiKey !== undefined && ctx.apiKey !== "") headers.authorization = `Bearer ${ctx.apiKey}`;
  Object.assign(headers, ctx.headers);
  return { url: chatCompletionsUrl(ctx.baseUrl), method: "POST", headers, body };
}

const TOOLS_OPEN = fragment(',"tools":[');
const COMMA = fragment(",");
const CLOSE_LIST_AND_OBJECT = fragment("]}");

/** The body as bytes, each tool's bytes made once while clients repeat it (tools.ts, json-bytes.ts). */
export function serializeChatBody(body: ChatCompletionRequest): Buffer {
  const { tools, ...rest } = body;
  // `rest` always has members (model, messages, stream).
  if (tools === undefined) return Buffer.from(JSON.stringify(rest));
  const out = openObject(new JsonBytes(), rest).bytes(TOOLS_OPEN);
  tools.forEach((tool, i) => {
    if (i > 0) out.bytes(COMMA);
    out.value(tool);
  });
  return out.bytes(CLOSE_LIST_AND_OBJECT).toBuffer();
}

/**
 * The Chat Completions body. `ceiling` (output-limits.ts) caps the completion tokens asked for:
 * Claude Code's 32000 / 128000 are above many models' limits.
 */
export function buildChatBody(
  ctx: BodyContext,
  options: OpenAIOptions,
  ceiling?: number,
): ChatCompletionRequest {
  const request = ctx.request;
  const body: ChatCompletionRequest = {
    // First, so a retry can lower it in the finished bytes (max-tokens-member.ts).
    ...maxTokensMember(options.maxTokensField ?? "max_completion_tokens", completionTokens(request, ceiling)),
    model: ctx.upstreamModel,
    messages: toChatMessages(request, ctx.upstreamModel, options),
    stream: true,
  };
  if (options.streamOptions !== false) body.stream_options = { include_usage: true };
  if (typeof request.temperature === "number") body.temperature = request.temperature;
  if (typeof request.top_p === "number") body.top_p = request.top_p;
  // stop_sequences are not sent: the core detects them itself (and reports `stop_sequence`).
  const tools = toChatTools(toolsInEffect(request));
  if (tools.length > 0) {
    body.tools = tools;
    Object.assign(body, toChatToolChoice(request.tool_choice));
  }
  if (options.reasoningEffort !== false) {
    const effort = toReasoningEffort(request);
    if (effort !== undefined) body.reasoning_effort = effort;
  }
  const format = request.output_config?.format;
  if (format?.type === "json_schema" && format.schema !== undefined) {
    body.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  }
  return body;
}

/** The request's `max_tokens`, at most `ceiling`, at least 1. */
function completionTokens(request: MessagesRequest, ceiling: number | undefined): number {
  // max_tokens 0 is Anthropic's cache pre-warm; no OpenAI server accepts 0, so ask for one token.
  const wanted = Math.max(1, request.max_tokens);
  return ceiling === undefined ? wanted : Math.min(wanted, ceiling);
}
