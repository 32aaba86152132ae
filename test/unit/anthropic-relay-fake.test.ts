/**
 * The relay provider against the fake Anthropic upstream over real HTTP (undici, 127.0.0.1):
 * what goes on the wire, what comes back, and the fake's own strictness and fault scripts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { CountTokensContext, Provider, UpstreamRequest } from "../../src/core/provider.js";
import {
  countTokensRequestSchema,
  type MessagesRequest,
  messagesRequestSchema,
} from "../../src/protocol/anthropic/request-schema.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/index.js";
import {
  cutAfter,
  endAfter,
  type FakeAnthropic,
  malformedAfter,
  overloaded,
  parallelToolUseReply,
  promptTooLong,
  rateLimited,
  stallAfter,
  startFakeAnthropic,
  textReply,
  thinkingReply,
  toolUseReply,
  withFirstByteDelay,
  withInBandError,
  withPings,
} from "../fakes/anthropic.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";
import { buildUpstream, type RequestContext } from "../helpers/upstream-body.js";

const CAPTURES = CLAUDE_CODE_FIXTURES;
const KEY = "sk-fake-good";

interface Captured {
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function captured(name: string): Captured {
  return JSON.parse(readFileSync(`${CAPTURES}/${name}`, "utf8")) as Captured;
}

let fake: FakeAnthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic({ validKeys: [KEY, "sk-fake-second"], maxDelayMs: 2000, maxStallMs: 5000 });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  expect(fake.pending()).toBe(0);
});

function ctxFor(request: MessagesRequest, extra: Partial<RequestContext> = {}): RequestContext {
  return {
    request,
    requestedModel: "claude-gateway-alias",
    upstreamModel: "claude-upstream-model",
    baseUrl: fake.url,
    apiKey: KEY,
    ...extra,
  };
}

const simple = messagesRequestSchema.parse({
  model: "claude-gateway-alias",
  max_tokens: 512,
  messages: [{ role: "user", content: "hello" }],
});

interface Outcome {
  events: StreamEvent[];
  error: unknown;
}

/** One attempt the way the core runs it: send, decode the 2xx stream or the error. */
async function attempt(
  ctx: RequestContext,
  provider: Provider = createAnthropicProvider(),
  signal?: AbortSignal,
): Promise<Outcome> {
  const upstream = buildUpstream(provider, ctx);
  return run(upstream, provider, ctx, signal);
}

