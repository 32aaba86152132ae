/**
 * Claude Code's max_tokens (32000, 128000) against OpenAI-compatible models with a lower
 * completion limit, and vLLM's context wordings, over real HTTP: the strict fake OpenAI on
 * 127.0.0.1, the gateway on an ephemeral port, the official SDK (and raw SSE) as the client.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import { GatewayError } from "../../src/core/errors.js";
import { Transport } from "../../src/core/transport.js";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { createOpenAIProvider } from "../../src/providers/openai/index.js";
import { type FakeOpenAIOptions, httpError, startFakeOpenAI, textStream } from "../fakes/openai.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";
import { postRaw, sdkClient, startTestGateway } from "../helpers/gateway.js";
import type { RequestContext } from "../helpers/upstream-body.js";

/** A real Claude Code turn: `max_tokens` 128000, tools, adaptive thinking. */
const CLAUDE_CODE_TURN = (
  JSON.parse(readFileSync(join(CLAUDE_CODE_FIXTURES, "hello-1.json"), "utf8")) as {
    body: Record<string, unknown>;
  }
).body;

/** What gpt-4o answers to more than 16384 completion tokens. */
const GPT_4O_LIMIT = 16384;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeOpenAI(options: FakeOpenAIOptions = {}) {
  const fake = await startFakeOpenAI({ outputLimits: { "gpt-4o": GPT_4O_LIMIT }, ...options });
  cleanups.push(() => fake.close());
  return fake;
}

/** The gateway with one openai provider `oai` (these `options`) as the only route's target. */
async function gatewayFor(url: string, options: Record<string, unknown> = {}) {
  const gateway = await startTestGateway({
    configure(config) {
      config.providers = [
        providerSchema.parse({
          name: "oai",
          type: "openai",
          baseUrl: `${url}/v1`,
          apiKeys: ["sk-a"],
          options,
        }),
      ];
      config.routes = [routeSchema.parse({ name: "default", targets: ["oai/gpt-4o"] })];
    },
  });
  cleanups.push(() => gateway.close());
  return { gateway, client: sdkClient(gateway) };
}

/** The completion tokens each upstream request asked for. */
function askedFor(fake: { requests: { body: unknown }[] }): unknown[] {
  return fake.requests.map((r) => (r.body as { max_completion_tokens?: unknown }).max_completion_tokens);
}

/** The text of a raw SSE answer's text deltas. */
function streamedText(events: { data: unknown }[]): string {
  return events
    .map((e) => (e.data as { delta?: { type?: string; text?: string } } | undefined)?.delta)
    .filter((d) => d?.type === "text_delta")
    .map((d) => d?.text ?? "")
    .join("");
}

async function badRequestOf(
  promise: Promise<unknown>,
): Promise<InstanceType<typeof Anthropic.BadRequestError>> {
  const caught = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(caught).toBeInstanceOf(Anthropic.BadRequestError);
  return caught as InstanceType<typeof Anthropic.BadRequestError>;
}

describe("options.maxOutputTokens", () => {
  it("a real Claude Code turn (max_tokens 128000) is clamped before it goes out: one upstream call, streamed answer", async () => {
    const fake = await fakeOpenAI();
    const { gateway } = await gatewayFor(fake.url, { maxOutputTokens: GPT_4O_LIMIT });
    fake.enqueue(textStream("clamped and served"));
    const res = await postRaw(gateway, CLAUDE_CODE_TURN);
    expect(res.status).toBe(200);
    expect(res.events.filter((e) => e.event !== "ping").at(-1)?.event).toBe("message_stop");
    expect(streamedText(res.events)).toBe("clamped and served");
    expect(askedFor(fake)).toEqual([GPT_4O_LIMIT]);
  });

  it("smaller requests keep their max_tokens (SDK, non-streaming)", async () => {
    const fake = await fakeOpenAI();
    const { client } = await gatewayFor(fake.url, { maxOutputTokens: GPT_4O_LIMIT });
    fake.enqueue(textStream("small"));
    const message = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 2048,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "small" }]);
    expect(askedFor(fake)).toEqual([2048]);
  });
});

