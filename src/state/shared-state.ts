/**
 * Where the resilience state lives (design.md §1 "State behind an interface"). The local
 * ResilienceState stays the source of truth the guard reads synchronously; a SharedState only
 * mirrors its transitions to other instances and applies theirs. In memory (the default) there
 * is nothing to mirror; with `state.redis.url` the RedisSharedState does it.
 */
import type { StateConfig } from "../config/schema.js";
import type { ResilienceState } from "../resilience/slots.js";
import { RedisSharedState } from "./redis-shared-state.js";

/** How `/status` describes it. */
export type SharedStateMode = "memory" | "redis (connected)" | "redis (disconnected)";

/** The part of a logger the shared state uses (Fastify's pino logger fits). */
export interface StateLogger {
  info(msg: string): void;
  warn(obj: { err: unknown }, msg: string): void;
}

export interface SharedState {
  /**
   * Connect and load what other instances hold. Resolves once loaded, or after `waitMs` when the
   * store is not reachable (the gateway then serves from local state and syncs when it is).
   * Never rejects.
   */
  start(log: StateLogger, waitMs?: number): Promise<void>;
  mode(): SharedStateMode;
  close(): Promise<void>;
}

/** Nothing shared: one instance, state in its memory only. */
export class MemoryState implements SharedState {
  async start(): Promise<void> {}
  mode(): SharedStateMode {
    return "memory";
  }
  async close(): Promise<void> {}
}

export function createSharedState(config: StateConfig, state: ResilienceState): SharedState {
  const { url, prefix } = config.redis;
  return url === undefined ? new MemoryState() : new RedisSharedState(state, { url, prefix });
}