async function run(
  upstream: UpstreamRequest,
  provider: Provider,
  ctx: RequestContext,
  signal?: AbortSignal,
): Promise<Outcome> {
  const events: StreamEvent[] = [];
  try {
    const res = await request(upstream.url, {
      method: upstream.method,
      headers: upstream.headers,
      body: upstream.body ?? null,
      signal: signal ?? null,
    });
    if (res.statusCode >= 300) {
      throw provider.decodeError(res.statusCode, res.headers, await res.body.text());
    }
    for await (const batch of provider.decodeStream(res.body, ctx)) events.push(...batch);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

function textOf(events: StreamEvent[]): string {
  return events
    .map((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? e.delta.text : ""))
    .join("");
}

function toolInputs(events: StreamEvent[]): Map<number, string[]> {
  const pieces = new Map<number, string[]>();
  for (const e of events) {
    if (e.type === "content_block_delta" && e.delta.type === "input_json_delta") {
      pieces.set(e.index, [...(pieces.get(e.index) ?? []), e.delta.partial_json]);
    }
  }
  return pieces;
}

describe("relay → fake Anthropic: happy paths", () => {
  it("sends the rewritten request and streams the answer back with the client's model, pings dropped", async () => {
    const hello = captured("hello-1.json");
    const request = messagesRequestSchema.parse(hello.body);
    fake.enqueue(withPings(textReply("Hi there — ça va? 🎉", { chunks: 4 }), 1));
    const before = fake.requests.length;
    const { events, error } = await attempt(
      ctxFor(request, { headers: { "anthropic-beta": hello.headers["anthropic-beta"] ?? "" } }),
    );
    expect(error).toBeUndefined();

    const seen = fake.requests[before];
    expect(seen?.path).toBe("/v1/messages");
    expect(seen?.body).toEqual({ ...hello.body, model: "claude-upstream-model", stream: true });
    expect(seen?.headers["x-api-key"]).toBe(KEY);
    expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(seen?.headers["anthropic-beta"]).toBe(hello.headers["anthropic-beta"]);
    expect(seen?.headers.authorization).toBeUndefined();

    expect(events[0]).toMatchObject({ type: "message_start", message: { model: "claude-gateway-alias" } });
    expect(events.some((e) => e.type === "ping")).toBe(false);
    expect(textOf(events)).toBe("Hi there — ça va? 🎉");
    expect(events.filter((e) => e.type === "content_block_delta")).toHaveLength(4);
    expect(events.at(-1)).toEqual({ type: "message_stop" });
  });

  it("every captured Claude Code request passes the fake's validation", async () => {
    const names = readdirSync(CAPTURES).filter((n) => n.endsWith(".json"));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const request = messagesRequestSchema.parse(captured(name).body);
      fake.enqueue(textReply("ok"));
      const { error } = await attempt(ctxFor(request));
      expect(error, name).toBeUndefined();
    }
  });

  it("tool_use input split into several input_json_delta pieces concatenates to the input", async () => {
    const input = { command: "ls -la /tmp", description: "List files — ünïcödé" };
    fake.enqueue(
      toolUseReply({ name: "Bash", input, id: "toolu_01Fake", pieces: 5 }, { preamble: "Let me look." }),
    );
    const { events, error } = await attempt(ctxFor(simple));
    expect(error).toBeUndefined();
    expect(events).toContainEqual({
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "toolu_01Fake", name: "Bash", input: {} },
    });
    const pieces = toolInputs(events).get(1) ?? [];
    expect(pieces.filter((p) => p !== "").length).toBe(5);
    expect(JSON.parse(pieces.join(""))).toEqual(input);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "message_delta",
        delta: expect.objectContaining({ stop_reason: "tool_use" }),
      }),
    );
  });

  it("thinking + signature reach the client byte-identical", async () => {
    const signature = "EqQBCkgIARABGAIiQL2Xm1c9n7QvZ3xW0k4b+/S0Yk==";
    fake.enqueue(thinkingReply("Thinking about “quotes” and \\ backslashes", signature, "Done."));
    const { events } = await attempt(ctxFor(simple));
    const thinking = events
      .map((e) =>
        e.type === "content_block_delta" && e.delta.type === "thinking_delta" ? e.delta.thinking : "",
      )
      .join("");
    expect(thinking).toBe("Thinking about “quotes” and \\ backslashes");
    expect(events).toContainEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "signature_delta", signature },
    });
    expect(textOf(events)).toBe("Done.");
  });

  it("parallel tool uses keep their own indexes and inputs", async () => {
    fake.enqueue(
      parallelToolUseReply([
        { name: "Read", input: { file_path: "/x" }, id: "toolu_A" },
        { name: "Read", input: { file_path: "/y" }, id: "toolu_B" },
      ]),
    );
    const { events } = await attempt(ctxFor(simple));
    const inputs = toolInputs(events);
    expect(JSON.parse((inputs.get(0) ?? []).join(""))).toEqual({ file_path: "/x" });
    expect(JSON.parse((inputs.get(1) ?? []).join(""))).toEqual({ file_path: "/y" });
  });

  it("a full tool round trip: the next request with the tool_result is accepted", async () => {
    fake.enqueue(
      toolUseReply({ name: "Bash", input: { command: "pwd" }, id: "toolu_RT" }),
      textReply("/work"),
    );
    const first = await attempt(ctxFor(simple));
    expect(first.error).toBeUndefined();
    const second = messagesRequestSchema.parse({
      ...simple,
      messages: [
        ...simple.messages,
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_RT", name: "Bash", input: { command: "pwd" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_RT", content: "/work" }] },
      ],
    });
    const { events, error } = await attempt(ctxFor(second));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe("/work");
  });
});

