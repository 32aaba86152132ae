/**
 * Load shedding (issue 4): with every target at its concurrency limit a request gets a quick
 * 529 overloaded_error instead of queueing without bound; a short bounded queue lets a request
 * wait for a slot that frees in time.
 */
import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeGemini, textChunks } from "../fakes/gemini.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";
import {
  ask,
  geminiHits,
  geminiProvider,
  getStatus,
  onCleanup,
  openStream,
  runCleanups,
  startFaultGateway,
  streamOutcome,
  waitFor,
} from "./helpers.js";

afterEach(runCleanups);

const K1 = "shed-key-00000001";
const K2 = "shed-key-00000002";

/** A fake whose first answer streams one chunk then stalls (holds its slot), the rest answer normally. */
async function stallingFake() {
  let holds = 1;
  const fake = await startFakeGemini({
    hangMaxMs: 10_000,
    handler: () =>
      holds-- > 0
        ? { chunks: textChunks("held open for a while", { parts: 3 }), stallAfterChunks: 1 }
        : undefined,
  });
  onCleanup(() => fake.close());
  return fake;
}

describe("load shedding", () => {
  it("answers 529 overloaded_error at once when every target is at capacity (queue size 0)", async () => {
    const fake = await stallingFake();
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { concurrency: { perProvider: 1, queueSize: 0 } },
    });
    const held = await openStream(gateway, { ...ask(), stream: true });
    expect(held.status).toBe(200);
    expect((await getStatus(gateway)).status.providers[0]?.inFlight).toBe(1);

    const started = Date.now();
    const shed = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeLessThan(300);
    expect(shed.status).toBe(529);
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(streamOutcome(shed.status, shed.text)).toMatchObject({ kind: "error", type: "overloaded_error" });

    const err = await sdkClient(gateway)
      .messages.create(ask())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.OverloadedError);
    expect((err as APIError).status).toBe(529);
    // Neither shed request reached the upstream (the other key is free, but the provider is full).
    expect(geminiHits(fake)).toBe(1);

    // Releasing the held stream frees the slot.
    held.abort();
    await waitFor(
      async () => (await getStatus(gateway)).status.providers[0]?.inFlight === 0,
      2_000,
      "slot freed",
    );
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(msg.content).toEqual([{ type: "text", text: "Hello from fake Gemini." }]);
  });

  it("a small queue with a short timeout sheds after the timeout, not later", async () => {
    const fake = await stallingFake();
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { concurrency: { perProvider: 1, queueSize: 4, queueTimeoutMs: 250 } },
    });
    const held = await openStream(gateway, { ...ask(), stream: true });
    expect(held.status).toBe(200);
    const started = Date.now();
    const shed = await postRaw(gateway, ask());
    const elapsed = Date.now() - started;
    expect(shed.status).toBe(529);
    expect(JSON.parse(shed.text).error.type).toBe("overloaded_error");
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(1_000);
    expect(geminiHits(fake)).toBe(1);
  });

  it("a queued request is served when a slot frees within the queue timeout", async () => {
    const fake = await startFakeGemini({
      handler: () => ({ chunks: textChunks("slow but whole", { parts: 3 }), chunkDelayMs: 150 }),
    });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { concurrency: { perProvider: 1, queueSize: 4, queueTimeoutMs: 3_000 } },
    });
    const results = await Promise.all(
      [0, 1, 2].map(() =>
        postRaw(gateway, { ...ask(), stream: true }).then((r) => streamOutcome(r.status, r.text)),
      ),
    );
    for (const r of results) expect(r).toMatchObject({ kind: "message", text: "slow but whole" });
    expect(geminiHits(fake)).toBe(3);
  });
});
