/**
 * Session affinity end to end (issue 4): the same `x-claude-code-session-id` keeps landing on the
 * same key across turns (despite per-request key rotation), new sessions spread over the keys,
 * a failure releases the binding at once, and the session sticks again to the slot that served it.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import { startFakeGemini, unavailable } from "../fakes/gemini.js";
import { postRaw } from "../helpers/gateway.js";
import {
  ask,
  geminiProvider,
  getStatus,
  onCleanup,
  runCleanups,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

const KEYS = ["aff-key-one-00000001", "aff-key-two-00000002", "aff-key-three-0000003"];

async function setup(broken: Set<string>) {
  const fake = await startFakeGemini({
    handler: (req) => (req.apiKey !== undefined && broken.has(req.apiKey) ? unavailable() : undefined),
  });
  onCleanup(() => fake.close());
  const gateway = await startFaultGateway({
    providers: [geminiProvider("gem", fake, KEYS)],
    targets: ["gem/gemini-2.5-pro"],
    resilience: { transientRetries: 0 },
  });
  /** One turn of `session`; returns the key that served it (and checks the answer is whole). */
  const turn = async (session: string, stream = true): Promise<string> => {
    const before = fake.requests.length;
    const res = await postRaw(gateway, { ...ask(), stream }, { "x-claude-code-session-id": session });
    expect(res.status).toBe(200);
    if (stream) expect(streamOutcome(res.status, res.text).kind).toBe("message");
    const served = fake.requests.slice(before).filter((r) => r.status === 200);
    expect(served).toHaveLength(1);
    return served[0]!.apiKey!;
  };
  return { fake, gateway, turn };
}

async function sessionsPerSlot(gateway: RunningGateway): Promise<number[]> {
  const { status } = await getStatus(gateway);
  return status.targets.map((t) => t.sessions).sort();
}

describe("session affinity", () => {
  it("keeps a session on its key across turns and spreads new sessions over the keys", async () => {
    const { gateway, turn } = await setup(new Set());
    const a = await turn("session-a");
    for (let i = 0; i < 5; i++) expect(await turn("session-a", i % 2 === 0)).toBe(a);
    const b = await turn("session-b");
    const c = await turn("session-c");
    expect(new Set([a, b, c]).size).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(await turn("session-b")).toBe(b);
      expect(await turn("session-c")).toBe(c);
      expect(await turn("session-a")).toBe(a);
    }
    expect(await sessionsPerSlot(gateway)).toEqual([1, 1, 1]);
    const { status } = await getStatus(gateway);
    expect(status.affinity.sessions).toBe(3);
  });

  it("a failure releases the binding at once; the session then sticks to the key that served it", async () => {
    const broken = new Set<string>();
    const { fake, gateway, turn } = await setup(broken);
    const a = await turn("session-a");
    const b = await turn("session-b");
    expect(b).not.toBe(a);

    // Session a's key starts failing: its turn fails over within the request (no error seen).
    broken.add(a);
    const hitsOnA = fake.hits(a);
    const moved = await turn("session-a");
    expect(moved).not.toBe(a);
    expect(fake.hits(a)).toBe(hitsOnA + 1);
    // The failed key is not tried first any more: the new binding goes first.
    for (let i = 0; i < 3; i++) expect(await turn("session-a")).toBe(moved);
    expect(fake.hits(a)).toBe(hitsOnA + 1);

    // The old key recovers: the moved session stays where its cache now is; a new session
    // goes to the recovered key, which has no bindings left.
    broken.delete(a);
    expect(await turn("session-a")).toBe(moved);
    expect(await turn("session-b")).toBe(b);
    const third = await turn("session-c");
    expect(third).toBe(a);
    expect(await sessionsPerSlot(gateway)).toEqual([1, 1, 1]);
  });

  it("the session in metadata.user_id (Claude Code's JSON form) binds too", async () => {
    const { fake, gateway } = await setup(new Set());
    const metadata = {
      user_id: JSON.stringify({ device_id: "d", account_uuid: "", session_id: "json-session-1" }),
    };
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await postRaw(gateway, ask("hi", { metadata, stream: true }));
      expect(streamOutcome(res.status, res.text).kind).toBe("message");
      keys.push(fake.requests.at(-1)!.apiKey!);
    }
    expect(new Set(keys).size).toBe(1);
  });

  // The non-stream route stops reading at message_stop; success must be recorded by then
  // (attempt.ts `saw`), or a session served only by non-stream turns would never bind.
  it("a non-streaming turn binds the session as well", async () => {
    const { fake, gateway } = await setup(new Set());
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await postRaw(gateway, ask(), { "x-claude-code-session-id": "plain-session" });
      expect(res.status).toBe(200);
      keys.push(fake.requests.at(-1)!.apiKey!);
    }
    const { status } = await getStatus(gateway);
    expect(status.affinity.sessions).toBe(1);
    expect(new Set(keys).size).toBe(1);
  });
});
