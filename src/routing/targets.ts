/**
 * Route targets: parsing `provider/model` (strings or `{target, weight, tier}`), the
 * `provider,model` model-name override, and the attempt order (tiers ascending, weighted random
 * choice within a tier).
 */
import type { RouteTarget } from "../config/schema.js";

/** One place a request can go. */
export interface ResolvedTarget {
  provider: string;
  model: string;
}

/** A compiled route target: where, and how it is ordered. */
export interface TargetSpec extends ResolvedTarget {
  weight: number;
  tier: number;
}

/** The `provider/model` text of a target in either form. */
export function targetText(target: RouteTarget): string {
  return typeof target === "string" ? target : target.target;
}

/** `provider/model` → its parts (the model may itself contain slashes: `openrouter/deepseek/x`). */
export function splitTarget(text: string): ResolvedTarget {
  const slash = text.indexOf("/");
  return { provider: text.slice(0, slash), model: text.slice(slash + 1) };
}

/**
 * claude-code-router's convention: a requested model `provider,model` names its target directly
 * (`openrouter,deepseek/deepseek-chat`). Undefined when the name has no comma.
 */
export function parseDirectTarget(model: string): ResolvedTarget | undefined {
  const comma = model.indexOf(",");
  if (comma <= 0 || comma === model.length - 1) return undefined;
  return { provider: model.slice(0, comma).trim(), model: model.slice(comma + 1).trim() };
}

/**
 * A plain list is a strict failover order (each target its own tier, by position). As soon as one
 * target of the route gives a `weight` or a `tier`, the route is tiered: a missing tier is 0 and a
 * missing weight is 1, so `[{target: a, weight: 3}, {target: b}]` splits first attempts 3:1.
 */
export function compileTargets(targets: readonly RouteTarget[]): TargetSpec[] {
  const tiered = targets.some(
    (t) => typeof t !== "string" && (t.weight !== undefined || t.tier !== undefined),
  );
  return targets.map((t, i) => {
    const options = typeof t === "string" ? undefined : t;
    return {
      ...splitTarget(targetText(t)),
      weight: options?.weight ?? 1,
      tier: tiered ? (options?.tier ?? 0) : i,
    };
  });
}

/**
 * The attempt order for one request: tiers ascending; within a tier, weighted random sampling
 * without replacement (the first pick is proportional to weight, then the rest among the
 * remaining). `random` returns [0, 1) like Math.random.
 */
export function orderTargets(specs: readonly TargetSpec[], random: () => number): TargetSpec[] {
  const tiers = new Map<number, TargetSpec[]>();
  for (const spec of specs) {
    const tier = tiers.get(spec.tier);
    if (tier === undefined) tiers.set(spec.tier, [spec]);
    else tier.push(spec);
  }
  const ordered: TargetSpec[] = [];
  for (const tier of [...tiers.keys()].sort((a, b) => a - b)) {
    const pool = [...(tiers.get(tier) ?? [])];
    // Each pass removes one target, so the loop runs pool.length times.
    while (pool.length > 1) {
      const total = pool.reduce((sum, t) => sum + t.weight, 0);
      let r = random() * total;
      let pick = pool.length - 1;
      for (let i = 0; i < pool.length - 1; i++) {
        r -= pool[i]?.weight ?? 0;
        if (r < 0) {
          pick = i;
          break;
        }
      }
      ordered.push(...pool.splice(pick, 1));
    }
    ordered.push(...pool);
  }
  return ordered;
}
