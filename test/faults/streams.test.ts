/**
 * Broken streams (issue 4): cut after content, stall mid-stream (idle deadline), malformed SSE
 * chunks, and streams that end without Gemini's final chunk / OpenAI's finish + `[DONE]`.
 * After content reached the client a failure is an `event: error` and never a `message_stop`;
 * before content the failed attempt is invisible and the next one serves.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type FakeGeminiOptions, textChunks } from "../fakes/gemini.js";
import { sseFrame } from "../fakes/http-stream.js";
import { endAfter, malformedAfter, textStream } from "../fakes/openai.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";
import {
  ask,
  eventNames,
  gemini,
  geminiHits,
  geminiProvider,
  jsonOutcome,
  K1,
  openai,
  openaiHits,
  openaiProvider,
  runCleanups,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

const FOUR = "one two three four ";

/** Gemini (one key) first, a fake OpenAI backup second. */
async function pair(geminiOptions: FakeGeminiOptions, timeouts = {}, pingIntervalMs?: number) {
  const fake = await gemini(geminiOptions);
  const oai = await openai({ defaultScript: () => textStream("the backup answered") });
  const gateway = await startFaultGateway({
    providers: [geminiProvider("gem", fake, [K1], timeouts), openaiProvider("oai", oai, ["sk-oai-key-0003"])],
    targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
    resilience: { retryBaseMs: 10 },
    ...(pingIntervalMs === undefined ? {} : { pingIntervalMs }),
  });
  return { fake, oai, gateway };
}

