/**
 * One Anthropic Messages request → one Vertex AI `streamGenerateContent?alt=sse` request.
 *
 * The body is exactly the Gemini one (`buildGenerateBody`: contents, thought signatures, thinking
 * config, tools, safety settings): Vertex serves the same GenerateContent message; only the URL
 * and the auth differ (./endpoint.ts). Pure: no I/O, no config, no clock.
 */
import type { AttemptContext, UpstreamRequest } from "../../core/provider.js";
import { vertexHeaders, vertexModelUrl } from "./endpoint.js";
import type { VertexOptions } from "./options.js";

export function buildVertexRequest(
  ctx: AttemptContext,
  body: string | Uint8Array,
  options: VertexOptions,
): UpstreamRequest {
  return {
    url: `${vertexModelUrl(ctx.baseUrl, options, ctx.upstreamModel, "streamGenerateContent")}?alt=sse`,
    method: "POST",
    headers: vertexHeaders(ctx),
    body,
  };
}
