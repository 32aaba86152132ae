/**
 * Route problems zod cannot see, one message per problem, each naming its field: targets at
 * missing providers, duplicate route names, and routes no model name can reach because an
 * earlier route without conditions already takes every name they match.
 */
import type { ProviderConfig, RouteConfig } from "../config/schema.js";
import { isCatchAll } from "./glob.js";
import { parseDirectTarget, splitTarget, targetText } from "./targets.js";

export function routeProblems(
  routes: readonly RouteConfig[],
  providers: readonly Pick<ProviderConfig, "name">[],
): string[] {
  const problems: string[] = [];
  const providerNames = new Set(providers.map((p) => p.name));
  const seen = new Map<string, number>();
  routes.forEach((route, i) => {
    const first = seen.get(route.name);
    if (first !== undefined)
      problems.push(
        `routes.${i}.name: "${route.name}" is also the name of routes.${first} — route names must differ`,
      );
    else seen.set(route.name, i);
    route.targets.forEach((t, j) => {
      const { provider } = splitTarget(targetText(t));
      if (!providerNames.has(provider))
        problems.push(
          `routes.${i}.targets.${j}: provider "${provider}" is not defined — add it under providers or fix the name`,
        );
    });
    for (const [k, glob] of route.match.entries()) {
      const direct = parseDirectTarget(glob);
      if (direct !== undefined && !/[*?]/.test(glob))
        problems.push(
          `routes.${i}.match.${k}: "${glob}" is a 'provider,model' name, which always goes straight to that target — remove it`,
        );
    }
  });
  problems.push(...unreachable(routes));
  return problems;
}

/**
 * Routes are tried in config order with `default` last. A pattern is shadowed when an earlier
 * route without `when` has a catch-all glob (`*`) or the very same pattern; a route whose every
 * pattern is shadowed can never be reached by its model name. (`match: []` routes are reached
 * only by name and are exempt.)
 */
function unreachable(routes: readonly RouteConfig[]): string[] {
  const indexed = routes.map((route, index) => ({ route, index }));
  const order = [
    ...indexed.filter((r) => r.route.name !== "default"),
    ...indexed.filter((r) => r.route.name === "default"),
  ];
  const problems: string[] = [];
  const takers: { index: number; name: string; catchAll: boolean; patterns: Set<string> }[] = [];
  for (const { route, index } of order) {
    if (route.match.length > 0) {
      const shadows = route.match.map((glob) =>
        takers.find((t) => t.catchAll || t.patterns.has(glob.toLowerCase())),
      );
      if (shadows.every((s) => s !== undefined)) {
        const by = [...new Set(shadows.map((s) => `routes.${s.index} ("${s.name}")`))].join(", ");
        problems.push(
          `routes.${index}: route "${route.name}" is unreachable — ${by} before it already takes every model it matches without conditions; move it earlier, narrow the earlier route's match, or use match: [] to reach it only by name (x-ccgate-route)`,
        );
      }
    }
    if (route.when === undefined)
      takers.push({
        index,
        name: route.name,
        catchAll: route.match.some(isCatchAll),
        patterns: new Set(route.match.map((g) => g.toLowerCase())),
      });
  }
  return problems;
}
