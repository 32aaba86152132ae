/**
 * A flapping upstream end to end (issue 4): the breaker opens, lets exactly one half-open probe
 * through while other requests fail over at once, re-opens for twice as long when the probe
 * fails, and closes when a later probe succeeds. Small real open periods (300 ms) instead of
 * fake timers across HTTP; the exact clock arithmetic is in resilience-unit.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import { type ScriptedResponse, startFakeGemini, textChunks, unavailable } from "../fakes/gemini.js";
import { startFakeOpenAI, textStream } from "../fakes/openai.js";
import { postRaw } from "../helpers/gateway.js";
import {
  ask,
  geminiHits,
  geminiProvider,
  getStatus,
  onCleanup,
  openaiProvider,
  runCleanups,
  sleep,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

type Mode = "fail" | "hang" | "slow-ok" | "ok";

async function request(gateway: RunningGateway) {
  const started = Date.now();
  const res = await postRaw(gateway, { ...ask(), stream: true });
  const outcome = streamOutcome(res.status, res.text);
  expect(outcome.kind).toBe("message");
  return { target: res.headers.get("x-ccgate-target"), ms: Date.now() - started, at: Date.now() };
}

async function breakerOf(gateway: RunningGateway) {
  const { status } = await getStatus(gateway);
  return status.targets.find((t) => t.slot === "flap/gemini-2.5-pro#1")?.breaker;
}

describe("flapping upstream", () => {
  it("opens, probes once, re-opens for longer, then closes after a good probe", {
    timeout: 20_000,
  }, async () => {
    let mode: Mode = "fail";
    const fake = await startFakeGemini({
      hangMaxMs: 5_000,
      handler: (): ScriptedResponse | undefined => {
        if (mode === "fail") return unavailable();
        if (mode === "hang") return { hang: true };
        if (mode === "slow-ok") return { chunks: textChunks("flap is back"), firstByteDelayMs: 250 };
        return { chunks: textChunks("flap is back") };
      },
    });
    const oai = await startFakeOpenAI({ defaultScript: () => textStream("backup") });
    onCleanup(() => fake.close());
    onCleanup(() => oai.close());
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("flap", fake, ["flap-key-00000001"], { firstByteMs: 400 }),
        openaiProvider("oai", oai, ["sk-oai-key-0003"]),
      ],
      targets: ["flap/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: {
        transientRetries: 0,
        breaker: { consecutiveFailures: 2, openMs: 300, maxOpenMs: 5_000 },
      },
    });

    // Two consecutive failures open the breaker; the backup serves both requests.
    expect((await request(gateway)).target).toBe("oai/gpt-fake");
    const opened = await request(gateway);
    expect(opened.target).toBe("oai/gpt-fake");
    expect(geminiHits(fake)).toBe(2);
    expect(await breakerOf(gateway)).toBe("open");

    // While open: no attempt at all.
    for (let i = 0; i < 3; i++) expect((await request(gateway)).target).toBe("oai/gpt-fake");
    expect(geminiHits(fake)).toBe(2);

    // After 300 ms: half-open. Three concurrent requests: exactly one probes (and hangs until the
    // first-byte deadline), the other two go to the backup without waiting for it.
    await sleep(Math.max(0, opened.at + 350 - Date.now()));
    expect(await breakerOf(gateway)).toBe("half_open");
    mode = "hang";
    const trio = await Promise.all([request(gateway), request(gateway), request(gateway)]);
    expect(geminiHits(fake)).toBe(3);
    expect(trio.every((r) => r.target === "oai/gpt-fake")).toBe(true);
    const durations = trio.map((r) => r.ms).sort((a, b) => a - b);
    expect(durations[1]).toBeLessThan(300);
    expect(durations[2]).toBeGreaterThanOrEqual(380); // the probe waited for its deadline
    const probeFailedBy = Math.max(...trio.map((r) => r.at));
    expect(await breakerOf(gateway)).toBe("open");

    // The failed probe doubled the open period (600 ms): 400 ms later it is still open.
    await sleep(Math.max(0, probeFailedBy + 400 - Date.now()));
    expect((await request(gateway)).target).toBe("oai/gpt-fake");
    expect(geminiHits(fake)).toBe(3);

    // After 600 ms: the next probe succeeds (slowly); again only one request probes.
    await sleep(Math.max(0, probeFailedBy + 700 - Date.now()));
    mode = "slow-ok";
    const second = await Promise.all([request(gateway), request(gateway), request(gateway)]);
    expect(geminiHits(fake)).toBe(4);
    expect(second.filter((r) => r.target === "flap/gemini-2.5-pro")).toHaveLength(1);
    expect(await breakerOf(gateway)).toBe("closed");

    // Closed: traffic returns to the primary.
    mode = "ok";
    for (let i = 0; i < 3; i++) expect((await request(gateway)).target).toBe("flap/gemini-2.5-pro");
    expect(geminiHits(fake)).toBe(7);
  });

  // GATEWAY BUG (reported): a non-streaming success never reaches `guard.onSuccess` (the
  // accumulator stops at message_stop and return()s the attempt generator first), so a
  // non-stream half-open probe is released instead of closing the breaker. Flip to `it` once fixed.
  it("a non-streaming success closes a half-open breaker", async () => {
    let failing = true;
    const fake = await startFakeGemini({ handler: () => (failing ? unavailable() : undefined) });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("flap", fake, ["flap-key-00000001"])],
      targets: ["flap/gemini-2.5-pro"],
      resilience: { transientRetries: 0, breaker: { consecutiveFailures: 1, openMs: 200 } },
    });
    expect((await postRaw(gateway, ask())).status).toBe(529);
    expect(await breakerOf(gateway)).toBe("open");
    await sleep(250);
    failing = false;
    const res = await postRaw(gateway, ask());
    expect(res.status).toBe(200);
    expect(geminiHits(fake)).toBe(2);
    expect(await breakerOf(gateway)).toBe("closed");
  });
});
