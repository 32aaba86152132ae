/**
 * A shutdown ends every in-flight request, streams with an `event: error`; that is the gateway's
 * own doing, not the upstream's, so no breaker may count it (in a team, breaker changes are
 * shared through Redis: restarting one instance must not open an upstream everywhere).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startFakeGemini, textChunks } from "../fakes/gemini.js";
import {
  ask,
  geminiProvider,
  getStatus,
  K1,
  onCleanup,
  openStream,
  runCleanups,
  startFaultGateway,
  waitFor,
} from "./helpers.js";

afterEach(runCleanups);

describe("shutdown", () => {
  it("aborted streams, before and after their commit point, count as no upstream failure", async () => {
    let calls = 0;
    const fake = await startFakeGemini({
      hangMaxMs: 10_000,
      // Three streams that started answering, then two that never answer at all.
      handler: () =>
        ++calls <= 3
          ? { chunks: textChunks("streaming for a while", { parts: 3 }), stallAfterChunks: 1 }
          : { hang: true },
    });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      pingIntervalMs: 100,
      resilience: { breaker: { consecutiveFailures: 2 }, concurrency: { perProvider: 10 } },
    });
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => openStream(gateway, { ...ask(), stream: true })),
    );
    expect(streams.every((s) => s.status === 200)).toBe(true);
    await waitFor(
      async () => (await getStatus(gateway)).status.providers[0]?.inFlight === 5,
      3_000,
      "five in flight",
    );

    gateway.abortInFlight();

    await waitFor(
      async () => (await getStatus(gateway)).status.providers[0]?.inFlight === 0,
      3_000,
      "all ended",
    );
    const slots = (await getStatus(gateway)).status.targets;
    expect(slots.map((s) => [s.slot, s.breaker, s.failures])).toEqual([
      ["gem/gemini-2.5-pro#1", "closed", 0],
    ]);
  });
});
