/**
 * Model capabilities from `providers[].models`: aliases resolve to the upstream model id, and a
 * target lacking a feature the request needs (images, tools, enough context) is skipped in
 * favour of the next one. With none left the client gets a 400 naming the feature and targets.
 */
import type { ModelConfig, ProviderConfig } from "../config/schema.js";
import { GatewayError } from "../core/errors.js";
import { formatTokens } from "./conditions.js";
import type { RequestFacts } from "./request-facts.js";
import type { ResolvedTarget } from "./targets.js";

/** The feature a skipped target lacks. */
export type Feature = "images" | "tools" | "context";

export interface SkippedTarget extends ResolvedTarget {
  feature: Feature;
  /** Human-readable, e.g. `the request has images; the model is declared images: false`. */
  reason: string;
  /** The model's declared window, when `feature` is `context`. */
  contextWindow?: number;
}

/** Just what routing needs from a provider's config. */
export type ProviderCatalogEntry = Pick<ProviderConfig, "name"> & { models?: readonly ModelConfig[] };

export class ProviderCatalog {
  private readonly models = new Map<string, Map<string, ModelConfig>>();

  /** `undefined`: providers unknown here (every provider name is accepted, no capability data). */
  constructor(private readonly providers: readonly ProviderCatalogEntry[] | undefined) {
    for (const p of providers ?? []) {
      const byName = new Map<string, ModelConfig>();
      for (const m of p.models ?? []) for (const n of [m.name, ...m.aliases]) byName.set(n, m);
      this.models.set(p.name, byName);
    }
  }

  has(provider: string): boolean {
    return this.providers === undefined || this.models.has(provider);
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  /** The target with an alias replaced by the model's upstream id, and what that model can do. */
  lookup(target: ResolvedTarget): { target: ResolvedTarget; model: ModelConfig | undefined } {
    const model = this.models.get(target.provider)?.get(target.model);
    return { target: model === undefined ? target : { ...target, model: model.name }, model };
  }
}

/** Why this model cannot serve this request, or undefined when it can. */
function missingFeature(
  model: ModelConfig,
  facts: RequestFacts,
): Omit<SkippedTarget, keyof ResolvedTarget> | undefined {
  if (!model.images && facts.hasImage())
    return { feature: "images", reason: "the request has images; the model is declared images: false" };
  if (!model.tools && facts.hasTools())
    return { feature: "tools", reason: "the request has tools; the model is declared tools: false" };
  if (model.contextWindow !== undefined && facts.request !== undefined) {
    const tokens = facts.estimatedTokens();
    if (tokens > model.contextWindow)
      return {
        feature: "context",
        contextWindow: model.contextWindow,
        reason: `~${formatTokens(tokens)} input tokens > contextWindow ${formatTokens(model.contextWindow)}`,
      };
  }
  return undefined;
}

/** Keep the targets able to serve the request, in order; report the others. */
export function keepCapable(
  targets: readonly ResolvedTarget[],
  catalog: ProviderCatalog,
  facts: RequestFacts,
): { targets: ResolvedTarget[]; skipped: SkippedTarget[] } {
  const kept: ResolvedTarget[] = [];
  const skipped: SkippedTarget[] = [];
  for (const t of targets) {
    const { target, model } = catalog.lookup(t);
    const missing = model === undefined ? undefined : missingFeature(model, facts);
    if (missing === undefined) kept.push(target);
    else skipped.push({ ...target, ...missing });
  }
  return { targets: kept, skipped };
}

/**
 * Every target was skipped. Context-only failures keep Anthropic's wording (protocol.md C.4) so
 * Claude Code compacts; anything else names each target and the feature it lacks.
 */
export function noCapableTarget(
  route: string,
  skipped: readonly SkippedTarget[],
  facts: RequestFacts,
): GatewayError {
  const list = skipped.map((s) => `${s.provider}/${s.model} (${s.reason})`).join("; ");
  const message = skipped.every((s) => s.feature === "context")
    ? `prompt is too long: ${facts.estimatedTokens()} tokens > ${maxWindow(skipped)} maximum — estimated by ccgate; route "${route}" targets: ${list}`
    : `No target of route "${route}" supports what this request needs (${features(skipped)}): ${list}`;
  return new GatewayError({
    code: "NO_CAPABLE_TARGET",
    message,
    status: 400,
    type: "invalid_request_error",
    class: "client",
  });
}

function features(skipped: readonly SkippedTarget[]): string {
  return [...new Set(skipped.map((s) => s.feature))].join(", ");
}

function maxWindow(skipped: readonly SkippedTarget[]): number {
  return Math.max(0, ...skipped.map((s) => s.contextWindow ?? 0));
}
