/**
 * Provider type → adapter. The one place that knows every adapter; adapters never import each
 * other (design.md §2). Option problems throw an Error whose message starts with the field.
 */
import type { ProviderConfig } from "../config/schema.js";
import type { Provider } from "../core/provider.js";
import { maskSecret, type UpstreamKey } from "../core/upstream.js";
import { createAnthropicProvider } from "./anthropic/index.js";
import { createGeminiProvider } from "./gemini/index.js";
import { createOpenAIProvider, parseOpenAIOptions } from "./openai/index.js";
import {
  createVertexProvider,
  parseVertexOptions,
  vertexBaseUrl,
  vertexUpstreamKeys,
} from "./vertex/index.js";

export function createProvider(config: ProviderConfig): Provider {
  switch (config.type) {
    case "gemini":
      return createGeminiProvider(geminiOptions(config.options));
    case "openai":
      return createOpenAIProvider({
        ...parseOpenAIOptions(config.options),
        modelOutputLimits: Object.fromEntries(
          config.models.flatMap((m) =>
            m.maxOutputTokens === undefined ? [] : [[m.name, m.maxOutputTokens]],
          ),
        ),
      });
    case "anthropic":
      return createAnthropicProvider(anthropicOptions(config.options));
    case "vertex":
      return createVertexProvider(parseVertexOptions(config.options));
    default: {
      const never: never = config.type;
      throw new Error(`type: unknown provider type ${String(never)}`);
    }
  }
}

function geminiOptions(options: Record<string, unknown>) {
  for (const key of Object.keys(options))
    if (key !== "toolSchema")
      throw new Error(`options.${key}: unknown option for a gemini provider (known: toolSchema)`);
  const toolSchema = options.toolSchema;
  if (toolSchema === undefined) return {};
  if (toolSchema !== "json-schema" && toolSchema !== "openapi")
    throw new Error(
      `options.toolSchema must be "json-schema" or "openapi", got ${JSON.stringify(toolSchema)}`,
    );
  return { toolSchema } as const;
}

function anthropicOptions(options: Record<string, unknown>) {
  for (const key of Object.keys(options))
    if (key !== "authHeader")
      throw new Error(`options.${key}: unknown option for an anthropic provider (known: authHeader)`);
  const authHeader = options.authHeader;
  if (authHeader === undefined) return {};
  if (authHeader !== "x-api-key" && authHeader !== "bearer")
    throw new Error(`options.authHeader must be "x-api-key" or "bearer", got ${JSON.stringify(authHeader)}`);
  return { authHeader } as const;
}

/**
 * A provider's credentials: its API keys (labelled by name or masked), or — for Vertex — one
 * OAuth token source (service account file or application default credentials).
 */
export function createUpstreamKeys(config: ProviderConfig): UpstreamKey[] {
  if (config.type === "vertex") return vertexUpstreamKeys(config.name, parseVertexOptions(config.options));
  return config.apiKeys.map((k, n): UpstreamKey => {
    const secret = typeof k === "string" ? k : k.key;
    return { id: `${config.name}#${n + 1}`, label: typeof k === "string" ? maskSecret(k) : k.name, secret };
  });
}

/** The base URL, without a trailing slash: configured, else the provider type's default. */
export function upstreamBaseUrl(config: ProviderConfig): string {
  const url =
    config.baseUrl ??
    (config.type === "vertex"
      ? vertexBaseUrl(parseVertexOptions(config.options).location)
      : defaultBaseUrl(config.type));
  return (url ?? "").replace(/\/+$/, "");
}

/** Base URL used when a provider's config has none. */
export function defaultBaseUrl(type: ProviderConfig["type"]): string | undefined {
  if (type === "gemini") return "https://generativelanguage.googleapis.com";
  if (type === "anthropic") return "https://api.anthropic.com";
  if (type === "openai") return "https://api.openai.com/v1";
  return undefined;
}
