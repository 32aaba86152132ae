/**
 * Upstream HTTP failures (issue 4): 429 with Retry-After, 429 on every key, 500 once, 503 always
 * (breaker), prompt too long and content-policy 400s. Each test checks what the client saw and
 * how many attempts every upstream key got.
 */
import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { googleError, internal, promptTooLong, rateLimited, unavailable } from "../fakes/gemini.js";
import { httpError, rateLimited as openaiRateLimited, textStream } from "../fakes/openai.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";
import {
  ask,
  gemini,
  geminiHits,
  geminiProvider,
  getStatus,
  jsonOutcome,
  K1,
  K2,
  openai,
  openaiHits,
  openaiProvider,
  runCleanups,
  sleep,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

describe("429 with Retry-After", () => {
  it("moves to the next key at once and does not retry the cooled key before its time", async () => {
    let limiting = true;
    const fake = await gemini({
      handler: (req) =>
        limiting && req.apiKey === K1 ? { ...rateLimited(1), headers: { "retry-after": "1" } } : undefined,
    });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2])],
      targets: ["gem/gemini-2.5-pro"],
    });
    const client = sdkClient(gateway);

    // The first plan starts with key one (rotation turn 0): it answers 429, key two serves.
    const started = Date.now();
    const first = await client.messages.create(ask());
    const limitedAt = Date.now();
    expect(first.content).toEqual([{ type: "text", text: "Hello from fake Gemini." }]);
    expect(limitedAt - started).toBeLessThan(500);
    expect(geminiHits(fake, K1)).toBe(1);
    expect(geminiHits(fake, K2)).toBe(1);

    // While key one cools (1 s from RetryInfo), every request goes to key two only.
    for (let i = 0; i < 4; i++) await client.messages.create(ask());
    expect(Date.now() - limitedAt).toBeLessThan(900);
    expect(geminiHits(fake, K1)).toBe(1);
    expect(geminiHits(fake, K2)).toBe(5);
    const { status } = await getStatus(gateway);
    const slot = status.targets.find((t) => t.slot === "gem/gemini-2.5-pro#1");
    expect(slot?.state).toBe("cooling");

    // After its time key one is used again (two requests: rotation puts it first in one of them).
    limiting = false;
    await sleep(Math.max(0, limitedAt + 1_100 - Date.now()));
    await client.messages.create(ask());
    await client.messages.create(ask());
    expect(geminiHits(fake, K1)).toBe(2);
    expect(geminiHits(fake, K2)).toBe(6);
  });
});

describe("429 on every key", () => {
  it("answers 429 with the soonest retry-after, quickly, and then without calling upstreams", async () => {
    const fake = await gemini({
      handler: (req) => (req.apiKey === K1 ? rateLimited(40) : rateLimited(12)),
    });
    const oai = await openai({ defaultScript: () => openaiRateLimited(25) });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2]), openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
    });

    const started = Date.now();
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("12");
    expect(res.headers.get("retry-after-ms")).toBe("12000");
    const outcome = streamOutcome(res.status, res.text);
    expect(outcome).toMatchObject({ kind: "error", type: "rate_limit_error" });
    expect(geminiHits(fake, K1)).toBe(1);
    expect(geminiHits(fake, K2)).toBe(1);
    expect(openaiHits(oai)).toBe(1);

    // Everything cools now: the SDK sees a RateLimitError and no upstream is called.
    const err = await sdkClient(gateway)
      .messages.create(ask())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const retryAfter = Number((err as APIError).headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(12);
    expect(geminiHits(fake)).toBe(2);
    expect(openaiHits(oai)).toBe(1);
  });
});

describe("500 once", () => {
  it("is retried on the same key and succeeds (stream and non-stream)", async () => {
    let failNext = true;
    const fake = await gemini({
      handler: () => {
        if (!failNext) return undefined;
        failNext = false;
        return internal();
      },
    });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { retryBaseMs: 10 },
    });
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(msg.content).toEqual([{ type: "text", text: "Hello from fake Gemini." }]);
    expect(geminiHits(fake, K1)).toBe(2);

    failNext = true;
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({
      kind: "message",
      text: "Hello from fake Gemini.",
    });
    expect(geminiHits(fake, K1)).toBe(4);
  });
});

