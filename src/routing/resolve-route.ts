/**
 * Requested model name → the route that serves it and its ordered targets.
 * First matching route wins (config order); `$model` in a target stands for the requested name.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { RouteConfig } from "../config/schema.js";
import type { CountTokensRequest } from "../protocol/anthropic/request-schema.js";
import { globToRegExp } from "./glob.js";

export interface ResolvedTarget {
  provider: string;
  model: string;
}

export interface RouteDecision {
  route: string;
  targets: ResolvedTarget[];
  /** Why this route was chosen, for logs and the `x-ccgate-route` header. */
  reason: string;
}

/** What routing may look at: the requested model, the request body and the client's headers. */
export interface RouteInput {
  model: string;
  request?: CountTokensRequest;
  headers?: IncomingHttpHeaders;
}

interface CompiledRoute {
  config: RouteConfig;
  patterns: { glob: string; re: RegExp }[];
}

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(routes: RouteConfig[]) {
    this.routes = routes.map((config) => ({
      config,
      patterns: config.match.map((glob) => ({ glob, re: globToRegExp(glob) })),
    }));
  }

  resolve(input: RouteInput): RouteDecision | undefined {
    const requestedModel = input.model;
    for (const { config, patterns } of this.routes) {
      const hit = patterns.find((p) => p.re.test(requestedModel));
      if (hit === undefined) continue;
      return {
        route: config.name,
        reason: `model "${requestedModel}" matched "${hit.glob}"`,
        targets: config.targets.map((t) => {
          const slash = t.indexOf("/");
          return {
            provider: t.slice(0, slash),
            model: t.slice(slash + 1).replaceAll("$model", requestedModel),
          };
        }),
      };
    }
    return undefined;
  }

  /** Model names a client can ask for: the literal (glob-free) patterns of every route. */
  modelNames(): string[] {
    const names = new Set<string>();
    for (const { config } of this.routes) for (const m of config.match) if (!/[*?]/.test(m)) names.add(m);
    return [...names];
  }
}
