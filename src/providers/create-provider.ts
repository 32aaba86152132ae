/**
 * Provider type → adapter. The one place that knows every adapter; adapters never import each
 * other (design.md §2).
 */
import type { ProviderConfig } from "../config/schema.js";
import type { Provider } from "../core/provider.js";
import { createGeminiProvider } from "./gemini/index.js";

export function createProvider(config: ProviderConfig): Provider {
  switch (config.type) {
    case "gemini":
      return createGeminiProvider(geminiOptions(config.options));
    case "openai":
    case "anthropic":
    case "vertex":
      throw new Error(`provider type "${config.type}" is not available yet`);
    default: {
      const never: never = config.type;
      throw new Error(`unknown provider type ${String(never)}`);
    }
  }
}

function geminiOptions(options: Record<string, unknown>) {
  const toolSchema = options.toolSchema;
  if (toolSchema === undefined) return {};
  if (toolSchema !== "json-schema" && toolSchema !== "openapi")
    throw new Error(`options.toolSchema must be "json-schema" or "openapi", got ${JSON.stringify(toolSchema)}`);
  return { toolSchema } as const;
}

/** Base URL used when a provider's config has none. */
export function defaultBaseUrl(type: ProviderConfig["type"]): string | undefined {
  if (type === "gemini") return "https://generativelanguage.googleapis.com";
  if (type === "anthropic") return "https://api.anthropic.com";
  return undefined;
}
