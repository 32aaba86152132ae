/**
 * Anthropic `thinking` + `output_config.effort` → Gemini `generationConfig.thinkingConfig`
 * (protocol.md F.7).
 *
 * Rules: the knob depends on the model generation (Gemini 3: `thinkingLevel`, 2.5: `thinkingBudget`
 * with per-family ranges) and the two are never sent together (→ 400). `includeThoughts` is set
 * whenever the client asked for thinking, so thought summaries stream back as thinking blocks.
 * No `thinking` field at all keeps Gemini's own default (only `effort` is applied), because many
 * clients omit it for model names they do not recognise and Gemini models think by default.
 */
import type { MessagesRequest } from "../../protocol/anthropic/request-schema.js";
import {
  type BudgetRange,
  type GeminiModelInfo,
  type GeminiThinkingLevel,
  THINKING_LEVELS,
} from "./models.js";

/** The wire object; the union makes "both budget and level" unrepresentable. */
export type GeminiThinkingConfig =
  | { includeThoughts?: boolean; thinkingBudget: number; thinkingLevel?: never }
  | { includeThoughts?: boolean; thinkingLevel: GeminiThinkingLevel; thinkingBudget?: never }
  | { includeThoughts: true; thinkingBudget?: never; thinkingLevel?: never };

type Intent =
  | { kind: "off" }
  | { kind: "default"; effort: string | undefined }
  | { kind: "on"; effort: string | undefined; budget: number | undefined };

const DYNAMIC_BUDGET = -1;

/** Budgets used for an Anthropic effort on budget models (clamped to the family range later). */
const EFFORT_BUDGET: Readonly<Record<string, number>> = {
  low: 1_024,
  medium: 8_192,
  high: 24_576,
  xhigh: Number.MAX_SAFE_INTEGER,
  max: Number.MAX_SAFE_INTEGER,
};
const EFFORT_LEVEL: Readonly<Record<string, GeminiThinkingLevel>> = {
  low: "LOW",
  medium: "MEDIUM",
  high: "HIGH",
  xhigh: "HIGH",
  max: "HIGH",
};

/**
 * The thinkingConfig for one request, or undefined when none should be sent.
 * `maxOutputTokens` is the already-clamped output cap: thought tokens count toward it, so an
 * explicit budget is kept below it.
 */
export function buildThinkingConfig(
  request: Pick<MessagesRequest, "thinking" | "output_config">,
  model: GeminiModelInfo,
  maxOutputTokens: number,
): GeminiThinkingConfig | undefined {
  const intent = readIntent(request);
  switch (model.thinking) {
    case "none":
      return undefined;
    case "level":
      return levelConfig(intent, model.levels);
    case "budget":
      return budgetConfig(intent, model.budget, maxOutputTokens);
    default: {
      const never: never = model;
      throw new Error(`unknown thinking control ${JSON.stringify(never)}`);
    }
  }
}

function readIntent(request: Pick<MessagesRequest, "thinking" | "output_config">): Intent {
  const effort = request.output_config?.effort ?? undefined;
  const thinking = request.thinking;
  if (thinking === null || thinking === undefined) return { kind: "default", effort };
  switch (thinking.type) {
    case "disabled":
      return { kind: "off" };
    case "enabled":
      return { kind: "on", effort, budget: thinking.budget_tokens };
    case "adaptive":
    case "between_tools":
      return { kind: "on", effort, budget: undefined };
    default: {
      const never: never = thinking;
      throw new Error(`unknown thinking type ${JSON.stringify(never)}`);
    }
  }
}

function levelConfig(
  intent: Intent,
  levels: readonly GeminiThinkingLevel[],
): GeminiThinkingConfig | undefined {
  if (intent.kind === "off") {
    // Gemini 3 cannot always turn thinking off: use the lowest level the model accepts.
    const lowest = THINKING_LEVELS.find((l) => levels.includes(l));
    return lowest === undefined ? undefined : { thinkingLevel: lowest };
  }
  // Effort names a level directly; an explicit budget is mapped by size.
  const fromEffort = intent.effort === undefined ? undefined : EFFORT_LEVEL[intent.effort];
  const fromBudget =
    intent.kind === "on" && intent.budget !== undefined ? levelForBudget(intent.budget) : undefined;
  const wanted = fromEffort ?? fromBudget;
  const level = wanted === undefined ? undefined : supportedLevel(wanted, levels);
  if (intent.kind === "default") return level === undefined ? undefined : { thinkingLevel: level };
  return level === undefined ? { includeThoughts: true } : { includeThoughts: true, thinkingLevel: level };
}

function budgetConfig(
  intent: Intent,
  range: BudgetRange,
  maxOutputTokens: number,
): GeminiThinkingConfig | undefined {
  if (intent.kind === "off") return range.canDisable ? { thinkingBudget: 0 } : undefined;
  // An explicit budget is the most specific request; effort picks one otherwise.
  const fromEffort = intent.effort === undefined ? undefined : EFFORT_BUDGET[intent.effort];
  let requested = (intent.kind === "on" ? intent.budget : undefined) ?? fromEffort;
  if (requested === undefined && intent.kind === "on") {
    // Adaptive: dynamic when the cap cannot be reached by thinking alone, else half the cap.
    requested = maxOutputTokens > range.max ? DYNAMIC_BUDGET : Math.floor(maxOutputTokens / 2);
  }
  const budget = requested === undefined ? undefined : fitBudget(requested, range, maxOutputTokens);
  if (intent.kind === "default") return budget === undefined ? undefined : { thinkingBudget: budget };
  return budget === undefined ? { includeThoughts: true } : { includeThoughts: true, thinkingBudget: budget };
}

/** Clamp into the family range and below maxOutputTokens; undefined when no valid value exists. */
function fitBudget(requested: number, range: BudgetRange, maxOutputTokens: number): number | undefined {
  if (requested === DYNAMIC_BUDGET) return DYNAMIC_BUDGET;
  const budget = Math.min(Math.max(requested, range.min), range.max, maxOutputTokens - 1);
  if (budget >= range.min) return budget;
  return range.canDisable ? 0 : undefined;
}

function levelForBudget(budget: number): GeminiThinkingLevel {
  if (budget <= 4_096) return "LOW";
  if (budget <= 16_384) return "MEDIUM";
  return "HIGH";
}

/** The wanted level if the model has it, else the next higher one, else the highest it has. */
function supportedLevel(
  wanted: GeminiThinkingLevel,
  levels: readonly GeminiThinkingLevel[],
): GeminiThinkingLevel | undefined {
  const from = THINKING_LEVELS.indexOf(wanted);
  const higher = THINKING_LEVELS.slice(from).find((l) => levels.includes(l));
  return higher ?? [...THINKING_LEVELS].reverse().find((l) => levels.includes(l));
}