describe("relay → fake Anthropic: auth and validation", () => {
  it("bearer auth is accepted; hits are counted per key", async () => {
    const bearer = createAnthropicProvider({ authHeader: "bearer" });
    const before = fake.hits("sk-fake-second");
    fake.enqueue(textReply("a"));
    const { error } = await attempt(ctxFor(simple, { apiKey: "sk-fake-second" }), bearer);
    expect(error).toBeUndefined();
    expect(fake.hits("sk-fake-second")).toBe(before + 1);
    expect(fake.requests.at(-1)?.headers.authorization).toBe("Bearer sk-fake-second");
    expect(fake.requests.at(-1)?.headers["x-api-key"]).toBeUndefined();
  });

  it.each([
    ["x-api-key", "invalid x-api-key"],
    ["bearer", "Invalid bearer token"],
  ] as const)("a wrong %s → 401 authentication_error, class auth", async (style, message) => {
    const { error } = await attempt(
      ctxFor(simple, { apiKey: "sk-wrong" }),
      createAnthropicProvider({ authHeader: style }),
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 401, type: "authentication_error", class: "auth", message });
    expect(fake.hits("sk-wrong")).toBeGreaterThan(0);
  });

  it("no key → 401 x-api-key header is required", async () => {
    const { error } = await attempt(ctxFor(simple, { apiKey: undefined }));
    expect(error).toMatchObject({ status: 401, class: "auth", message: "x-api-key header is required" });
  });

  it("a tool_use without its tool_result → 400 with Anthropic's wording, class permanent", async () => {
    const bad = messagesRequestSchema.parse({
      ...simple,
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "toolu_01X", name: "Bash", input: {} },
            { type: "tool_use", id: "toolu_01Y", name: "Bash", input: {} },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01X", content: "ok" }] },
      ],
    });
    const { error } = await attempt(ctxFor(bad));
    expect(error).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      class: "permanent",
      message:
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01Y. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
    });
  });

  it("a tool_result without its tool_use → 400 unexpected tool_use_id", async () => {
    const bad = messagesRequestSchema.parse({
      ...simple,
      messages: [
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01Z", content: "x" }] },
      ],
    });
    const { error } = await attempt(ctxFor(bad));
    expect(error).toMatchObject({
      status: 400,
      message:
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01Z. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
    });
  });

  it("missing anthropic-version, model, max_tokens or messages → 400", async () => {
    const post = async (headers: Record<string, string>, body: unknown) => {
      const res = await request(`${fake.url}/v1/messages`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
      });
      return { status: res.statusCode, json: (await res.body.json()) as { error: { message: string } } };
    };
    const ok = { "x-api-key": KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" };
    const noVersion = { "x-api-key": KEY, "content-type": "application/json" };
    const cases: [Record<string, string>, unknown, string][] = [
      [
        noVersion,
        { model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }] },
        "anthropic-version: header is required",
      ],
      [ok, { max_tokens: 1, messages: [{ role: "user", content: "x" }] }, "model: Field required"],
      [ok, { model: "m", messages: [{ role: "user", content: "x" }] }, "max_tokens: Field required"],
      [ok, { model: "m", max_tokens: 1 }, "messages: Field required"],
    ];
    for (const [headers, body, message] of cases) {
      const res = await post(headers, body);
      expect(res.status).toBe(400);
      expect(res.json.error.message).toBe(message);
    }
  });
});