describe("a limit the upstream states", () => {
  it("the adapter learns it, and the same body — retried over the core's transport — is clamped and served", async () => {
    const fake = await fakeOpenAI();
    const provider = createOpenAIProvider();
    const transport = new Transport({ connectMs: 5000, firstByteMs: 5000, idleMs: 5000 });
    cleanups.push(() => transport.close());
    const signal = new AbortController().signal;
    const ctx: RequestContext = {
      request: messagesRequestSchema.parse(CLAUDE_CODE_TURN),
      requestedModel: String(CLAUDE_CODE_TURN.model),
      upstreamModel: "gpt-4o",
      baseUrl: `${fake.url}/v1`,
      apiKey: "sk-a",
    };
    // As the attempt loop does: one body per target, built before the first call.
    const body = provider.buildBody(ctx);
    const failed = await transport.send(provider.buildRequest(ctx, body), provider, signal).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(GatewayError);
    const error = failed as GatewayError;
    expect(error.code).toBe("UPSTREAM_MAX_TOKENS_TOO_LARGE");
    expect(error.message).toMatch(
      /^max_tokens: 128000 > 16384, which is the maximum allowed number of output tokens/,
    );

    expect(provider.learnFromFailure(ctx, error)).toBe(true);
    fake.enqueue(textStream("second time lucky"));
    const response = await transport.send(provider.buildRequest(ctx, body), provider, signal);
    const events: StreamEvent[] = [];
    for await (const batch of provider.decodeStream(response.body, ctx)) events.push(...batch);
    expect(events.at(-1)?.type).toBe("message_stop");

    // A later request to the model is clamped up front; another model is not.
    fake.enqueue(textStream("up front"), textStream("other model"));
    for (const upstreamModel of ["gpt-4o", "gpt-4.1"]) {
      const later = { ...ctx, upstreamModel };
      const res = await transport.send(
        provider.buildRequest(later, provider.buildBody(later)),
        provider,
        signal,
      );
      for await (const _ of provider.decodeStream(res.body, later));
    }
    expect(askedFor(fake)).toEqual([128000, GPT_4O_LIMIT, GPT_4O_LIMIT, 128000]);
  });

  it("when the upstream still refuses, the client gets Anthropic's wording for it (400, SDK)", async () => {
    const fake = await fakeOpenAI({ outputLimits: {} });
    const { client } = await gatewayFor(fake.url);
    const refusal = () =>
      httpError(
        400,
        "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
        { param: "max_tokens" },
      );
    // Two: an attempt loop that retries once after `learnFromFailure` meets the second one.
    fake.enqueue(refusal(), refusal());
    const error = await badRequestOf(
      client.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 32000,
        messages: [{ role: "user", content: "hi" }],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: expect.stringMatching(
          /^max_tokens: 32000 > 16384, which is the maximum allowed number of output tokens for this model; set options\.maxOutputTokens: 16384/,
        ),
      },
    });
  });

  it("through the gateway: learned and retried before the client sees anything; later turns clamped up front", async () => {
    const fake = await fakeOpenAI();
    const { client, gateway } = await gatewayFor(fake.url);
    fake.enqueue(textStream("after one correction"));
    const message = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 32000,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "after one correction" }]);
    expect(askedFor(fake)).toEqual([32000, GPT_4O_LIMIT]);
    fake.enqueue(textStream("clamped up front"));
    const res = await postRaw(gateway, CLAUDE_CODE_TURN);
    expect(res.status).toBe(200);
    expect(askedFor(fake)).toEqual([32000, GPT_4O_LIMIT, GPT_4O_LIMIT]);
  });
});

describe("vLLM's context wordings reach Claude Code in Anthropic's", () => {
  /** vLLM's flat error body. */
  const vllmError = (message: string) => ({
    kind: "http_error" as const,
    status: 400,
    body: JSON.stringify({ object: "error", message, type: "BadRequestError", param: null, code: 400 }),
  });

  it.each([
    [
      "input fits, max_tokens does not → Claude Code retries with a smaller max_tokens",
      "'max_tokens' or 'max_completion_tokens' is too large: 64000. This model's maximum context length is 64001 tokens and your request has 24235 input tokens (64000 > 64001 - 24235). None",
      "input length and `max_tokens` exceed context limit: 24235 + 64000 > 64001, decrease input length or `max_tokens` and try again",
    ],
    [
      "input alone too long → Claude Code compacts",
      "This model's maximum context length is 1536 tokens. However, your request has 4176 input tokens. Please reduce the length of the input messages.",
      "prompt is too long: 4176 tokens > 1536 maximum",
    ],
  ])("%s", async (_name, upstream, expected) => {
    const fake = await fakeOpenAI({ outputLimits: {} });
    const { client, gateway } = await gatewayFor(fake.url);
    fake.enqueue(vllmError(upstream));
    const error = await badRequestOf(
      client.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 64000,
        messages: [{ role: "user", content: "hi" }],
      }),
    );
    expect(error.error).toMatchObject({ error: { type: "invalid_request_error", message: expected } });
    // Streaming: the status is held back until the first content, so it is a real 400 too.
    fake.enqueue(vllmError(upstream));
    const streamed = await postRaw(gateway, CLAUDE_CODE_TURN);
    expect(streamed.status).toBe(400);
    expect(JSON.parse(streamed.text)).toMatchObject({ type: "error", error: { message: expected } });
    expect(fake.hits()).toBe(2);
  });
});
