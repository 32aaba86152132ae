/**
 * Scenario conditions a route may require (`routes[].when`), each checked against the request.
 * A condition that holds explains itself ("condition long_context: ~83.4k tokens > 60k"); the
 * explanations become `RouteDecision.reason`.
 */
import { type RouteWhen, type RoutingConfig, routingSchema } from "../config/schema.js";
import { globToRegExp } from "./glob.js";
import type { RequestFacts } from "./request-facts.js";

/** Global thresholds with the background globs compiled once. */
export interface RoutingSettings {
  longContextTokens: number;
  thinkingBudget: number;
  background: { glob: string; re: RegExp }[];
}

/** The schema's defaults, so a table built without `routing` behaves like a loaded config. */
export const DEFAULT_ROUTING: RoutingConfig = routingSchema.parse({});

export function routingSettings(config: Partial<RoutingConfig> = {}): RoutingSettings {
  const merged = { ...DEFAULT_ROUTING, ...config };
  return {
    longContextTokens: merged.longContextTokens,
    thinkingBudget: merged.thinkingBudget,
    background: merged.backgroundModels.map((glob) => ({ glob, re: globToRegExp(glob) })),
  };
}

export interface ConditionInput {
  model: string;
  facts: RequestFacts;
  settings: RoutingSettings;
}

type ConditionName = keyof RouteWhen;

/** One explanation per condition when all of `when` holds; undefined as soon as one does not. */
export function checkConditions(when: RouteWhen, input: ConditionInput): string[] | undefined {
  const reasons: string[] = [];
  for (const name of Object.keys(when) as ConditionName[]) {
    if (when[name] === undefined) continue;
    const why = checkOne(name, when, input);
    if (why === undefined) return undefined;
    reasons.push(`condition ${name}: ${why}`);
  }
  return reasons;
}

function checkOne(name: ConditionName, when: RouteWhen, { model, facts, settings }: ConditionInput) {
  switch (name) {
    case "background": {
      const hit = settings.background.find((b) => b.re.test(model));
      return hit === undefined ? undefined : `model "${model}" matched "${hit.glob}"`;
    }
    case "thinking": {
      const thinking = facts.thinking();
      if (thinking === undefined) return undefined;
      // Adaptive thinking has no budget: the model decides how much to think, so it counts.
      if (thinking.mode !== "enabled") return thinking.mode;
      const option = when.thinking;
      const min = typeof option === "object" ? option.minBudget : settings.thinkingBudget;
      return thinking.budget >= min ? `budget ${thinking.budget} ≥ ${min}` : undefined;
    }
    case "long_context": {
      if (facts.request === undefined) return undefined;
      const option = when.long_context;
      const min = typeof option === "object" ? option.minTokens : settings.longContextTokens;
      const tokens = facts.estimatedTokens();
      return tokens > min ? `~${formatTokens(tokens)} tokens > ${formatTokens(min)}` : undefined;
    }
    case "image":
      return facts.lastUserTurnHasImage() ? "image in the last user turn" : undefined;
    case "web_search": {
      const tool = facts.webSearchTool();
      return tool === undefined ? undefined : `tool ${tool}`;
    }
    default: {
      const unknown: never = name;
      return unknown;
    }
  }
}

/** 83412 → "83.4k", 60000 → "60k", 950 → "950". */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  const k = Math.round(n / 100) / 10;
  return `${k}k`;
}
