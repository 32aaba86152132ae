/**
 * Resilience state shared through Redis by every gateway instance with the same `prefix`.
 *
 * Each transition of the local state (StateListener) is written to a Redis key that expires
 * when the state ends (so an instance starting later loads what still holds) and published on
 * `<prefix>:events`; events from the other instances are applied locally (our own are skipped by
 * instance id). The hot path never waits for Redis: sends are fire-and-forget, and while Redis is
 * unreachable the instance works from its local state (one warning), reconnects in the
 * background (ioredis) and then resyncs: it loads what Redis holds, then pushes what it holds.
 */
import { randomUUID } from "node:crypto";
import type { ChainableCommander, Redis, RedisOptions } from "ioredis";
import type { ResilienceState, StateListener } from "../resilience/slots.js";
import { applyEvent, localEvents } from "./apply-event.js";
import type { SharedState, SharedStateMode, StateLogger } from "./shared-state.js";
import {
  holdsUntil,
  MAX_SHARED_SESSION,
  parseEvent,
  parseMessage,
  type StateEvent,
  storageKey,
} from "./state-events.js";

/** Keys read per SCAN round at load, and an upper bound on rounds (every loop bounded). */
const SCAN_COUNT = 500;
const MAX_SCAN_ROUNDS = 10_000;
/** Events per published message when pushing a snapshot. */
const BATCH = 500;

const quiet: StateLogger = { info: () => {}, warn: () => {} };

export interface RedisStateOptions {
  url: string;
  prefix: string;
}

export class RedisSharedState implements SharedState, StateListener {
  /** Tells our own messages apart from the other instances'. */
  readonly instanceId = randomUUID();
  private readonly channel: string;
  private cmd: Redis | undefined;
  private sub: Redis | undefined;
  private log: StateLogger = quiet;
  private starting = false;
  private subscribed = false;
  /** Loaded and pushed since the connections last came up. */
  private synced = false;
  private warned = false;
  private closed = false;
  private syncing = false;
  private syncAgain = false;
  private malformedWarned = false;
  private firstSync: () => void = () => {};
  private readonly firstSynced = new Promise<void>((resolve) => {
    this.firstSync = resolve;
  });

  constructor(
    private readonly state: ResilienceState,
    private readonly options: RedisStateOptions,
  ) {
    this.channel = `${options.prefix}:events`;
    state.listener = this;
  }

