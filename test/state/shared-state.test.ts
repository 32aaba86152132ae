/**
 * Resilience state shared through a real Redis (a private redis-server, see ./redis-server.ts):
 * gateway instances in front of the same fake Gemini agree on resting keys, cooling slots, open
 * breakers and session bindings; an instance started later loads them; a Redis outage never
 * fails a request, and the instances resync when it is back. Upstream hit counts prove which
 * key or target each instance really used.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema.js";
import type { RunningGateway } from "../../src/server.js";
import {
  type FakeGemini,
  type FakeGeminiOptions,
  googleError,
  type ScriptedResponse,
  startFakeGemini,
  unavailable,
} from "../fakes/gemini.js";
import {
  ask,
  geminiProvider,
  getStatus,
  onCleanup,
  type ResilienceInput,
  runCleanups,
  streamOutcome,
  waitFor,
} from "../faults/helpers.js";
import { postRaw, startTestGateway } from "../helpers/gateway.js";
import { SKIP_REDIS, startTestRedis, type TestRedis } from "./redis-server.js";

const KEY1 = "shared-key-one-00000001";
const KEY2 = "shared-key-two-00000002";
const PRO = "gem/gemini-2.5-pro";
const SLOT1 = `${PRO}#1`;
const SLOT2 = `${PRO}#2`;
/** Bound on every wait for another instance to learn something (pub/sub is milliseconds). */
const PROPAGATION_MS = 5_000;

let redis: TestRedis | undefined;
let prefixes = 0;

