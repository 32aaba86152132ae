/**
 * The composition root: config → upstreams (adapter + transport + keys), route table and
 * resilience state. The HTTP layer asks it for a plan and runs the core's attempt loop with
 * its guard.
 */
import { ConfigError } from "./config/load.js";
import { type Config, stateSchema } from "./config/schema.js";
import { GatewayError } from "./core/errors.js";
import type { Provider } from "./core/provider.js";
import { registerSecrets } from "./core/redact.js";
import { Transport } from "./core/transport.js";
import type { Attempt, Upstream, UpstreamKey } from "./core/upstream.js";
import { createProvider, createUpstreamKeys, upstreamBaseUrl } from "./providers/create-provider.js";
import { sessionKey } from "./resilience/affinity.js";
import { ResilienceGuard } from "./resilience/guard.js";
import { type FailureRule, type ResilienceOptions, resilienceSchema } from "./resilience/options.js";
import { Prober } from "./resilience/prober.js";
import { ResilienceState, slotId } from "./resilience/slots.js";
import { type GatewayStatus, gatewayStatus } from "./resilience/status.js";
import { type RouteDecision, type RouteInput, RouteTable } from "./routing/resolve-route.js";
import { createSharedState, type SharedState } from "./state/shared-state.js";

export type { GatewayStatus } from "./resilience/status.js";

export interface Plan {
  decision: RouteDecision;
  attempts: Attempt[];
  /** The client session, when one was found (logs). */
  session: string | undefined;
  /**
   * What affinity binds: the session per route. Claude Code's background (haiku) and main calls
   * share a session id but go to different targets; one binding each keeps both caches warm.
   */
  affinityKey: string | undefined;
}

interface ProviderExtras {
  rules: FailureRule[];
  limits: { perProvider: number; perKey: number };
}

export class Gateway {
  readonly routes: RouteTable;
  readonly upstreams = new Map<string, Upstream>();
  readonly resilience: ResilienceOptions;
  readonly state: ResilienceState;
  readonly guard: ResilienceGuard;
  readonly prober: Prober;
  /** Mirrors the state's transitions to other instances (Redis) — or nothing (memory). */
  readonly shared: SharedState;
  private readonly extras = new Map<string, ProviderExtras>();
  private rotation = 0;

  constructor(readonly config: Config) {
    this.routes = new RouteTable(config.routes, { providers: config.providers, routing: config.routing });
    // Parsed again so a config edited in code (tests, reloads) gets its defaults filled in.
    this.resilience = resilienceSchema.parse(config.resilience ?? {});
    const problems: string[] = [];
    config.providers.forEach((p, i) => {
      let provider: Provider;
      let keys: UpstreamKey[];
      let baseUrl: string;
      try {
        provider = createProvider(p);
        keys = createUpstreamKeys(p);
        baseUrl = upstreamBaseUrl(p);
      } catch (err) {
        problems.push(`providers.${i}.${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      this.upstreams.set(p.name, {
        name: p.name,
        type: p.type,
        provider,
        transport: new Transport(p.timeouts),
        baseUrl,
        headers: p.headers,
        keys,
        requiresKey: p.type === "gemini" || p.type === "vertex",
      });
      this.extras.set(p.name, {
        rules: [...(p.rules ?? []), ...this.resilience.rules],
        limits: {
          perProvider: p.limits?.perProvider ?? this.resilience.concurrency.perProvider,
          perKey: p.limits?.perKey ?? this.resilience.concurrency.perKey,
        },
      });
    });
    if (problems.length > 0) throw new ConfigError(problems);
    // Masked wherever an error message would carry them (core/redact.ts), from the start.
    registerSecrets([
      config.server.authToken,
      ...[...this.upstreams.values()].flatMap((u) => u.keys.map((key) => key.secret)),
    ]);
    this.state = new ResilienceState(this.resilience);
    this.guard = new ResilienceGuard(
      this.state,
      (name) => this.extras.get(name)?.rules ?? this.resilience.rules,
      (name) => this.extras.get(name)?.limits ?? { perProvider: 0, perKey: 0 },
    );
    this.prober = new Prober(this, this.state, this.resilience.probe);
    this.shared = createSharedState(stateSchema.parse(config.state ?? {}), this.state);
  }

  /**
   * Route the request and order its attempts: the session's bound slot first (affinity), then
   * each target's keys, least-bound first so sessions spread evenly, rotated per request.
   */
  plan(input: RouteInput): Plan {
    const decision = this.routes.resolve(input);
    if (decision === undefined) {
      throw new GatewayError({
        code: "NO_ROUTE",
        message: `model: no route serves "${input.model}"; available: ${this.routes.modelNames().join(", ") || "(none)"}`,
        status: 404,
        type: "not_found_error",
        class: "client",
      });
    }
    const session = this.resilience.affinity.enabled
      ? sessionKey(input.headers, input.request?.metadata?.user_id)
      : undefined;
    const attempts: Attempt[] = [];
    let keyless: string | undefined;
    const turn = this.rotation++;
    for (const target of decision.targets) {
      const upstream = this.upstreams.get(target.provider);
      if (upstream === undefined) continue;
      if (upstream.keys.length === 0) {
        if (upstream.requiresKey) keyless = upstream.name;
        else attempts.push({ upstream, model: target.model, key: undefined });
        continue;
      }
      const n = upstream.keys.length;
      const keys = upstream.keys.map((key, i) => ({ key, order: (i - (turn % n) + n) % n }));
      const load = (key: UpstreamKey) =>
        this.state.affinity.load(slotId({ upstream, model: target.model, key }));
      keys.sort((a, b) => load(a.key) - load(b.key) || a.order - b.order);
      for (const { key } of keys) attempts.push({ upstream, model: target.model, key });
    }
    if (attempts.length === 0 && keyless !== undefined) {
      throw new GatewayError({
        code: "NO_API_KEY",
        message: `No API key is configured for provider "${keyless}". Set GEMINI_API_KEY (comma-separated for several keys) or add apiKeys to ccgate.yaml, then restart ccgate.`,
        status: 401,
        type: "authentication_error",
        class: "auth",
      });
    }
    const affinityKey = session === undefined ? undefined : `${session}|${decision.route}`;
    const bound = affinityKey === undefined ? undefined : this.state.affinity.lookup(affinityKey);
    if (bound !== undefined) {
      const i = attempts.findIndex((a) => slotId(a) === bound);
      if (i > 0) attempts.unshift(...attempts.splice(i, 1));
    }
    return { decision, attempts, session, affinityKey };
  }

  /** Snapshot for `GET /status` (the shape is documented in README "Status API"). */
  status(version: string, startedAt: number): GatewayStatus {
    return gatewayStatus(this, version, startedAt);
  }

  async close(): Promise<void> {
    this.prober.stop();
    await Promise.all([...this.upstreams.values()].map((u) => u.transport.close()));
    // After the transports: requests still finishing on them keep sharing what they learn.
    await this.shared.close();
  }
}