describe("relay → fake Anthropic: scripted failures", () => {
  it("429 with retry-after → rate_limit with retryAfterSeconds", async () => {
    fake.enqueue(rateLimited(7));
    const { error } = await attempt(ctxFor(simple));
    expect(error).toMatchObject({
      status: 429,
      type: "rate_limit_error",
      class: "rate_limit",
      retryAfterSeconds: 7,
    });
  });

  it("529 → overloaded_error, transient, status kept", async () => {
    fake.enqueue(overloaded());
    const { error } = await attempt(ctxFor(simple));
    expect(error).toMatchObject({
      status: 529,
      type: "overloaded_error",
      class: "transient",
      message: "Overloaded",
    });
  });

  it("prompt too long keeps the exact wording", async () => {
    fake.enqueue(promptTooLong(210118, 200000));
    const { error } = await attempt(ctxFor(simple));
    expect(error).toMatchObject({
      status: 400,
      class: "permanent",
      message: "prompt is too long: 210118 tokens > 200000 maximum",
    });
  });

  it("an in-band error after some content → the mapped GatewayError", async () => {
    fake.enqueue(
      withInBandError(textReply("partial answer", { chunks: 3 }), 3, "api_error", "Internal server error"),
    );
    const { events, error } = await attempt(ctxFor(simple));
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
    ]);
    expect(error).toMatchObject({
      status: 500,
      type: "api_error",
      class: "transient",
      message: "Internal server error",
    });
  });

  it("a body that ends cleanly before message_stop → UPSTREAM_TRUNCATED", async () => {
    fake.enqueue(endAfter(textReply("cut short"), 3));
    const { events, error } = await attempt(ctxFor(simple));
    expect(events).toHaveLength(3);
    expect(error).toMatchObject({ code: "UPSTREAM_TRUNCATED", class: "transient" });
  });

  it("a connection cut mid-stream rejects (never looks complete)", async () => {
    fake.enqueue(cutAfter(textReply("cut short"), 3));
    const { events, error } = await attempt(ctxFor(simple));
    expect(error).toBeDefined();
    expect(events.some((e) => e.type === "message_stop")).toBe(false);
  });

  it("a malformed chunk → UPSTREAM_MALFORMED", async () => {
    fake.enqueue(malformedAfter(textReply("x"), 2));
    const { error } = await attempt(ctxFor(simple));
    expect(error).toMatchObject({ code: "UPSTREAM_MALFORMED", class: "transient" });
  });

  it("a stalled stream stays open until the client aborts", async () => {
    fake.enqueue(stallAfter(textReply("never finishes"), 2));
    const abort = new AbortController();
    const started = Date.now();
    const timer = setTimeout(() => abort.abort(new Error("idle deadline")), 300);
    const { events, error } = await attempt(ctxFor(simple), createAnthropicProvider(), abort.signal);
    clearTimeout(timer);
    expect(events.map((e) => e.type)).toEqual(["message_start", "content_block_start"]);
    expect(error).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("a first-byte delay is honoured, and bounded by maxDelayMs", async () => {
    fake.enqueue(withFirstByteDelay(textReply("late"), 300));
    let started = Date.now();
    const late = await attempt(ctxFor(simple));
    expect(late.error).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);

    const bounded = await startFakeAnthropic({ maxDelayMs: 50 });
    try {
      bounded.enqueue(withFirstByteDelay(textReply("capped"), 60_000));
      started = Date.now();
      const capped = await attempt(ctxFor(simple, { baseUrl: bounded.url }));
      expect(textOf(capped.events)).toBe("capped");
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await bounded.close();
    }
  });

  it("scripts are consumed first in, first out", async () => {
    fake.enqueue(textReply("one"), overloaded(), textReply("three"));
    expect(fake.pending()).toBe(3);
    expect(textOf((await attempt(ctxFor(simple))).events)).toBe("one");
    expect((await attempt(ctxFor(simple))).error).toMatchObject({ status: 529 });
    expect(textOf((await attempt(ctxFor(simple))).events)).toBe("three");
  });
});

describe("fake Anthropic: non-stream and count_tokens", () => {
  it("answers stream:false with the accumulated Message JSON", async () => {
    fake.enqueue(
      toolUseReply({ name: "Read", input: { file_path: "/a" }, id: "toolu_NS" }, { preamble: "Reading." }),
    );
    const res = await request(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ ...simple, model: "claude-x", stream: false }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("application/json");
    const message = (await res.body.json()) as Record<string, unknown>;
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-x",
      stop_reason: "tool_use",
      content: [
        { type: "text", text: "Reading." },
        { type: "tool_use", id: "toolu_NS", name: "Read", input: { file_path: "/a" } },
      ],
    });
  });

  it("count_tokens through the provider returns input_tokens", async () => {
    const provider = createAnthropicProvider();
    const countTokens = provider.countTokens;
    if (countTokens === undefined) throw new Error("countTokens missing");
    const ctx: CountTokensContext = {
      request: countTokensRequestSchema.parse({
        model: "claude-gateway-alias",
        messages: [{ role: "user", content: "hi" }],
      }),
      requestedModel: "claude-gateway-alias",
      upstreamModel: "claude-upstream-model",
      baseUrl: fake.url,
      apiKey: KEY,
    };
    const upstream = countTokens.buildRequest(ctx);
    const res = await request(upstream.url, {
      method: upstream.method,
      headers: upstream.headers,
      body: upstream.body ?? null,
    });
    expect(res.statusCode).toBe(200);
    const tokens = countTokens.decodeResponse(await res.body.json());
    expect(tokens).toBeGreaterThan(0);
    expect(fake.requests.at(-1)).toMatchObject({
      path: "/v1/messages/count_tokens",
      body: { model: "claude-upstream-model" },
    });
  });

  it("count_tokens uses options.countTokens and validates messages", async () => {
    const counting = await startFakeAnthropic({ countTokens: () => 4242 });
    try {
      const headers = {
        "x-api-key": "any",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      };
      const ok = await request(`${counting.url}/v1/messages/count_tokens?beta=true`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
      });
      expect(await ok.body.json()).toEqual({ input_tokens: 4242 });
      expect(counting.requests[0]?.query).toBe("beta=true");
      const bad = await request(`${counting.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "m" }),
      });
      expect(bad.statusCode).toBe(400);
      await bad.body.dump();
    } finally {
      await counting.close();
    }
  });
});
