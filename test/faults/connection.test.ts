/**
 * Connection-level faults (issue 4): TCP reset, an upstream that never answers (first-byte
 * deadline → failover, never a hang), and a slow first token inside the budget (pings, success).
 */
import { afterEach, describe, expect, it } from "vitest";
import { textChunks } from "../fakes/gemini.js";
import { reset, textStream } from "../fakes/openai.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";
import {
  ask,
  gemini,
  geminiHits,
  geminiProvider,
  K1,
  K2,
  openai,
  openaiHits,
  openaiProvider,
  runCleanups,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

describe("TCP reset", () => {
  it("a reset once is retried on the same key and succeeds", async () => {
    let resets = 1;
    const fake = await gemini({ handler: () => (resets-- > 0 ? { reset: true } : undefined) });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { retryBaseMs: 10 },
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({
      kind: "message",
      text: "Hello from fake Gemini.",
    });
    expect(geminiHits(fake, K1)).toBe(2);
  });

  it("a key whose connection always resets fails over: retry once, then the next key, then the next provider", async () => {
    const fake = await gemini({ handler: () => ({ reset: true }) });
    const oai = await openai();
    oai.enqueue(reset(), textStream("the backup answered"));
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2]), openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: { retryBaseMs: 10, transientRetries: 1 },
    });
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(msg.content).toEqual([{ type: "text", text: "the backup answered" }]);
    expect(geminiHits(fake, K1)).toBe(2);
    expect(geminiHits(fake, K2)).toBe(2);
    expect(openaiHits(oai)).toBe(2);
  });

  it("resets everywhere end in a clean 5xx error, not a hang", async () => {
    const fake = await gemini({ handler: () => ({ reset: true }) });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { retryBaseMs: 10, transientRetries: 1 },
    });
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(streamOutcome(res.status, res.text)).toMatchObject({ kind: "error" });
    expect(geminiHits(fake)).toBe(4);
  });
});

describe("no answer at all", () => {
  it("the first-byte deadline fails over (stream: pings meanwhile, then the backup's answer)", async () => {
    const fake = await gemini({ handler: () => ({ hang: true }) });
    const oai = await openai({ defaultScript: () => textStream("the backup answered") });
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("gem", fake, [K1], { firstByteMs: 300 }),
        openaiProvider("oai", oai, ["sk-oai-key-0003"]),
      ],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      pingIntervalMs: 100,
      resilience: { retryBaseMs: 10, transientRetries: 1 },
    });
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    const elapsed = Date.now() - started;
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({ kind: "message", text: "the backup answered" });
    // One 300 ms deadline, then the backup: a hung upstream is not waited for twice (no
    // same-key retry); pings kept the client informed. undici checks header/body deadlines on
    // a ~0.5–1 s "fast timer", hence the loose upper bound.
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(3_000);
    expect(outcome.kind === "message" && outcome.pings).toBeGreaterThanOrEqual(2);
    expect(geminiHits(fake)).toBe(1);
    expect(openaiHits(oai)).toBe(1);
    // The gateway gave up on the hanging requests (the fake saw its client go away).
    await fake.waitForClientClose(1_000);
  });

  it("non-stream: the SDK gets the backup's message within the deadlines", async () => {
    const fake = await gemini({ handler: () => ({ hang: true }) });
    const oai = await openai({ defaultScript: () => textStream("the backup answered") });
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("gem", fake, [K1], { firstByteMs: 250 }),
        openaiProvider("oai", oai, ["sk-oai-key-0003"]),
      ],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: { transientRetries: 0 },
    });
    const started = Date.now();
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(msg.content).toEqual([{ type: "text", text: "the backup answered" }]);
    expect(geminiHits(fake)).toBe(1);
  });

  it("when every upstream is silent the stream ends with event: error, within the deadlines", async () => {
    const fake = await gemini({ handler: () => ({ hang: true }) });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2], { firstByteMs: 200 })],
      targets: ["gem/gemini-2.5-pro"],
      pingIntervalMs: 100,
      resilience: { retryBaseMs: 10, transientRetries: 0 },
    });
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeLessThan(3_500);
    // Pings committed the 200 while the gateway waited, so the failure is an SSE error event.
    expect(res.status).toBe(200);
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({ kind: "error", type: "overloaded_error" });
    // A hung endpoint hangs for every key: the other key is not waited for too.
    expect(geminiHits(fake, K1)).toBe(1);
    expect(geminiHits(fake, K2)).toBe(0);
  });

  it("headers then silence before any content: the idle deadline fails over, not retried", async () => {
    const fake = await gemini({
      handler: () => ({ chunks: textChunks("never seen", { parts: 2 }), stallAfterChunks: 0 }),
    });
    const oai = await openai({ defaultScript: () => textStream("the backup answered") });
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("gem", fake, [K1, K2], { idleMs: 300 }),
        openaiProvider("oai", oai, ["sk-oai-key-0003"]),
      ],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: { retryBaseMs: 10, transientRetries: 1 },
    });
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(msg.content).toEqual([{ type: "text", text: "the backup answered" }]);
    expect(geminiHits(fake)).toBe(1);
  });

  it("an attempt still waiting when the attempt budget runs out is stopped then, not at its own deadline", async () => {
    // A first-byte deadline (20 s) far above the budget (600 ms), as with a slow local model.
    const fake = await gemini({ handler: () => ({ hang: true }) });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1], { firstByteMs: 20_000 })],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { attemptBudgetMs: 600 },
    });
    const started = Date.now();
    const err = await sdkClient(gateway)
      .messages.create(ask())
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err).toMatchObject({ status: 504, type: "timeout_error" });
    expect((err as { message: string }).message).toMatch(/attemptBudgetMs/);
    await fake.waitForClientClose(1_000);
    expect(geminiHits(fake)).toBe(1);
  });
});

describe("slow first token within budget", () => {
  it("keeps the client alive with pings and delivers the answer from the same upstream", async () => {
    const fake = await gemini({
      handler: () => ({
        chunks: textChunks("thought about it for a while", { parts: 3 }),
        firstByteDelayMs: 1_200,
      }),
    });
    const oai = await openai();
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("gem", fake, [K1], { firstByteMs: 5_000 }),
        openaiProvider("oai", oai, ["sk-oai-key-0003"]),
      ],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      pingIntervalMs: 200,
    });
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_150);
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({
      kind: "message",
      text: "thought about it for a while",
      stopReason: "end_turn",
    });
    expect(outcome.kind === "message" && outcome.pings).toBeGreaterThanOrEqual(4);
    // Pings come first; no content is invented while waiting.
    expect(res.events[0]?.event).toBe("ping");
    expect(geminiHits(fake)).toBe(1);
    expect(openaiHits(oai)).toBe(0);
  });
});
