/**
 * One Anthropic Messages request → one Gemini `streamGenerateContent?alt=sse` request
 * (protocol.md F.2). Pure: no I/O, no config, no clock.
 *
 * Deliberately not sent: `stopSequences` (the core watches the stream for them so it can report
 * which sequence matched, protocol.md F.4), `candidateCount`, and Anthropic-only fields
 * (`cache_control`, `metadata`, `context_management`, `service_tier`, unknown fields).
 */
import type { Content, GenerationConfig, HarmBlockThreshold, HarmCategory } from "@google/genai";
import { fragment, JsonBytes, openObject } from "../../core/json-bytes.js";
import type { AttemptContext, BodyContext, UpstreamRequest } from "../../core/provider.js";
import type { MessagesRequest } from "../../protocol/anthropic/request-schema.js";
import { toolsInEffect } from "../../protocol/anthropic/tool-changes.js";
import { buildConversation } from "./contents.js";
import { geminiModelInfo, normalizeModelName } from "./models.js";
import type { GeminiOptions } from "./options.js";
import { cleanJsonSchema, type OpenApiSchema, toOpenApiSchema } from "./schema.js";
import { buildThinkingConfig, type GeminiThinkingConfig } from "./thinking.js";
import { buildTools, type GeminiTool, type GeminiToolConfig } from "./tools.js";

export interface GeminiSafetySetting {
  category: `${HarmCategory}`;
  threshold: `${HarmBlockThreshold}`;
}

export type GeminiGenerationConfig = Pick<
  GenerationConfig,
  "temperature" | "topP" | "topK" | "responseMimeType" | "responseJsonSchema"
> & {
  maxOutputTokens: number;
  thinkingConfig?: GeminiThinkingConfig;
  responseSchema?: OpenApiSchema;
};

/** The `generateContent` body this gateway sends. */
export interface GeminiGenerateBody {
  contents: Content[];
  systemInstruction?: Content;
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  safetySettings: GeminiSafetySetting[];
  generationConfig: GeminiGenerationConfig;
}

/**
 * The adjustable filters, all OFF: a coding assistant must not be blocked on benign code
 * ("kill the process", exploit write-ups in security reviews). Google's core-harm protections
 * stay on regardless. CIVIC_INTEGRITY is deprecated, so it is not sent.
 */
const SAFETY_SETTINGS: readonly GeminiSafetySetting[] = [
  { category: "HARM_CATEGORY_HARASSMENT", threshold: "OFF" },
  { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "OFF" },
  { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", threshold: "OFF" },
  { category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "OFF" },
];

/** The body bytes of a `streamGenerateContent` request (one per target; see `BodyContext`). */
export function buildGenerateBody(ctx: BodyContext, options: GeminiOptions): Buffer {
  return serializeGeminiBody(buildGeminiBody(ctx.request, ctx.upstreamModel, options));
}

/** `POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse` for one attempt. */
export function buildGenerateRequest(ctx: AttemptContext, body: string | Uint8Array): UpstreamRequest {
  return {
    url: `${ctx.baseUrl}/v1beta/models/${modelPath(ctx.upstreamModel)}:streamGenerateContent?alt=sse`,
    method: "POST",
    headers: geminiHeaders(ctx),
    body,
  };
}

const SYSTEM_MEMBER = fragment(',"systemInstruction":');
const TOOLS_OPEN = fragment(',"tools":[');
const DECLARATIONS_OPEN = fragment('{"functionDeclarations":[');
const COMMA = fragment(",");
/** Ends the declarations list and its tool, and at the end the tools list and the body. */
const CLOSE_LIST_AND_OBJECT = fragment("]}");
const CLOSE_OBJECT = fragment("}");

/**
 * The body as bytes: the per-request members serialized now, the system instruction and tool
 * declarations — shared objects while they repeat (contents.ts, tools.ts) — as bytes made once
 * (json-bytes.ts).
 */
export function serializeGeminiBody(body: GeminiGenerateBody): Buffer {
  const { tools, systemInstruction, ...rest } = body;
  // `rest` always has members (contents, safetySettings, generationConfig).
  const out = openObject(new JsonBytes(), rest);
  if (systemInstruction !== undefined) out.bytes(SYSTEM_MEMBER).value(systemInstruction);
  if (tools !== undefined) {
    out.bytes(TOOLS_OPEN);
    tools.forEach((tool, i) => {
      if (i > 0) out.bytes(COMMA);
      if (tool.functionDeclarations === undefined) {
        out.text(JSON.stringify(tool));
        return;
      }
      out.bytes(DECLARATIONS_OPEN);
      tool.functionDeclarations.forEach((declaration, j) => {
        if (j > 0) out.bytes(COMMA);
        out.value(declaration);
      });
      out.bytes(CLOSE_LIST_AND_OBJECT);
    });
    return out.bytes(CLOSE_LIST_AND_OBJECT).toBuffer();
  }
  return out.bytes(CLOSE_OBJECT).toBuffer();
}

/** The typed request body (exported for tests and for countTokens' `generateContentRequest`). */
export function buildGeminiBody(
  request: MessagesRequest,
  upstreamModel: string,
  options: GeminiOptions,
): GeminiGenerateBody {
  const model = geminiModelInfo(upstreamModel);
  const { contents, systemInstruction } = buildConversation(request, upstreamModel);
  // `max_tokens: 0` is a cache pre-warm on Anthropic; Gemini needs at least 1 (protocol.md A.1, F.2).
  const maxOutputTokens = Math.min(Math.max(request.max_tokens, 1), model.outputTokenLimit);
  const generationConfig: GeminiGenerationConfig = { maxOutputTokens };
  if (typeof request.temperature === "number") generationConfig.temperature = request.temperature;
  if (typeof request.top_p === "number") generationConfig.topP = request.top_p;
  if (typeof request.top_k === "number") generationConfig.topK = request.top_k;
  const thinkingConfig = buildThinkingConfig(request, model, maxOutputTokens);
  if (thinkingConfig !== undefined) generationConfig.thinkingConfig = thinkingConfig;
  applyOutputFormat(request, options, generationConfig);

  const body: GeminiGenerateBody = { contents, safetySettings: [...SAFETY_SETTINGS], generationConfig };
  if (systemInstruction !== undefined) body.systemInstruction = systemInstruction;
  const { tools, toolConfig } = buildTools(toolsInEffect(request), request.tool_choice, options);
  if (tools !== undefined) body.tools = tools;
  if (toolConfig !== undefined) body.toolConfig = toolConfig;
  return body;
}

/** `output_config.format: {type: "json_schema", schema}` → JSON mode with the schema. */
function applyOutputFormat(
  request: MessagesRequest,
  options: GeminiOptions,
  config: GeminiGenerationConfig,
): void {
  const format = request.output_config?.format;
  if (format === null || format === undefined || format.type !== "json_schema") return;
  config.responseMimeType = "application/json";
  if (format.schema === undefined) return;
  if (options.toolSchema === "openapi") config.responseSchema = toOpenApiSchema(format.schema);
  else config.responseJsonSchema = cleanJsonSchema(format.schema);
}

/** Shared by generateContent and countTokens: key header, JSON, then the provider's configured headers. */
export function geminiHeaders(ctx: Pick<AttemptContext, "apiKey" | "headers">): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ctx.apiKey !== undefined) headers["x-goog-api-key"] = ctx.apiKey;
  return { ...headers, ...ctx.headers };
}

/** The model segment of the URL (no `models/` prefix, escaped). */
export function modelPath(upstreamModel: string): string {
  return encodeURIComponent(normalizeModelName(upstreamModel));
}
