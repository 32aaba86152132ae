/**
 * Google Gemini on Vertex AI.
 *
 * Vertex serves the Gemini wire format (the same GenerateContent request and SSE response), so
 * this adapter reuses the Gemini translation — `buildGenerateBody`, `decodeGeminiStream`,
 * `decodeGeminiError` — the one allowed exception to "providers never import each other"
 * (design.md §2): copying them would let two translations of one format drift. What is Vertex's
 * own: the URL (project, location, publisher model), OAuth bearer auth, and the countTokens body.
 */
import type { Provider } from "../../core/provider.js";
import { buildGenerateBody } from "../gemini/request.js";
import { decodeGeminiStream } from "../gemini/stream.js";
import { createVertexCountTokens } from "./count-tokens.js";
import { vertexHeaders, vertexModelUrl } from "./endpoint.js";
import { decodeVertexError } from "./errors.js";
import type { VertexOptions } from "./options.js";
import { buildVertexRequest } from "./request.js";

export { vertexBaseUrl } from "./endpoint.js";
export { vertexUpstreamKeys } from "./keys.js";
export { DEFAULT_VERTEX_LOCATION, parseVertexOptions, type VertexOptions } from "./options.js";

export function createVertexProvider(options: VertexOptions): Provider {
  const bodyOptions = { toolSchema: options.toolSchema };
  return {
    type: "vertex",
    buildBody: (ctx) => buildGenerateBody(ctx, bodyOptions),
    buildRequest: (ctx, body) => buildVertexRequest(ctx, body, options),
    decodeStream: decodeGeminiStream,
    decodeError: decodeVertexError,
    countTokens: createVertexCountTokens(options),
    // countTokens is free and checks the token, the project's access, the location and the model
    // without spending generation quota.
    probe: (ctx) => ({
      method: "POST",
      url: vertexModelUrl(ctx.baseUrl, options, ctx.upstreamModel, "countTokens"),
      headers: vertexHeaders(ctx),
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "ping" }] }] }),
    }),
  };
}
