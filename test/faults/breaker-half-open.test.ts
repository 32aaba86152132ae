/**
 * The client's view of a half-open breaker (protocol.md E.6): while the one trial request is in
 * flight, another request to that only target is refused, and the 503 must say when to come
 * back — Claude Code honours an integer-second `retry-after`, so a missing one leaves it to blind
 * backoff and a huge one makes it give up.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HALF_OPEN_RETRY_MS } from "../../src/resilience/guard.js";
import { type ScriptedResponse, startFakeGemini, textChunks, unavailable } from "../fakes/gemini.js";
import { postRaw } from "../helpers/gateway.js";
import {
  ask,
  geminiHits,
  geminiProvider,
  getStatus,
  onCleanup,
  openStream,
  runCleanups,
  sleep,
  startFaultGateway,
  waitFor,
} from "./helpers.js";

afterEach(runCleanups);

describe("refused while the half-open trial is in flight", () => {
  it("the 503 carries a short positive retry-after", async () => {
    let mode: "fail" | "hang" = "fail";
    const fake = await startFakeGemini({
      hangMaxMs: 3_000,
      handler: (): ScriptedResponse => (mode === "fail" ? unavailable() : { hang: true }),
    });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("solo", fake, ["solo-key-00000001"], { firstByteMs: 1_000 })],
      targets: ["solo/gemini-2.5-pro"],
      resilience: { transientRetries: 0, breaker: { consecutiveFailures: 1, openMs: 200 } },
    });
    const breaker = async () =>
      (await getStatus(gateway)).status.targets.find((t) => t.slot === "solo/gemini-2.5-pro#1")?.breaker;

    expect((await postRaw(gateway, ask())).status).toBe(529);
    expect(await breaker()).toBe("open");
    await sleep(250);
    expect(await breaker()).toBe("half_open");

    // The trial hangs upstream (until the first-byte deadline).
    mode = "hang";
    const trial = postRaw(gateway, { ...ask(), stream: true });
    onCleanup(() => trial.catch(() => undefined)); // settle it before the gateway closes
    await waitFor(() => geminiHits(fake) === 2, 2_000, "the trial to reach the upstream");

    const refused = await postRaw(gateway, { ...ask(), stream: true });
    expect(refused.status).toBe(503);
    expect(geminiHits(fake)).toBe(2);
    const seconds = Number(refused.headers.get("retry-after"));
    expect(Number.isInteger(seconds)).toBe(true);
    expect(seconds).toBe(Math.ceil(HALF_OPEN_RETRY_MS / 1000));
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(10);

    // The trial times out: the breaker re-opens with a real reopening time again.
    expect((await trial).status).toBeGreaterThanOrEqual(500);
    expect(await breaker()).toBe("open");
  });

  it("a trial that has started answering closes the breaker at once, while it still streams", async () => {
    let mode: "fail" | "stream-then-stall" | "ok" = "fail";
    const fake = await startFakeGemini({
      hangMaxMs: 3_000,
      handler: (): ScriptedResponse | undefined => {
        if (mode === "fail") return unavailable();
        if (mode === "stream-then-stall") {
          mode = "ok";
          return { chunks: textChunks("a long answer", { parts: 3 }), stallAfterChunks: 1 };
        }
        return undefined; // the default answer
      },
    });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("solo", fake, ["solo-key-00000001"])],
      targets: ["solo/gemini-2.5-pro"],
      resilience: { transientRetries: 0, breaker: { consecutiveFailures: 1, openMs: 200 } },
    });
    const breaker = async () =>
      (await getStatus(gateway)).status.targets.find((t) => t.slot === "solo/gemini-2.5-pro#1")?.breaker;
    expect((await postRaw(gateway, ask())).status).toBe(529);
    await sleep(250);
    expect(await breaker()).toBe("half_open");

    mode = "stream-then-stall";
    const trial = await openStream(gateway, { ...ask(), stream: true });
    expect(trial.firstBytes).toContain("message_start");
    await waitFor(async () => (await breaker()) === "closed", 2_000, "the breaker to close");
    // Served, not refused, while the trial is still open.
    const other = await postRaw(gateway, ask());
    expect(other.status).toBe(200);
    trial.abort();
  });
});
