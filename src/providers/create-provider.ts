/**
 * Provider type → adapter. The one place that knows every adapter; adapters never import each
 * other (design.md §2). Option problems throw an Error whose message starts with the field.
 */
import type { ProviderConfig } from "../config/schema.js";
import type { Provider } from "../core/provider.js";
import { createAnthropicProvider } from "./anthropic/index.js";
import { createGeminiProvider } from "./gemini/index.js";
import { createOpenAIProvider, parseOpenAIOptions } from "./openai/index.js";

export function createProvider(config: ProviderConfig): Provider {
  switch (config.type) {
    case "gemini":
      return createGeminiProvider(geminiOptions(config.options));
    case "openai":
      return createOpenAIProvider(parseOpenAIOptions(config.options));
    case "anthropic":
      return createAnthropicProvider(anthropicOptions(config.options));
    case "vertex":
      throw new Error('type: "vertex" is not available yet — use type "gemini" with an API key');
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

/** Base URL used when a provider's config has none. */
export function defaultBaseUrl(type: ProviderConfig["type"]): string | undefined {
  if (type === "gemini") return "https://generativelanguage.googleapis.com";
  if (type === "anthropic") return "https://api.anthropic.com";
  if (type === "openai") return "https://api.openai.com/v1";
  return undefined;
}
