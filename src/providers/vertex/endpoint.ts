/**
 * Vertex AI URLs and auth headers for Google's publisher models.
 *
 * `POST {base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}`
 * with `Authorization: Bearer <OAuth access token>`. The base is regional
 * (`https://{location}-aiplatform.googleapis.com`) except for the `global` location, which is
 * served from `https://aiplatform.googleapis.com`.
 */
import type { AttemptContext } from "../../core/provider.js";
import { modelPath } from "../gemini/request.js";
import type { VertexOptions } from "./options.js";

/** The Vertex AI endpoint for a location (used when the provider config has no baseUrl). */
export function vertexBaseUrl(location: string): string {
  return location === "global"
    ? "https://aiplatform.googleapis.com"
    : `https://${location}-aiplatform.googleapis.com`;
}

/** The URL of one model method, e.g. `streamGenerateContent` or `countTokens`. */
export function vertexModelUrl(
  baseUrl: string,
  options: Pick<VertexOptions, "project" | "location">,
  upstreamModel: string,
  method: "streamGenerateContent" | "countTokens",
): string {
  // An empty base means the config named none: the location decides.
  const base = baseUrl === "" ? vertexBaseUrl(options.location) : baseUrl;
  const project = encodeURIComponent(options.project);
  const location = encodeURIComponent(options.location);
  return `${base}/v1/projects/${project}/locations/${location}/publishers/google/models/${modelPath(upstreamModel)}:${method}`;
}

/** JSON, the bearer token, then the provider's configured headers (which may add e.g. `x-goog-user-project`). */
export function vertexHeaders(ctx: Pick<AttemptContext, "apiKey" | "headers">): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ctx.apiKey !== undefined && ctx.apiKey !== "") headers.authorization = `Bearer ${ctx.apiKey}`;
  return { ...headers, ...ctx.headers };
}
