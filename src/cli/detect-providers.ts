/**
 * Providers `ccgate init` can set up from API keys found in the environment. Each entry says
 * which variable holds the key, where the API lives and which models serve Claude Code's two
 * tiers (main work, and the Haiku-class background calls).
 */

export interface KnownProvider {
  /** Environment variable holding the key; the config references it as `${VAR}`. */
  env: string;
  /** Other variables accepted for the same key (first found wins). */
  aliases?: string[];
  /** Variable overriding the base URL, when the provider has a customary one. */
  baseUrlEnv?: string;
  name: string;
  type: "gemini" | "openai" | "anthropic";
  baseUrl?: string;
  /** Model for the main work (opus/sonnet names and the default); `$model` passes the name on. */
  large: string;
  /** Model for the background (haiku) calls. */
  small: string;
  options?: Record<string, string | boolean>;
  /** Model-name globs sent to this provider unchanged (`--model gpt-5` reaches OpenAI as is). */
  passthrough?: string[];
  comment: string;
}

export const KNOWN_PROVIDERS: readonly KnownProvider[] = [
  {
    env: "GEMINI_API_KEY",
    aliases: ["GOOGLE_API_KEY"],
    baseUrlEnv: "GEMINI_BASE_URL",
    name: "gemini",
    type: "gemini",
    large: "gemini-2.5-pro",
    small: "gemini-2.5-flash",
    passthrough: ["gemini-*"],
    comment: "Google Gemini (native API). Keys: https://aistudio.google.com/apikey",
  },
  {
    env: "OPENAI_API_KEY",
    baseUrlEnv: "OPENAI_BASE_URL",
    name: "openai",
    type: "openai",
    baseUrl: "https://api.openai.com/v1",
    large: "gpt-5",
    small: "gpt-5-mini",
    passthrough: ["gpt-*"],
    comment: "OpenAI Chat Completions",
  },
  {
    env: "OPENROUTER_API_KEY",
    name: "openrouter",
    type: "openai",
    baseUrl: "https://openrouter.ai/api/v1",
    large: "google/gemini-2.5-pro",
    small: "google/gemini-2.5-flash",
    comment: "OpenRouter (OpenAI-compatible; any model id from https://openrouter.ai/models)",
  },
  {
    env: "DEEPSEEK_API_KEY",
    name: "deepseek",
    type: "openai",
    baseUrl: "https://api.deepseek.com",
    large: "deepseek-chat",
    small: "deepseek-chat",
    options: { maxTokensField: "max_tokens" },
    passthrough: ["deepseek-*"],
    comment: "DeepSeek (OpenAI-compatible; takes max_tokens, not max_completion_tokens)",
  },
  {
    env: "GROQ_API_KEY",
    name: "groq",
    type: "openai",
    baseUrl: "https://api.groq.com/openai/v1",
    large: "openai/gpt-oss-120b",
    small: "openai/gpt-oss-20b",
    comment: "Groq (OpenAI-compatible)",
  },
  {
    env: "MISTRAL_API_KEY",
    name: "mistral",
    type: "openai",
    baseUrl: "https://api.mistral.ai/v1",
    large: "mistral-large-latest",
    small: "mistral-small-latest",
    options: { maxTokensField: "max_tokens" },
    passthrough: ["mistral-*", "codestral-*"],
    comment: "Mistral (OpenAI-compatible; takes max_tokens)",
  },
  {
    env: "XAI_API_KEY",
    name: "xai",
    type: "openai",
    baseUrl: "https://api.x.ai/v1",
    large: "grok-4",
    small: "grok-3-mini",
    passthrough: ["grok-*"],
    comment: "xAI Grok (OpenAI-compatible)",
  },
  {
    env: "ANTHROPIC_API_KEY",
    name: "anthropic",
    type: "anthropic",
    baseUrl: "https://api.anthropic.com",
    large: "$model",
    small: "$model",
    comment: "Anthropic (or an Anthropic-compatible relay): Claude model names pass through",
  },
];

export interface DetectedProvider extends KnownProvider {
  /** The variable that actually holds the key (`env` or one of its aliases). */
  keyVar: string;
  /** Base URL to write: from `baseUrlEnv` when set, else the default. */
  resolvedBaseUrl: string | undefined;
}

/** Every known provider whose key variable is set (non-empty), in the table's order. */
export function detectProviders(env: NodeJS.ProcessEnv): DetectedProvider[] {
  const found: DetectedProvider[] = [];
  for (const p of KNOWN_PROVIDERS) {
    const keyVar = [p.env, ...(p.aliases ?? [])].find((v) => (env[v] ?? "").trim() !== "");
    if (keyVar === undefined) continue;
    const override = p.baseUrlEnv === undefined ? undefined : env[p.baseUrlEnv]?.trim();
    found.push({ ...p, keyVar, resolvedBaseUrl: override || p.baseUrl });
  }
  return found;
}
