/**
 * Requested model (+ request body and headers) → the route that serves it and its targets in
 * attempt order. Precedence, first that applies:
 *  1. a model name `provider,model` names its target directly (claude-code-router's convention);
 *  2. header `x-ccgate-route: <route name>` forces that route;
 *  3. a model name equal to a route's name selects it (routes without `$model` targets only);
 *  4. the first route, in config order with the route named `default` last, whose `match` globs
 *     take the model name and whose `when` conditions all hold.
 * Targets lacking a feature the request needs are skipped (see capabilities.ts).
 */
import type { IncomingHttpHeaders } from "node:http";
import type { RouteConfig, RoutingConfig } from "../config/schema.js";
import { GatewayError } from "../core/errors.js";
import type { CountTokensRequest } from "../protocol/anthropic/request-schema.js";
import {
  keepCapable,
  noCapableTarget,
  ProviderCatalog,
  type ProviderCatalogEntry,
  type SkippedTarget,
} from "./capabilities.js";
import { checkConditions, type RoutingSettings, routingSettings } from "./conditions.js";
import { globToRegExp, isCatchAll, isLiteral } from "./glob.js";
import { RequestFacts } from "./request-facts.js";
import {
  compileTargets,
  orderTargets,
  parseDirectTarget,
  type ResolvedTarget,
  type TargetSpec,
  targetText,
} from "./targets.js";

export type { SkippedTarget } from "./capabilities.js";
export type { ResolvedTarget } from "./targets.js";

export const ROUTE_HEADER = "x-ccgate-route";
/** The route name reported for a `provider,model` request (not a valid configured route name). */
export const DIRECT_ROUTE = "(direct)";

export interface RouteDecision {
  route: string;
  /** Attempt order. */
  targets: ResolvedTarget[];
  /** Why this route was chosen, for logs (the HTTP layer sends the route in `x-ccgate-route`). */
  reason: string;
  /** Targets left out because they lack a feature the request needs. */
  skipped: SkippedTarget[];
}

/** What routing may look at: the requested model, the request body and the client's headers. */
export interface RouteInput {
  model: string;
  request?: CountTokensRequest;
  headers?: IncomingHttpHeaders;
}

export interface RouteTableOptions {
  /** Configured providers: `provider,model` checks the name; `models` give aliases and capabilities. */
  providers?: readonly ProviderCatalogEntry[];
  /** Global thresholds (`routing:` in the config). */
  routing?: Partial<RoutingConfig>;
  /** [0, 1) source for weighted choice; tests pass a seeded one. */
  random?: () => number;
}

interface CompiledRoute {
  config: RouteConfig;
  patterns: { glob: string; re: RegExp }[];
  targets: TargetSpec[];
  /** Usable as a model name: no target depends on the requested name. */
  selectable: boolean;
}

export class RouteTable {
  private readonly routes: CompiledRoute[];
  private readonly byName = new Map<string, CompiledRoute>();
  private readonly catalog: ProviderCatalog;
  private readonly settings: RoutingSettings;
  private readonly random: () => number;

  constructor(routes: readonly RouteConfig[], options: RouteTableOptions = {}) {
    const compiled = routes.map((config) => ({
      config,
      patterns: config.match.map((glob) => ({ glob, re: globToRegExp(glob) })),
      targets: compileTargets(config.targets),
      selectable: config.targets.every((t) => !targetText(t).includes("$model")),
    }));
    for (const r of compiled) if (!this.byName.has(r.config.name)) this.byName.set(r.config.name, r);
    // "A default route catches the rest": whatever its position, it is tried last.
    this.routes = [
      ...compiled.filter((r) => r.config.name !== "default"),
      ...compiled.filter((r) => r.config.name === "default"),
    ];
    this.catalog = new ProviderCatalog(options.providers);
    this.settings = routingSettings(options.routing);
    this.random = options.random ?? Math.random;
  }