  async start(log: StateLogger, waitMs = 2_000): Promise<void> {
    this.log = log;
    if (this.starting || this.closed) return;
    this.starting = true;
    // Loaded on first use: a gateway without Redis never pays for the client.
    const { Redis } = await import("ioredis");
    if (this.closed) return;
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 1,
      // Reconnect forever, at most a second apart: a Redis restart is picked up quickly.
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    };
    // Commands fail at once while disconnected instead of queueing without bound: the resync
    // after the reconnect pushes everything that happened meanwhile.
    const cmd = new Redis(this.options.url, { ...common, enableOfflineQueue: false });
    // Subscriptions are renewed by hand on each `ready`, then the state is resynced.
    const sub = new Redis(this.options.url, { ...common, autoResubscribe: false });
    this.cmd = cmd;
    this.sub = sub;
    for (const client of [cmd, sub]) {
      client.on("error", (err: unknown) => this.unavailable(err));
      client.on("close", () => {
        this.synced = false;
        if (client === sub) this.subscribed = false;
      });
    }
    cmd.on("ready", () => this.resync());
    sub.on("ready", () => this.subscribe());
    sub.on("message", (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    // A failed first connect is retried by ioredis like a lost connection.
    cmd.connect().catch((err: unknown) => this.unavailable(err));
    sub.connect().catch((err: unknown) => this.unavailable(err));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstSynced,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  mode(): SharedStateMode {
    return this.connected() ? "redis (connected)" : "redis (disconnected)";
  }

  async close(): Promise<void> {
    this.closed = true;
    this.synced = false;
    if (this.state.listener === this) this.state.listener = undefined;
    await Promise.all([this.cmd, this.sub].map((client) => (client === undefined ? undefined : end(client))));
  }

  onKeyDisabled(key: string, until: number): void {
    this.send([{ kind: "key", key, until }]);
  }

  onCooldown(slot: string, until: number): void {
    this.send([{ kind: "cooldown", slot, until }]);
  }

  onBreaker(slot: string, state: "open" | "closed", reopensAt: number): void {
    this.send([{ kind: "breaker", slot, state, reopensAt }]);
  }

  onBind(session: string, slot: string, until: number): void {
    if (session.length <= MAX_SHARED_SESSION) this.send([{ kind: "bind", session, slot, until }]);
  }

  onRelease(session: string): void {
    if (session.length <= MAX_SHARED_SESSION) this.send([{ kind: "release", session }]);
  }

  /** Store and publish events; dropped while disconnected (the next resync pushes them). */
  private send(events: StateEvent[]): void {
    const cmd = this.cmd;
    if (cmd === undefined || cmd.status !== "ready" || events.length === 0) return;
    this.exec(this.write(cmd.pipeline(), events)).catch((err: unknown) => this.unavailable(err));
  }

  private write(pipeline: ChainableCommander, events: StateEvent[]): ChainableCommander {
    const now = this.state.now();
    for (const event of events) {
      const key = storageKey(this.options.prefix, event);
      const until = holdsUntil(event);
      if (until > now) pipeline.set(key, JSON.stringify(event), "PX", Math.ceil(until - now));
      else pipeline.del(key);
    }
    return pipeline.publish(this.channel, JSON.stringify({ from: this.instanceId, events }));
  }

  /** Run a pipeline; a failed command inside it fails the whole (ioredis resolves those). */
  private async exec(pipeline: ChainableCommander): Promise<void> {
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed !== undefined) throw failed[0];
  }

  private receive(text: string): void {
    const parsed = parseMessage(text);
    if (parsed === undefined || parsed.skipped > 0) this.malformed();
    if (parsed === undefined || parsed.message.from === this.instanceId) return;
    for (const event of parsed.message.events) applyEvent(this.state, event);
  }

  private subscribe(): void {
    this.sub
      ?.subscribe(this.channel)
      .then(() => {
        this.subscribed = true;
        this.resync();
      })
      .catch((err: unknown) => this.unavailable(err));
  }

  /** Once both connections are up: load what Redis holds, then push what we hold. */
  private resync(): void {
    if (this.closed || this.cmd?.status !== "ready" || !this.subscribed) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    this.sync()
      .then(() => {
        this.synced = true;
        if (!this.connected()) return; // lost again meanwhile: the next `ready` resyncs
        if (this.warned) this.log.info("Redis is back: resilience state shared again");
        this.warned = false;
        this.firstSync();
      })
      .catch((err: unknown) => this.unavailable(err))
      .finally(() => {
        this.syncing = false;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.resync();
        }
      });
  }

  private async sync(): Promise<void> {
    const cmd = this.cmd;
    if (cmd === undefined) return;
    const pattern = `${this.options.prefix}:state:*`;
    let cursor = "0";
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const [next, keys] = await cmd.scan(cursor, "MATCH", pattern, "COUNT", SCAN_COUNT);
      if (keys.length > 0) {
        for (const value of await cmd.mget(...keys)) {
          if (value === null) continue; // expired between SCAN and MGET
          const event = parseEvent(value);
          if (event === undefined) this.malformed();
          else applyEvent(this.state, event);
        }
      }
      cursor = next;
      if (cursor === "0") break;
    }
    const events = localEvents(this.state);
    for (let i = 0; i < events.length; i += BATCH)
      await this.exec(this.write(cmd.pipeline(), events.slice(i, i + BATCH)));
  }

  private connected(): boolean {
    return this.synced && this.subscribed && this.cmd?.status === "ready";
  }

  /** Log the first failure only; the next successful resync says when it is over. */
  private unavailable(err: unknown): void {
    if (this.closed || this.warned) return;
    this.warned = true;
    this.log.warn(
      { err },
      "Redis unavailable: serving from this instance's resilience state until it is back",
    );
  }

  private malformed(): void {
    if (this.malformedWarned) return;
    this.malformedWarned = true;
    this.log.warn(
      { err: new Error(`unreadable shared state under "${this.options.prefix}:"`) },
      "ignored resilience state from another instance that this version cannot read (mixed versions, or another program using the prefix?)",
    );
  }
}

/** Close a connection: QUIT when connected (bounded), else stop reconnecting at once. */
async function end(client: Redis): Promise<void> {
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    // A failed QUIT needs nothing more: the connection is dropped just below either way.
    client.quit().then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1_000);
    }),
  ]);
  clearTimeout(timer);
  client.disconnect();
}
