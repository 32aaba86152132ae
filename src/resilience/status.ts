/**
 * `GET /status` snapshot: per provider and key (named or masked — never the secret), and per
 * target slot: breaker state, cooldown, in-flight, recent errors, latency percentiles, sessions.
 */
import type { Upstream } from "../core/upstream.js";
import type { ResilienceState } from "./slots.js";

export type SlotState = "ok" | "cooling" | "disabled" | "open" | "half_open";

export interface KeyStatus {
  id: string;
  label: string;
  state: "ok" | "disabled";
  /** Until when the key rests after the upstream rejected it. */
  cooldownUntil: string | null;
  inFlight: number;
}

export interface TargetStatus {
  /** `provider/model#n` (n = key number; absent for keyless providers). */
  slot: string;
  provider: string;
  model: string;
  key: string | null;
  state: SlotState;
  breaker: "closed" | "open" | "half_open";
  cooldownUntil: string | null;
  requests: number;
  failures: number;
  recentErrors: { at: string; class: string; code: string; status: number }[];
  latencyMs: { p50: number; p90: number; p99: number } | null;
  sessions: number;
}

export interface GatewayStatus {
  version: string;
  uptimeSeconds: number;
  providers: { name: string; type: string; baseUrl: string; inFlight: number; keys: KeyStatus[] }[];
  targets: TargetStatus[];
  affinity: { sessions: number };
  /** Where breakers, cooldowns and bindings live: this process, or Redis shared with others. */
  state?: "memory" | "redis (connected)" | "redis (disconnected)";
  routes: { name: string; match: string[]; targets: string[] }[];
}

interface StatusSource {
  upstreams: ReadonlyMap<string, Upstream>;
  state: ResilienceState;
  shared?: { mode(): NonNullable<GatewayStatus["state"]> };
  config: { routes: { name: string; match: string[]; targets: unknown[] }[] };
}

export function gatewayStatus(source: StatusSource, version: string, startedAt: number): GatewayStatus {
  const { state } = source;
  const now = state.now();
  const iso = (ms: number) => (ms > now ? new Date(ms).toISOString() : null);
  const keyLabel = new Map<string, string>();
  for (const u of source.upstreams.values()) for (const k of u.keys) keyLabel.set(k.id, k.label);

  const targets: TargetStatus[] = [...state.slots.entries()].map(([slot, health]) => {
    const hash = slot.lastIndexOf("#");
    const target = hash === -1 ? slot : slot.slice(0, hash);
    const provider = target.slice(0, target.indexOf("/"));
    const keyId = hash === -1 ? undefined : `${provider}${slot.slice(hash)}`;
    const disabledFor = keyId === undefined ? 0 : state.keyDisabledFor(keyId);
    const breaker = health.breaker.state;
    let slotState: SlotState = breaker === "closed" ? "ok" : breaker;
    if (health.cooldownUntil > now) slotState = "cooling";
    if (disabledFor > 0) slotState = "disabled";
    return {
      slot,
      provider,
      model: target.slice(provider.length + 1),
      key: keyId === undefined ? null : (keyLabel.get(keyId) ?? keyId),
      state: slotState,
      breaker,
      cooldownUntil: iso(Math.max(health.cooldownUntil, disabledFor > 0 ? now + disabledFor : 0)),
      requests: health.requests,
      failures: health.failures,
      recentErrors: [...health.recentErrors],
      latencyMs: health.percentiles(),
      sessions: state.affinity.load(slot),
    };
  });

  return {
    version,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    providers: [...source.upstreams.values()].map((u) => ({
      name: u.name,
      type: u.type,
      baseUrl: u.baseUrl,
      inFlight: state.inFlight(u.name),
      keys: u.keys.map((k) => {
        const disabledFor = state.keyDisabledFor(k.id);
        return {
          id: k.id,
          label: k.label,
          state: disabledFor > 0 ? ("disabled" as const) : ("ok" as const),
          cooldownUntil: disabledFor > 0 ? new Date(now + disabledFor).toISOString() : null,
          inFlight: state.keyInFlight(k.id),
        };
      }),
    })),
    targets,
    affinity: { sessions: state.affinity.size },
    state: source.shared?.mode() ?? "memory",
    routes: source.config.routes.map((r) => ({
      name: r.name,
      match: r.match,
      targets: r.targets.map((t) => (typeof t === "string" ? t : JSON.stringify(t))),
    })),
  };
}