  /**
   * The decision, or undefined when no route takes the model. Throws a `client` GatewayError
   * (400) for an unknown `x-ccgate-route` name or `provider,model` provider, and when every
   * target lacks a feature the request needs.
   */
  resolve(input: RouteInput): RouteDecision | undefined {
    const facts = new RequestFacts(input.request);
    const direct = parseDirectTarget(input.model);
    if (direct !== undefined) {
      if (!this.catalog.has(direct.provider))
        throw badRequest(
          "UNKNOWN_PROVIDER",
          `model: provider "${direct.provider}" in "${input.model}" is not configured (providers: ${this.catalog.names().join(", ") || "none"})`,
        );
      return this.decide(DIRECT_ROUTE, [direct], `forced by model name "${input.model}"`, facts);
    }
    const forced = headerValue(input.headers?.[ROUTE_HEADER]);
    if (forced !== undefined) {
      const route = this.byName.get(forced);
      if (route === undefined)
        throw badRequest(
          "UNKNOWN_ROUTE",
          `${ROUTE_HEADER}: no route is named "${forced}" (routes: ${[...this.byName.keys()].join(", ") || "none"})`,
        );
      return this.decideRoute(route, input.model, `forced by ${ROUTE_HEADER} header`, facts);
    }
    const named = this.byName.get(input.model);
    if (named?.selectable === true)
      return this.decideRoute(named, input.model, `model name selects route "${named.config.name}"`, facts);
    for (const route of this.routes) {
      const reason = this.matches(route, input.model, facts);
      if (reason !== undefined) return this.decideRoute(route, input.model, reason, facts);
    }
    return undefined;
  }

  /**
   * Model names a client can ask for (GET /v1/models): literal match patterns, fixed target
   * models that route to themselves, and route names usable as model names (routes without
   * `$model`; any route can also be forced with the `x-ccgate-route` header).
   */
  modelNames(): string[] {
    const names = new Set<string>();
    for (const { config } of this.routes) for (const m of config.match) if (isLiteral(m)) names.add(m);
    for (const route of this.routes)
      for (const t of route.targets) {
        if (t.model.includes("$model") || names.has(t.model) || t.model.includes(",")) continue;
        const decision = this.resolve({ model: t.model });
        if (decision?.targets.some((d) => d.model === t.model)) names.add(t.model);
      }
    for (const route of this.routes) if (route.selectable) names.add(route.config.name);
    return [...names];
  }

  /** "model matched X" and the conditions' explanations, or undefined when the route does not apply. */
  private matches(route: CompiledRoute, model: string, facts: RequestFacts): string | undefined {
    const hit = route.patterns.find((p) => p.re.test(model));
    if (hit === undefined) return undefined;
    const when = route.config.when;
    if (when === undefined) return `model "${model}" matched "${hit.glob}"`;
    const conditions = checkConditions(when, { model, facts, settings: this.settings });
    if (conditions === undefined) return undefined;
    return [...(isCatchAll(hit.glob) ? [] : [`model "${model}" matched "${hit.glob}"`]), ...conditions].join(
      "; ",
    );
  }

  private decideRoute(
    route: CompiledRoute,
    model: string,
    reason: string,
    facts: RequestFacts,
  ): RouteDecision {
    const ordered = orderTargets(route.targets, this.random).map((t) => ({
      provider: t.provider,
      model: t.model.replaceAll("$model", model),
    }));
    return this.decide(route.config.name, ordered, reason, facts);
  }

  private decide(
    route: string,
    ordered: ResolvedTarget[],
    reason: string,
    facts: RequestFacts,
  ): RouteDecision {
    const { targets, skipped } = keepCapable(ordered, this.catalog, facts);
    if (targets.length === 0) throw noCapableTarget(route, skipped, facts);
    const skipNote = skipped.map((s) => `skipped ${s.provider}/${s.model}: ${s.reason}`);
    return { route, targets, reason: [reason, ...skipNote].join("; "), skipped };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text === undefined || text === "" ? undefined : text;
}

function badRequest(code: string, message: string): GatewayError {
  return new GatewayError({ code, message, status: 400, type: "invalid_request_error", class: "client" });
}
