/**
 * What the gateway knows about Gemini model families: token limits and which thinking knob they take.
 *
 * Sources: protocol.md F.7 (thinking ranges and levels) and F.10 (`inputTokenLimit`/`outputTokenLimit`
 * as `GET /v1beta/models` reports them). Names are matched by prefix so dated/preview variants
 * (`gemini-2.5-flash-preview-09-2025`, `gemini-3-pro-preview`) resolve to their family; anything
 * unknown gets safe defaults chosen by name pattern.
 */

/** Gemini `thinkingLevel` values, lowest first (the wire enum, protocol.md F.7). */
export const THINKING_LEVELS = ["MINIMAL", "LOW", "MEDIUM", "HIGH"] as const;
export type GeminiThinkingLevel = (typeof THINKING_LEVELS)[number];

export interface BudgetRange {
  /** Smallest budget that keeps thinking on. */
  min: number;
  max: number;
  /** Whether `thinkingBudget: 0` (thinking off) is accepted. */
  canDisable: boolean;
}

interface Limits {
  inputTokenLimit: number;
  outputTokenLimit: number;
}

/** Token limits plus the thinking control the model takes; `thinking` discriminates. */
export type GeminiModelInfo = Limits &
  (
    | { thinking: "level"; levels: readonly GeminiThinkingLevel[] }
    | { thinking: "budget"; budget: BudgetRange }
    | { thinking: "none" }
  );

const MILLION = 1_048_576;
const LONG_OUT = 65_536;

const PRO_25: BudgetRange = { min: 128, max: 32_768, canDisable: false };
const FLASH_25: BudgetRange = { min: 1, max: 24_576, canDisable: true };
const FLASH_LITE_25: BudgetRange = { min: 512, max: 24_576, canDisable: true };
/** Intersection of the 2.5 ranges, for 2.5 variants this table does not know. */
const ANY_25: BudgetRange = { min: 512, max: 24_576, canDisable: false };

const ALL_LEVELS = THINKING_LEVELS;
/** Levels every Gemini 3 model accepts (3 Pro has only these two). */
const SAFE_LEVELS: readonly GeminiThinkingLevel[] = ["LOW", "HIGH"];

/** Most specific prefix first. */
const KNOWN: ReadonlyArray<readonly [prefix: string, info: GeminiModelInfo]> = [
  [
    "gemini-3.1-pro",
    {
      inputTokenLimit: MILLION,
      outputTokenLimit: LONG_OUT,
      thinking: "level",
      levels: ["LOW", "MEDIUM", "HIGH"],
    },
  ],
  [
    "gemini-3-pro",
    { inputTokenLimit: MILLION, outputTokenLimit: LONG_OUT, thinking: "level", levels: SAFE_LEVELS },
  ],
  [
    "gemini-3-flash",
    { inputTokenLimit: MILLION, outputTokenLimit: LONG_OUT, thinking: "level", levels: ALL_LEVELS },
  ],
  [
    "gemini-2.5-pro",
    { inputTokenLimit: MILLION, outputTokenLimit: LONG_OUT, thinking: "budget", budget: PRO_25 },
  ],
  [
    "gemini-2.5-flash-lite",
    { inputTokenLimit: MILLION, outputTokenLimit: LONG_OUT, thinking: "budget", budget: FLASH_LITE_25 },
  ],
  [
    "gemini-2.5-flash",
    { inputTokenLimit: MILLION, outputTokenLimit: LONG_OUT, thinking: "budget", budget: FLASH_25 },
  ],
  ["gemini-2.0-flash", { inputTokenLimit: MILLION, outputTokenLimit: 8_192, thinking: "none" }],
];

/** Limits and thinking control for an upstream model id (with or without the `models/` prefix). */
export function geminiModelInfo(model: string): GeminiModelInfo {
  const name = normalizeModelName(model).toLowerCase();
  for (const [prefix, info] of KNOWN) if (name.startsWith(prefix)) return info;
  const limits: Limits = { inputTokenLimit: MILLION, outputTokenLimit: LONG_OUT };
  if (name.startsWith("gemini-3")) return { ...limits, thinking: "level", levels: SAFE_LEVELS };
  if (name.startsWith("gemini-2.5")) return { ...limits, thinking: "budget", budget: ANY_25 };
  // Unknown families (aliases such as `gemini-flash-latest`, Gemma, tuned models): send no
  // thinkingConfig at all, since a model without thinking rejects one.
  return { ...limits, thinking: "none" };
}

/** `models/gemini-2.5-pro` → `gemini-2.5-pro`: ids are compared and put in URLs without the prefix. */
export function normalizeModelName(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}
