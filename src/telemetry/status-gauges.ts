/**
 * Gauges read from the gateway's `/status` snapshot at scrape time: per-key state (one 0/1
 * series per state, the usual Prometheus "state set" shape), cooldown left, and in-flight
 * counts. The snapshot is parsed leniently (extra fields ignored) because it keeps growing;
 * a snapshot missing the fields read here is a contract break and fails the scrape loudly.
 */
import { Gauge, type Registry } from "prom-client";
import { z } from "zod";

/** States a key or slot can be in (resilience/status.ts); any other value gets its own series. */
const KNOWN_STATES = ["ok", "cooling", "disabled", "open", "half_open"] as const;

const statusSnapshot = z.object({
  providers: z.array(
    z.object({
      name: z.string(),
      inFlight: z.number().optional(),
      keys: z
        .array(
          z.object({
            id: z.string(),
            state: z.string(),
            cooldownUntil: z.string().nullable().optional(),
            inFlight: z.number().optional(),
          }),
        )
        .default([]),
    }),
  ),
});

export class StatusGauges {
  private readonly keyState: Gauge<"provider" | "key" | "state">;
  private readonly keyCooldown: Gauge<"provider" | "key">;
  private readonly keyInflight: Gauge<"provider" | "key">;
  private readonly inflight: Gauge<"provider">;

  constructor(
    registry: Registry,
    private readonly status: () => unknown,
  ) {
    const registers = [registry];
    this.keyState = new Gauge({
      name: "ccgate_key_state",
      help: "1 for the state each upstream key is in, 0 for the others (key = provider#n, never the secret)",
      labelNames: ["provider", "key", "state"],
      registers,
    });
    this.keyCooldown = new Gauge({
      name: "ccgate_key_cooldown_seconds",
      help: "Seconds until a resting (disabled or cooling) key is used again; 0 when usable",
      labelNames: ["provider", "key"],
      registers,
    });
    this.keyInflight = new Gauge({
      name: "ccgate_key_inflight",
      help: "Upstream requests in flight per key",
      labelNames: ["provider", "key"],
      registers,
    });
    this.inflight = new Gauge({
      name: "ccgate_inflight",
      help: "Upstream requests in flight per provider",
      labelNames: ["provider"],
      registers,
    });
  }

  /** Re-read the snapshot and replace every series (keys that went away disappear). */
  refresh(now: number = Date.now()): void {
    const parsed = statusSnapshot.safeParse(this.status());
    if (!parsed.success) {
      throw new Error(`status snapshot has an unexpected shape: ${z.prettifyError(parsed.error)}`);
    }
    this.keyState.reset();
    this.keyCooldown.reset();
    this.keyInflight.reset();
    this.inflight.reset();
    for (const p of parsed.data.providers) {
      if (p.inFlight !== undefined) this.inflight.set({ provider: p.name }, p.inFlight);
      for (const k of p.keys) {
        const labels = { provider: p.name, key: k.id };
        const states: string[] = [...KNOWN_STATES];
        if (!states.includes(k.state)) states.push(k.state);
        for (const state of states) this.keyState.set({ ...labels, state }, state === k.state ? 1 : 0);
        const until = k.cooldownUntil ? Date.parse(k.cooldownUntil) : Number.NaN;
        this.keyCooldown.set(labels, Number.isFinite(until) ? Math.max(0, (until - now) / 1000) : 0);
        if (k.inFlight !== undefined) this.keyInflight.set(labels, k.inFlight);
      }
    }
  }
}