beforeAll(async () => {
  if (!SKIP_REDIS) redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(runCleanups);

function testRedis(): TestRedis {
  if (redis === undefined) throw new Error("the test redis did not start");
  return redis;
}

/** 429 RESOURCE_EXHAUSTED with a Retry-After header (no RetryInfo detail). */
function rateLimitedWithRetryAfter(seconds: number): ScriptedResponse {
  return {
    ...googleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    headers: { "retry-after": String(seconds) },
  };
}

async function fakeGemini(options: FakeGeminiOptions): Promise<FakeGemini> {
  const fake = await startFakeGemini(options);
  onCleanup(() => fake.close());
  return fake;
}

interface InstanceOptions {
  /** Redis key prefix; instances sharing work use the same one. Undefined: memory only. */
  prefix: string | undefined;
  targets?: string[];
  resilience?: ResilienceInput;
}

/** One gateway instance with keys KEY1, KEY2 of the fake, sharing state under `prefix`. */
async function instance(fake: FakeGemini, options: InstanceOptions): Promise<RunningGateway> {
  const gateway = await startTestGateway({
    configure: (config: Config) => {
      config.providers = [geminiProvider("gem", fake, [KEY1, KEY2])];
      config.routes = [{ name: "shared", match: ["*"], targets: options.targets ?? [PRO] }];
      const resilience = options.resilience ?? {};
      Object.assign(config, {
        resilience: { transientRetries: 0, ...resilience, probe: { enabled: false } },
      });
      if (options.prefix !== undefined)
        config.state = { redis: { url: testRedis().url, prefix: options.prefix } };
    },
  });
  onCleanup(() => gateway.close());
  return gateway;
}

function newPrefix(): string {
  return `ccgate-test-${process.pid}-${++prefixes}`;
}

/** Generation requests per key / per model (probes and model lookups excluded). */
function hits(fake: FakeGemini, filter: { key?: string; model?: string }): number {
  return fake.requests.filter(
    (r) =>
      (r.action === "streamGenerateContent" || r.action === "generateContent") &&
      (filter.key === undefined || r.apiKey === filter.key) &&
      (filter.model === undefined || r.model === filter.model),
  ).length;
}

/** One request; it must be answered in full. Returns the key that served it. */
async function turn(
  gateway: RunningGateway,
  fake: FakeGemini,
  options: { session?: string; stream?: boolean } = {},
): Promise<string> {
  const before = fake.requests.length;
  const headers: Record<string, string> =
    options.session === undefined ? {} : { "x-claude-code-session-id": options.session };
  const res = await postRaw(gateway, { ...ask(), stream: options.stream ?? true }, headers);
  expect(res.status, res.text).toBe(200);
  if (options.stream ?? true) expect(streamOutcome(res.status, res.text).kind).toBe("message");
  const served = fake.requests.slice(before).filter((r) => r.status === 200);
  expect(served).toHaveLength(1);
  return served[0]!.apiKey!;
}

function cooling(gateway: RunningGateway, slot: string): boolean {
  return (gateway.gateway.state.slots.get(slot)?.cooldownUntil ?? 0) > Date.now();
}

describe.skipIf(SKIP_REDIS)("resilience state shared through Redis", () => {
  it("a 429 with Retry-After on instance A makes instance B skip that key", async () => {
    const fake = await fakeGemini({
      handler: (req) => (req.apiKey === KEY1 ? rateLimitedWithRetryAfter(30) : undefined),
    });
    const prefix = newPrefix();
    const a = await instance(fake, { prefix });
    const b = await instance(fake, { prefix });

    // A's first request tries key 1 first (rotation starts there): 429, then key 2 serves.
    expect(await turn(a, fake)).toBe(KEY2);
    expect(hits(fake, { key: KEY1 })).toBe(1);
    expect(cooling(a, SLOT1)).toBe(true);
    await waitFor(() => cooling(b, SLOT1), PROPAGATION_MS, "B to learn A's cooldown");
    const until = b.gateway.state.slots.get(SLOT1)!.cooldownUntil;
    expect(until).toBe(a.gateway.state.slots.get(SLOT1)!.cooldownUntil);
    expect(until - Date.now()).toBeGreaterThan(25_000);

    for (let i = 0; i < 4; i++) expect(await turn(b, fake, { stream: i % 2 === 0 })).toBe(KEY2);
    expect(hits(fake, { key: KEY1 })).toBe(1);
    const { status } = await getStatus(b);
    expect(status.state).toBe("redis (connected)");
    expect(status.targets.find((t) => t.slot === SLOT1)?.state).toBe("cooling");

    // Control: an instance that shares nothing tries key 1 first and meets the 429 itself.
    const alone = await instance(fake, { prefix: undefined });
    expect(await turn(alone, fake)).toBe(KEY2);
    expect(hits(fake, { key: KEY1 })).toBe(2);
    expect((await getStatus(alone)).status.state).toBe("memory");
  });

  it("a key rejected on A (invalid key) rests on B too", async () => {
    const fake = await fakeGemini({ validKeys: [KEY2] });
    const prefix = newPrefix();
    const a = await instance(fake, { prefix });
    const b = await instance(fake, { prefix });

    expect(await turn(a, fake)).toBe(KEY2);
    expect(fake.hits(KEY1)).toBe(1);
    await waitFor(
      () => b.gateway.state.keyDisabledFor("gem#1") > 0,
      PROPAGATION_MS,
      "B to learn that key 1 is disabled",
    );
    for (let i = 0; i < 3; i++) expect(await turn(b, fake)).toBe(KEY2);
    expect(fake.hits(KEY1)).toBe(1);
    const key1 = (await getStatus(b)).status.providers[0]?.keys.find((k) => k.id === "gem#1");
    expect(key1?.state).toBe("disabled");
    // The secret never reaches Redis or the wire events: only the key id.
    expect(JSON.stringify((await getStatus(b)).status)).not.toContain(KEY1);
  });

  it("a breaker opened on A makes B skip the target; closing it on A reopens it on B", async () => {
    let proBroken = true;
    const fake = await fakeGemini({
      handler: (req) => (proBroken && req.model === "gemini-2.5-pro" ? unavailable() : undefined),
    });
    const prefix = newPrefix();
    const options: InstanceOptions = {
      prefix,
      targets: [PRO, "gem/gemini-2.5-flash"],
      resilience: { breaker: { consecutiveFailures: 1, openMs: 60_000 } },
    };
    const a = await instance(fake, options);
    const b = await instance(fake, options);
    const open = (g: RunningGateway, slot: string) =>
      g.gateway.state.slots.get(slot)?.breaker.state === "open";

    // A fails over to flash every time, until both pro slots (one per key) are open.
    for (let i = 0; i < 4 && !(open(a, SLOT1) && open(a, SLOT2)); i++) await turn(a, fake);
    expect(open(a, SLOT1) && open(a, SLOT2)).toBe(true);
    await waitFor(() => open(b, SLOT1) && open(b, SLOT2), PROPAGATION_MS, "B to learn A's open breakers");
    const proHits = hits(fake, { model: "gemini-2.5-pro" });
    const flashHits = hits(fake, { model: "gemini-2.5-flash" });
    for (let i = 0; i < 3; i++) await turn(b, fake);
    expect(hits(fake, { model: "gemini-2.5-pro" })).toBe(proHits);
    expect(hits(fake, { model: "gemini-2.5-flash" })).toBe(flashHits + 3);
    const target = (await getStatus(b)).status.targets.find((t) => t.slot === SLOT1);
    expect(target?.breaker).toBe("open");

    // Pro recovers; A's recovery probe half-opens its breakers (it never closes them), A's next
    // requests are the trials that close them, and B follows.
    proBroken = false;
    await a.gateway.prober.recover();
    const state = (g: RunningGateway, slot: string) => g.gateway.state.slots.get(slot)?.breaker.state;
    expect([state(a, SLOT1), state(a, SLOT2)]).toEqual(["half_open", "half_open"]);
    const closed = (g: RunningGateway, slot: string) => state(g, slot) === "closed";
    let trials = 0;
    for (; trials < 4 && !(closed(a, SLOT1) && closed(a, SLOT2)); trials++) await turn(a, fake);
    expect(closed(a, SLOT1) && closed(a, SLOT2)).toBe(true);
    await waitFor(
      () => closed(b, SLOT1) && closed(b, SLOT2),
      PROPAGATION_MS,
      "B to learn A's closed breakers",
    );
    await turn(b, fake);
    expect(hits(fake, { model: "gemini-2.5-pro" })).toBe(proHits + trials + 1);
  });

  it("a session bound on A lands on the same key on B, and follows when it moves", async () => {
    const broken = new Set<string>();
    const fake = await fakeGemini({
      handler: (req) => (req.apiKey !== undefined && broken.has(req.apiKey) ? unavailable() : undefined),
    });
    const prefix = newPrefix();
    const a = await instance(fake, { prefix });
    const b = await instance(fake, { prefix });

    // A sessionless request moves A's rotation on, so the session lands on key 2 —
    // where B, whose rotation starts at key 1, would not put it by itself.
    expect(await turn(a, fake)).toBe(KEY1);
    expect(await turn(a, fake, { session: "team-session-1" })).toBe(KEY2);
    await waitFor(() => b.gateway.state.affinity.load(SLOT2) === 1, PROPAGATION_MS, "B to learn A's binding");
    for (let i = 0; i < 3; i++) expect(await turn(b, fake, { session: "team-session-1" })).toBe(KEY2);
    // A new session on B goes to the key with fewer sessions (bindings count across instances).
    expect(await turn(b, fake, { session: "team-session-2" })).toBe(KEY1);
    await waitFor(() => a.gateway.state.affinity.load(SLOT1) === 1, PROPAGATION_MS, "A to learn B's binding");
    expect(await turn(a, fake, { session: "team-session-2" })).toBe(KEY1);

    // Key 2 fails on A: the session moves to key 1 there, and B follows the move.
    broken.add(KEY2);
    expect(await turn(a, fake, { session: "team-session-1" })).toBe(KEY1);
    broken.delete(KEY2);
    await waitFor(
      () => b.gateway.state.affinity.load(SLOT1) === 2,
      PROPAGATION_MS,
      "B to learn that session 1 moved",
    );
    expect(await turn(b, fake, { session: "team-session-1" })).toBe(KEY1);
  });

  it("an instance started later loads the current cooldowns and bindings from Redis", async () => {
    const fake = await fakeGemini({
      handler: (req) => (req.apiKey === KEY1 ? rateLimitedWithRetryAfter(30) : undefined),
    });
    const prefix = newPrefix();
    const a = await instance(fake, { prefix });
    expect(await turn(a, fake, { session: "early-session" })).toBe(KEY2);
    expect(hits(fake, { key: KEY1 })).toBe(1);

    // Start-up waits for the load: the state is there before the first request.
    const c = await instance(fake, { prefix });
    expect(cooling(c, SLOT1)).toBe(true);
    expect(c.gateway.state.affinity.load(SLOT2)).toBe(1);
    for (let i = 0; i < 3; i++) expect(await turn(c, fake)).toBe(KEY2);
    expect(await turn(c, fake, { session: "early-session" })).toBe(KEY2);
    expect(hits(fake, { key: KEY1 })).toBe(1);
  });

  it("an instance started while Redis is down serves at once and joins when it comes up", async () => {
    const fake = await fakeGemini({});
    const prefix = newPrefix();
    const server = testRedis();
    await server.stop();
    let late: RunningGateway;
    try {
      const started = Date.now();
      late = await instance(fake, { prefix });
      // Start-up waits at most its bound (2 s) for Redis, then serves from local state.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(late.gateway.shared.mode()).toBe("redis (disconnected)");
      await turn(late, fake);
    } finally {
      await server.start();
    }
    await waitFor(
      () => late.gateway.shared.mode() === "redis (connected)",
      15_000,
      "the late instance to connect",
    );
    const a = await instance(fake, { prefix });
    a.gateway.state.startCooldown(SLOT1, Date.now() + 30_000);
    await waitFor(() => cooling(late, SLOT1), PROPAGATION_MS, "the late instance to learn a cooldown");
  });

  it("keeps serving while Redis is down, and resyncs when it is back", async () => {
    const limited = new Set<string>();
    const fake = await fakeGemini({
      handler: (req) =>
        req.apiKey !== undefined && limited.has(req.apiKey) ? rateLimitedWithRetryAfter(60) : undefined,
    });
    const prefix = newPrefix();
    const a = await instance(fake, { prefix });
    const b = await instance(fake, { prefix });
    const mode = (g: RunningGateway) => g.gateway.shared.mode();
    expect([mode(a), mode(b)]).toEqual(["redis (connected)", "redis (connected)"]);

    const server = testRedis();
    await server.stop();
    try {
      await waitFor(
        () => mode(a) === "redis (disconnected)" && mode(b) === "redis (disconnected)",
        PROPAGATION_MS,
        "both instances to notice the outage",
      );
      // Both keep serving, streaming or not, with no error to the client.
      for (let i = 0; i < 2; i++) {
        await turn(a, fake, { stream: i === 0 });
        await turn(b, fake, { stream: i === 0, session: "outage-session" });
      }
      expect((await getStatus(a)).status.state).toBe("redis (disconnected)");
      // Key 1 starts rate limiting; A learns it while Redis is away (B cannot yet).
      limited.add(KEY1);
      for (let i = 0; i < 2 && !cooling(a, SLOT1); i++) expect(await turn(a, fake)).toBe(KEY2);
      expect(cooling(a, SLOT1)).toBe(true);
      expect(cooling(b, SLOT1)).toBe(false);
    } finally {
      await server.start();
    }
    // Back (empty: the test Redis keeps nothing): both reconnect, and A's resync pushes what it
    // learnt meanwhile.
    await waitFor(
      () => mode(a) === "redis (connected)" && mode(b) === "redis (connected)",
      15_000,
      "both instances to reconnect",
    );
    await waitFor(() => cooling(b, SLOT1), PROPAGATION_MS, "B to learn A's cooldown after the resync");
    const key1Hits = hits(fake, { key: KEY1 });
    for (let i = 0; i < 3; i++) expect(await turn(b, fake)).toBe(KEY2);
    expect(hits(fake, { key: KEY1 })).toBe(key1Hits);
    // And new transitions flow again.
    limited.clear();
    a.gateway.state.startCooldown(SLOT2, Date.now() + 30_000);
    await waitFor(() => cooling(b, SLOT2), PROPAGATION_MS, "B to learn a cooldown after the outage");
  });
});
