/**
 * The composition root: config → upstreams (adapter + transport + keys), route table and
 * resilience state. The HTTP layer asks it for a plan and runs the core's attempt loop.
 */
import { ConfigError } from "./config/load.js";
import type { Config } from "./config/schema.js";
import type { AttemptObserver } from "./core/attempt-loop.js";
import { GatewayError } from "./core/errors.js";
import type { Provider } from "./core/provider.js";
import { Transport } from "./core/transport.js";
import { type Attempt, maskSecret, type Upstream } from "./core/upstream.js";
import { createProvider, defaultBaseUrl } from "./providers/create-provider.js";
import { AUTH_COOLDOWN_MS, Cooldowns, DEFAULT_RATE_LIMIT_COOLDOWN_MS } from "./resilience/cooldowns.js";
import { type RouteDecision, type RouteInput, RouteTable } from "./routing/resolve-route.js";

export interface Plan {
  decision: RouteDecision;
  attempts: Attempt[];
}

export interface KeyStatus {
  id: string;
  label: string;
  state: "ok" | "cooling" | "disabled" | "open" | "half_open";
  cooldownUntil: string | null;
}

export interface GatewayStatus {
  version: string;
  uptimeSeconds: number;
  providers: { name: string; type: string; baseUrl: string; keys: KeyStatus[] }[];
  routes: { name: string; match: string[]; targets: string[] }[];
}

export class Gateway {
  readonly routes: RouteTable;
  readonly upstreams = new Map<string, Upstream>();
  readonly cooldowns = new Cooldowns();
  private rotation = 0;

  constructor(readonly config: Config) {
    this.routes = new RouteTable(config.routes);
    const problems: string[] = [];
    config.providers.forEach((p, i) => {
      let provider: Provider;
      try {
        provider = createProvider(p);
      } catch (err) {
        problems.push(`providers.${i}.${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      const baseUrl = (p.baseUrl ?? defaultBaseUrl(p.type) ?? "").replace(/\/+$/, "");
      this.upstreams.set(p.name, {
        name: p.name,
        type: p.type,
        provider,
        transport: new Transport(p.timeouts),
        baseUrl,
        headers: p.headers,
        keys: p.apiKeys.map((k, i) => {
          const secret = typeof k === "string" ? k : k.key;
          return { id: `${p.name}#${i + 1}`, label: typeof k === "string" ? maskSecret(k) : k.name, secret };
        }),
        requiresKey: p.type === "gemini",
      });
    });
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** Route the model and list the attempts (targets × usable keys, keys rotated for spread). */
  plan(input: RouteInput): Plan {
    const requestedModel = input.model;
    const decision = this.routes.resolve(input);
    if (decision === undefined) {
      throw new GatewayError({
        code: "NO_ROUTE",
        message: `model: no route serves "${requestedModel}"; available: ${this.routes.modelNames().join(", ") || "(none)"}`,
        status: 404,
        type: "not_found_error",
        class: "client",
      });
    }
    const attempts: Attempt[] = [];
    let soonestMs = Number.POSITIVE_INFINITY;
    let keyless: string | undefined;
    const start = this.rotation++;
    for (const target of decision.targets) {
      const upstream = this.upstreams.get(target.provider);
      if (upstream === undefined) continue;
      if (upstream.keys.length === 0) {
        if (upstream.requiresKey) keyless = upstream.name;
        else attempts.push({ upstream, model: target.model, key: undefined });
        continue;
      }
      const n = upstream.keys.length;
      for (let i = 0; i < n; i++) {
        const key = upstream.keys[(start + i) % n]!;
        const wait = this.cooldowns.remaining(key.id);
        if (wait > 0) soonestMs = Math.min(soonestMs, wait);
        else attempts.push({ upstream, model: target.model, key });
      }
    }
    if (attempts.length === 0) {
      if (Number.isFinite(soonestMs)) {
        throw new GatewayError({
          code: "ALL_KEYS_COOLING",
          message: `Every key for route "${decision.route}" is cooling down after rate limits or rejections`,
          status: 429,
          type: "rate_limit_error",
          class: "rate_limit",
          retryAfterSeconds: Math.max(1, Math.ceil(soonestMs / 1000)),
        });
      }
      if (keyless !== undefined) {
        throw new GatewayError({
          code: "NO_API_KEY",
          message: `No API key is configured for provider "${keyless}". Set GEMINI_API_KEY (comma-separated for several keys) or add apiKeys to ccgate.yaml, then restart ccgate.`,
          status: 401,
          type: "authentication_error",
          class: "auth",
        });
      }
    }
    return { decision, attempts };
  }

  /** Cooldowns on the keys that failed; successes clear nothing yet (breakers come later). */
  readonly observer: AttemptObserver = {
    onAttemptFailure: (attempt, error) => {
      if (attempt.key === undefined) return;
      if (error.class === "rate_limit")
        this.cooldowns.cool(
          attempt.key.id,
          error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : DEFAULT_RATE_LIMIT_COOLDOWN_MS,
        );
      else if (error.class === "auth") this.cooldowns.cool(attempt.key.id, AUTH_COOLDOWN_MS);
    },
    onAttemptSuccess: () => {},
  };

  /** Snapshot for `GET /status` (the shape is documented in README "Status API"). */
  status(version: string, startedAt: number): GatewayStatus {
    return {
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      providers: [...this.upstreams.values()].map((u) => ({
        name: u.name,
        type: u.type,
        baseUrl: u.baseUrl,
        keys: u.keys.map((k) => {
          const cooldownMs = this.cooldowns.remaining(k.id);
          return {
            id: k.id,
            label: k.label,
            state: cooldownMs > 0 ? ("cooling" as const) : ("ok" as const),
            cooldownUntil: cooldownMs > 0 ? new Date(Date.now() + cooldownMs).toISOString() : null,
          };
        }),
      })),
      routes: this.config.routes.map((r) => ({ name: r.name, match: r.match, targets: r.targets })),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.transport.close()));
  }
}
