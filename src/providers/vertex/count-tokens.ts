/**
 * Native token counting on Vertex AI: `POST …/models/{model}:countTokens`.
 *
 * Unlike the Gemini API (protocol.md F.10, where only the `generateContentRequest` wrapper counts
 * the system prompt and tools), Vertex's CountTokensRequest takes `contents`,
 * `systemInstruction` and `tools` at its top level. The answer is `{totalTokens, …}` as on Gemini.
 */
import type { CountTokensContext, Provider, UpstreamRequest } from "../../core/provider.js";
import { toolsInEffect } from "../../protocol/anthropic/tool-changes.js";
import { buildConversation } from "../gemini/contents.js";
import { createGeminiCountTokens } from "../gemini/count-tokens.js";
import { buildTools } from "../gemini/tools.js";
import { vertexHeaders, vertexModelUrl } from "./endpoint.js";
import type { VertexOptions } from "./options.js";

type CountTokens = NonNullable<Provider["countTokens"]>;

export function createVertexCountTokens(options: VertexOptions): CountTokens {
  // Same response message as the Gemini API, so the same lenient reader.
  const { decodeResponse } = createGeminiCountTokens({ toolSchema: options.toolSchema });
  return {
    buildRequest: (ctx) => buildVertexCountTokensRequest(ctx, options),
    decodeResponse,
  };
}

function buildVertexCountTokensRequest(ctx: CountTokensContext, options: VertexOptions): UpstreamRequest {
  const { contents, systemInstruction } = buildConversation(ctx.request, ctx.upstreamModel);
  const { tools } = buildTools(toolsInEffect(ctx.request), undefined, { toolSchema: options.toolSchema });
  const body = {
    contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
    ...(tools === undefined ? {} : { tools }),
  };
  return {
    url: vertexModelUrl(ctx.baseUrl, options, ctx.upstreamModel, "countTokens"),
    method: "POST",
    headers: vertexHeaders(ctx),
    body: JSON.stringify(body),
  };
}