describe("503 always", () => {
  it("opens the breaker; later requests skip the upstream without an attempt", async () => {
    const fake = await gemini({ handler: () => unavailable() });
    const oai = await openai({ defaultScript: () => textStream("served by the backup") });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1]), openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: {
        retryBaseMs: 10,
        transientRetries: 1,
        breaker: { consecutiveFailures: 3, openMs: 60_000 },
      },
    });
    const client = sdkClient(gateway);
    // Request 1: two attempts (one retry), request 2: the third failure opens the breaker.
    for (let i = 0; i < 2; i++) {
      const msg = await client.messages.create(ask());
      expect(msg.content).toEqual([{ type: "text", text: "served by the backup" }]);
    }
    expect(geminiHits(fake)).toBe(3);
    const { status } = await getStatus(gateway);
    expect(status.targets.find((t) => t.slot === "gem/gemini-2.5-pro#1")).toMatchObject({
      breaker: "open",
      state: "open",
      failures: 3,
    });

    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await postRaw(gateway, { ...ask(), stream: i % 2 === 0 });
      expect(Date.now() - started).toBeLessThan(500);
      expect(res.headers.get("x-ccgate-target")).toBe("oai/gpt-fake");
    }
    expect(geminiHits(fake)).toBe(3);
    expect(openaiHits(oai)).toBe(7);
  });

  it("with no other target the client gets 503 with retry-after once the breaker is open, without an attempt", async () => {
    const fake = await gemini({ handler: () => unavailable() });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { retryBaseMs: 10, breaker: { consecutiveFailures: 2, openMs: 30_000 } },
    });
    const first = await postRaw(gateway, ask());
    expect(first.status).toBe(529);
    expect(jsonOutcome(first.status, first.text)).toMatchObject({ kind: "error", type: "overloaded_error" });
    expect(geminiHits(fake)).toBe(2);

    const started = Date.now();
    const shed = await postRaw(gateway, { ...ask(), stream: true });
    expect(Date.now() - started).toBeLessThan(300);
    // Not 529: Claude Code gives up after three 529s on Opus models, and retries a 503 ten times.
    expect(shed.status).toBe(503);
    expect(JSON.parse(shed.text).error.type).toBe("api_error");
    const retryAfter = Number(shed.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(25);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(geminiHits(fake)).toBe(2);
  });
});

describe("400s that are the request's fault", () => {
  it("prompt too long: no failover, passed through in Claude Code's wording", async () => {
    const fake = await gemini({ handler: () => promptTooLong(1_200_000, 1_048_576) });
    const oai = await openai();
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2]), openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
    });
    const err = await sdkClient(gateway)
      .messages.create(ask())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).type).toBe("invalid_request_error");
    expect((err as APIError).apiMessage).toBe("prompt is too long: 1200000 tokens > 1048576 maximum");

    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.message).toBe("prompt is too long: 1200000 tokens > 1048576 maximum");
    // One attempt per request: no other key, no retry, no other provider.
    expect(geminiHits(fake)).toBe(2);
    expect(openaiHits(oai)).toBe(0);
    // A request error says nothing about the upstream's health.
    const { status } = await getStatus(gateway);
    for (const t of status.targets) expect(t.breaker).toBe("closed");
  });

  it("content policy 400: no failover, the client gets the 400", async () => {
    const policy =
      "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.";
    const oai = await openai({
      defaultScript: () => httpError(400, policy, { code: "content_policy_violation" }),
    });
    const fake = await gemini();
    const gateway = await startFaultGateway({
      providers: [openaiProvider("oai", oai, ["sk-oai-key-0003"]), geminiProvider("gem", fake, [K1])],
      targets: ["oai/gpt-fake", "gem/gemini-2.5-pro"],
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(res.status).toBe(400);
    expect(streamOutcome(res.status, res.text)).toMatchObject({
      kind: "error",
      type: "invalid_request_error",
      message: policy,
    });
    expect(openaiHits(oai)).toBe(1);
    expect(geminiHits(fake)).toBe(0);
  });

  it("Gemini's own 400 INVALID_ARGUMENT is not retried on another key either", async () => {
    const fake = await gemini({
      handler: () => googleError(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    });
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1, K2])],
      targets: ["gem/gemini-2.5-pro"],
    });
    const res = await postRaw(gateway, ask());
    expect(res.status).toBe(400);
    expect(jsonOutcome(res.status, res.text)).toMatchObject({ kind: "error", type: "invalid_request_error" });
    expect(geminiHits(fake)).toBe(1);
  });

  it("a prompt Gemini blocks for safety is a refusal, not a failover", async () => {
    const fake = await gemini({
      handler: () => ({ chunks: [{ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: {} }] }),
    });
    const oai = await openai();
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [K1]), openaiProvider("oai", oai, ["sk-oai-key-0003"])],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
    });
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(msg.stop_reason).toBe("refusal");
    expect(msg.content[0]).toMatchObject({ type: "text" });
    expect(geminiHits(fake)).toBe(1);
    expect(openaiHits(oai)).toBe(0);
  });
});