describe("stream cut after content", () => {
  it("ends with event: error and no message_stop; no failover once content was sent", async () => {
    const { fake, oai, gateway } = await pair({
      handler: () => ({ chunks: textChunks(FOUR, { parts: 4 }), cutAfterChunks: 2, chunkDelayMs: 20 }),
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(res.status).toBe(200);
    const names = eventNames(res.events);
    expect(names).toContain("content_block_delta");
    expect(names).not.toContain("message_stop");
    expect(names.at(-1)).toBe("error");
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({ kind: "error", type: "overloaded_error" });
    const text = res.events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => (e.data as { delta: { text: string } }).delta.text)
      .join("");
    // Exactly the two chunks sent before the cut: a strict prefix of the answer.
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(FOUR.length);
    expect(FOUR.startsWith(text)).toBe(true);
    expect(geminiHits(fake)).toBe(1);
    expect(openaiHits(oai)).toBe(0);
  });

  it("the SDK's stream helper rejects instead of returning a partial message", async () => {
    const { gateway } = await pair({
      handler: () => ({ chunks: textChunks(FOUR, { parts: 4 }), cutAfterChunks: 2 }),
    });
    const stream = sdkClient(gateway).messages.stream(ask());
    await expect(stream.finalMessage()).rejects.toMatchObject({ type: "overloaded_error" });
  });

  it("non-stream: a cut after content still fails over (nothing reached the client yet)", async () => {
    const { fake, gateway } = await pair({
      handler: () => ({ chunks: textChunks(FOUR, { parts: 4 }), cutAfterChunks: 2 }),
    });
    const res = await postRaw(gateway, ask());
    const outcome = jsonOutcome(res.status, res.text);
    // The non-streaming client commits at message_stop, so the cut attempt is invisible: the same
    // key is retried once (transient), then the backup target serves the whole message.
    expect(res.status).toBe(200);
    expect(outcome).toMatchObject({ kind: "message", text: "the backup answered" });
    expect(geminiHits(fake)).toBe(2);
  });
});

describe("stall mid-stream", () => {
  it("the idle deadline ends the stream with event: error (pings while it waited)", async () => {
    const { fake, oai, gateway } = await pair(
      { handler: () => ({ chunks: textChunks(FOUR, { parts: 4 }), stallAfterChunks: 2 }) },
      { idleMs: 300 },
      100,
    );
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    const elapsed = Date.now() - started;
    // undici's body deadline runs on a coarse (~0.5–1 s) timer.
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(3_000);
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({ kind: "error", type: "overloaded_error" });
    expect(outcome.kind === "error" && outcome.pings).toBeGreaterThanOrEqual(2);
    expect(eventNames(res.events)).not.toContain("message_stop");
    expect(geminiHits(fake)).toBe(1);
    expect(openaiHits(oai)).toBe(0);
    // The gateway dropped the stalled upstream connection.
    await fake.waitForClientClose(1_000);
  });

  it("a stall before any content is a failed attempt: the backup serves", async () => {
    const { fake, oai, gateway } = await pair(
      // One chunk holding usage only (no content), then silence.
      {
        handler: () => ({
          chunks: [{ usageMetadata: { candidatesTokenCount: 0 } }, ...textChunks("late")],
          stallAfterChunks: 1,
        }),
      },
      { idleMs: 300 },
    );
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({
      kind: "message",
      text: "the backup answered",
    });
    expect(geminiHits(fake)).toBe(1); // a stalled upstream is not waited for twice
    expect(openaiHits(oai)).toBe(1);
  });
});

describe("malformed SSE chunk", () => {
  it("before content: retried, and the retry's answer is delivered", async () => {
    let broken = 1;
    const { fake, oai, gateway } = await pair({
      handler: () =>
        broken-- > 0 ? { status: 200, rawSse: 'data: {"candidates": [{"content": {\r\n\r\n' } : undefined,
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({
      kind: "message",
      text: "Hello from fake Gemini.",
    });
    expect(geminiHits(fake)).toBe(2);
    expect(openaiHits(oai)).toBe(0);
  });

  it("after content: event: error, no message_stop", async () => {
    const good = sseFrame({
      candidates: [{ content: { role: "model", parts: [{ text: "partial " }] }, index: 0 }],
    });
    const { gateway } = await pair({
      handler: () => ({ status: 200, rawSse: `${good}data: {not json}\r\n\r\n` }),
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({ kind: "error" });
    expect(eventNames(res.events)).toContain("content_block_delta");
    expect(eventNames(res.events)).not.toContain("message_stop");
  });

  it("OpenAI: a malformed frame after content is an error too", async () => {
    const oai = await openai({ defaultScript: () => malformedAfter(textStream(FOUR), 2) });
    const gateway = await startFaultGateway({
      providers: [openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["oai/gpt-fake"],
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({ kind: "error" });
    expect(eventNames(res.events)).not.toContain("message_stop");
    expect(openaiHits(oai)).toBe(1);
  });
});

describe("stream ending without its final chunk", () => {
  it("Gemini without a finishReason: not a clean success", async () => {
    const { fake, gateway } = await pair({
      handler: () => ({ chunks: textChunks(FOUR, { parts: 2 }), omitFinish: true }),
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({ kind: "error", type: "overloaded_error" });
    expect(eventNames(res.events)).not.toContain("message_stop");
    expect(geminiHits(fake)).toBe(1);

    // Non-stream: never a 200 with half a message.
    const plain = await postRaw(gateway, ask());
    const json = jsonOutcome(plain.status, plain.text);
    if (json.kind === "message") expect(json.text).toBe("the backup answered");
    else expect(json).toMatchObject({ kind: "error" });
  });

  it("Gemini body that ends before any chunk: invisible, the next attempt serves", async () => {
    const { fake, oai, gateway } = await pair({ handler: () => ({ status: 200, rawSse: "" }) });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({
      kind: "message",
      text: "the backup answered",
    });
    expect(geminiHits(fake)).toBe(2);
    expect(openaiHits(oai)).toBe(1);
  });

  it("OpenAI without finish_reason and [DONE]: event: error, no message_stop", async () => {
    const oai = await openai({ defaultScript: () => endAfter(textStream(["one ", "two ", "three"]), 3) });
    const gateway = await startFaultGateway({
      providers: [openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["oai/gpt-fake"],
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({ kind: "error", type: "overloaded_error" });
    expect(eventNames(res.events)).toContain("content_block_delta");
    expect(eventNames(res.events)).not.toContain("message_stop");
    expect(openaiHits(oai)).toBe(1);
  });
});

describe("total time limit (resilience.totalTimeoutMs)", () => {
  async function limited(chunkDelayMs: number, firstByteDelayMs = 0) {
    const fake = await gemini({
      handler: () => ({ chunks: textChunks(FOUR, { parts: 4 }), chunkDelayMs, firstByteDelayMs }),
    });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { totalTimeoutMs: 700, transientRetries: 0 },
    });
    return { fake, gateway };
  }

  it("a stream still running at the limit ends with a timeout_error event, never message_stop", async () => {
    const { fake, gateway } = await limited(400);
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(streamOutcome(res.status, res.text)).toMatchObject({ kind: "error", type: "timeout_error" });
    expect(eventNames(res.events)).toContain("content_block_delta");
    expect(eventNames(res.events)).not.toContain("message_stop");
    await fake.waitForClientClose(1_000);
  });

  it("reached before any content, it is a 504 timeout_error", async () => {
    const { fake, gateway } = await limited(0, 2_000);
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(res.status).toBe(504);
    expect(streamOutcome(res.status, res.text)).toMatchObject({ type: "timeout_error" });
    await fake.waitForClientClose(1_000);
  });
});
