/**
 * Native token counting: `POST {base}/v1beta/models/{model}:countTokens` (protocol.md F.10).
 *
 * The `generateContentRequest` form is used because only it counts `systemInstruction` and
 * `tools`; a count that leaves them out under-reports and makes Claude Code compact too late.
 */
import { GatewayError } from "../../core/errors.js";
import type { CountTokensContext, Provider, UpstreamRequest } from "../../core/provider.js";
import { toolsInEffect } from "../../protocol/anthropic/tool-changes.js";
import { buildConversation } from "./contents.js";
import { normalizeModelName } from "./models.js";
import { DEFAULT_GEMINI_OPTIONS, type GeminiOptions } from "./options.js";
import { geminiHeaders, modelPath } from "./request.js";
import { buildTools } from "./tools.js";

type CountTokens = NonNullable<Provider["countTokens"]>;

/** countTokens for a given set of Gemini options (tool schemas are sent the same way as in generation). */
export function createGeminiCountTokens(options: GeminiOptions): CountTokens {
  return {
    buildRequest: (ctx) => buildCountTokensRequest(ctx, options),
    decodeResponse: decodeCountTokens,
  };
}

/** countTokens with the default options. */
export const geminiCountTokens: CountTokens = createGeminiCountTokens(DEFAULT_GEMINI_OPTIONS);

function buildCountTokensRequest(ctx: CountTokensContext, options: GeminiOptions): UpstreamRequest {
  const { contents, systemInstruction } = buildConversation(ctx.request, ctx.upstreamModel);
  const { tools } = buildTools(toolsInEffect(ctx.request), undefined, options);
  const generateContentRequest = {
    model: `models/${normalizeModelName(ctx.upstreamModel)}`,
    contents,
    ...(systemInstruction === undefined ? {} : { systemInstruction }),
    ...(tools === undefined ? {} : { tools }),
  };
  return {
    url: `${ctx.baseUrl}/v1beta/models/${modelPath(ctx.upstreamModel)}:countTokens`,
    method: "POST",
    headers: geminiHeaders(ctx),
    body: JSON.stringify({ generateContentRequest }),
  };
}

/** `{totalTokens}` → the count. proto3 JSON omits zero values, so an object without it means 0. */
function decodeCountTokens(json: unknown): number {
  if (typeof json === "object" && json !== null && !Array.isArray(json) && !("error" in json)) {
    const total = (json as { totalTokens?: unknown }).totalTokens;
    if (total === undefined) return 0;
    if (typeof total === "number" && Number.isFinite(total) && total >= 0) return total;
  }
  throw new GatewayError({
    code: "UPSTREAM_BAD_RESPONSE",
    message: `Gemini countTokens returned an unreadable body: ${JSON.stringify(json)?.slice(0, 200)}`,
    status: 502,
    type: "api_error",
    class: "transient",
  });
}
