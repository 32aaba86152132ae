import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { AttemptContext } from "../../src/core/provider.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/index.js";

const FIXTURES = new URL("../fixtures/anthropic/", import.meta.url);
const COMPLETE = ["thinking-text", "tool-use", "parallel-tools", "server-tools"] as const;

function fixture(name: string): string {
  return readFileSync(new URL(`${name}.sse`, FIXTURES), "utf8");
}

const provider = createAnthropicProvider();
const ctx: AttemptContext = {
  requestedModel: "claude-gateway-alias",
  upstreamModel: "claude-sonnet-4-6",
  baseUrl: "http://127.0.0.1:1",
  apiKey: "k",
};

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function chunked(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** Deterministic pseudo-random chunk sizes 1..48 (a small LCG: reproducible failures). */
function randomChunked(data: Uint8Array, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let state = seed;
  for (let i = 0; i < data.length; ) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % 48);
    out.push(data.subarray(i, i + size));
    i += size;
  }
  return out;
}

async function decode(chunks: Uint8Array[]): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const batch of provider.decodeStream(fromChunks(chunks), ctx)) events.push(...batch);
  return events;
}

async function decodeUntilThrow(chunks: Uint8Array[]): Promise<{ events: StreamEvent[]; error: unknown }> {
  const events: StreamEvent[] = [];
  try {
    for await (const batch of provider.decodeStream(fromChunks(chunks), ctx)) events.push(...batch);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** An independent, naive reading of a fixture: one JSON per `data:` line of each event. */
function upstreamEvents(text: string): Record<string, unknown>[] {
  return text
    .split("\n\n")
    .map((block) => block.split("\n").find((line) => line.startsWith("data: ")))
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line.slice("data: ".length)) as Record<string, unknown>);
}

const FORWARDED = new Set([
  "message_start",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "message_delta",
  "message_stop",
]);

/** What the relay must emit: the upstream events minus pings and unknown types, model rewritten. */
function expectedFrom(text: string): unknown[] {
  return upstreamEvents(text)
    .filter((event) => FORWARDED.has(String(event.type)))
    .map((event) =>
      event.type === "message_start"
        ? { ...event, message: { ...(event.message as object), model: "claude-gateway-alias" } }
        : event,
    );
}

describe("anthropic relay decodeStream: pass-through", () => {
  it("emits the thinking + text fixture exactly, minus pings, with the model rewritten", async () => {
    const events = await decode([bytes(fixture("thinking-text"))]);
    expect(events).toEqual([
      {
        type: "message_start",
        message: {
          id: "msg_01XFDUDYJgAACzvnptvVoYEL",
          type: "message",
          role: "assistant",
          model: "claude-gateway-alias",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: 2048,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 11500,
            cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
            output_tokens: 1,
            service_tier: "standard",
          },
        },
      },
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "thinking", thinking: "", signature: "" },
      },
      {
        type: "content_block_delta",
        index: 0,
        delta: { type: "thinking_delta", thinking: "Let me look at the café menu — 日本語 too 🎉" },
      },
      {
        type: "content_block_delta",
        index: 0,
        delta: { type: "thinking_delta", thinking: '\nThe answer is "Done."' },
      },
      {
        type: "content_block_delta",
        index: 0,
        delta: {
          type: "signature_delta",
          signature:
            "EqQBCkgIARABGAIiQL2Xm1c9n7QvZ3xW0k4bS0YkJ7m5nq0u1y5ZJm8Xh3b0Zk1yq3f0Jt+9pQ/aY8m3V2VtLw==",
        },
      },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Done. Café ☕ " } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "— 完了 🎉" } },
      { type: "content_block_stop", index: 1 },
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: {
          input_tokens: 2048,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 11500,
          output_tokens: 57,
        },
      },
      { type: "message_stop" },
    ]);
  });

  it.each(COMPLETE)(
    "%s: equals the upstream events except model rewrite, ping and unknown types",
    async (name) => {
      const text = fixture(name);
      const events = await decode([bytes(text)]);
      expect(events).toEqual(expectedFrom(text));
      expect(events.some((e) => e.type === "ping")).toBe(false);
      expect(events.at(-1)).toEqual({ type: "message_stop" });
    },
  );

  it("passes server-tool blocks and citations through and skips unknown event types", async () => {
    const events: unknown[] = await decode([bytes(fixture("server-tools"))]);
    const starts = events.filter((e) => (e as { type: string }).type === "content_block_start");
    expect(starts.map((e) => (e as { content_block: { type: string } }).content_block.type)).toEqual([
      "redacted_thinking",
      "server_tool_use",
      "web_search_tool_result",
      "text",
    ]);
    expect(events).toContainEqual({
      type: "content_block_delta",
      index: 3,
      delta: {
        type: "citations_delta",
        citation: {
          type: "web_search_result_location",
          cited_text: "Sunny, 24°C",
          url: "https://weather.example/nyc",
          title: "Weather in New York City",
          encrypted_index: "Eo8BCioIAhgBIiQyYjQ0OWJmZi1l",
        },
      },
    });
    expect(events.some((e) => (e as { type: string }).type === "content_block_annotation")).toBe(false);
  });

  it("keeps indexes and tool input pieces as the upstream sent them", async () => {
    const events = await decode([bytes(fixture("parallel-tools"))]);
    const pieces = events.flatMap((e) =>
      e.type === "content_block_delta" && e.delta.type === "input_json_delta"
        ? [[e.index, e.delta.partial_json]]
        : [],
    );
    expect(pieces).toEqual([
      [1, '{"file_path":"/x"}'],
      [2, '{"file_path"'],
      [2, ':"/y"}'],
    ]);
  });

  it("stops reading after message_stop and releases the body", async () => {
    let released = false;
    let pulledAfterStop = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        yield bytes(fixture("tool-use"));
        pulledAfterStop = true;
        yield bytes('event: message_start\ndata: {"type":"message_start","message":{}}\n\n');
      } finally {
        released = true;
      }
    }
    const events: StreamEvent[] = [];
    for await (const batch of provider.decodeStream(body(), ctx)) events.push(...batch);
    expect(events.at(-1)).toEqual({ type: "message_stop" });
    expect(pulledAfterStop).toBe(false);
    expect(released).toBe(true);
  });
});

describe("anthropic relay decodeStream: adversarial chunking", () => {
  it.each(COMPLETE)(
    "%s: one byte at a time, random sizes, CRLF and CR line ends give the same events",
    async (name) => {
      const text = fixture(name);
      const expected = expectedFrom(text);
      const data = bytes(text);
      expect(await decode(chunked(data, 1))).toEqual(expected);
      for (const seed of [1, 7, 42, 1234]) expect(await decode(randomChunked(data, seed))).toEqual(expected);
      expect(await decode(randomChunked(bytes(text.replace(/\n/g, "\r\n")), 3))).toEqual(expected);
      expect(await decode(chunked(bytes(text.replace(/\n/g, "\r")), 5))).toEqual(expected);
    },
  );

  it("splits every multi-byte character of the thinking fixture at each byte offset", async () => {
    const data = bytes(fixture("thinking-text"));
    const expected = expectedFrom(fixture("thinking-text"));
    // Cut the body in two at every offset: each cut lands inside some event, many inside UTF-8.
    for (let cut = 1; cut < data.length; cut += 1) {
      const events = await decode([data.subarray(0, cut), data.subarray(cut)]);
      if (JSON.stringify(events) !== JSON.stringify(expected)) expect(events).toEqual(expected);
    }
  });

  it("handles data split over several data: lines and an event name on a separate read", async () => {
    const text =
      'event: message_start\ndata: {"type":"message_start",\ndata: "message":{"id":"m","model":"x","content":[]}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const events = await decode([bytes("event: mess"), bytes(text.slice(11))]);
    expect(events).toEqual([
      { type: "message_start", message: { id: "m", model: "claude-gateway-alias", content: [] } },
      { type: "message_stop" },
    ]);
  });
});

describe("anthropic relay decodeStream: failures", () => {
  it("throws the mapped GatewayError on an in-band error, after the events before it", async () => {
    const { events, error } = await decodeUntilThrow([bytes(fixture("inband-error"))]);
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
    ]);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: "UPSTREAM_OVERLOADED_ERROR",
      type: "overloaded_error",
      status: 529,
      class: "transient",
      message: "Overloaded",
    });
  });

  it.each([
    ["overloaded_error", 529, "transient"],
    ["api_error", 500, "transient"],
    ["timeout_error", 504, "transient"],
    ["rate_limit_error", 429, "rate_limit"],
    ["invalid_request_error", 400, "permanent"],
    ["not_found_error", 404, "permanent"],
    ["request_too_large", 413, "permanent"],
    ["authentication_error", 401, "auth"],
    ["permission_error", 403, "auth"],
    ["billing_error", 402, "auth"],
    ["some_future_error", 500, "transient"],
  ])("in-band %s → status %i, class %s", async (type, status, klass) => {
    const text =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"x"}}\n\n' +
      `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message: `upstream says ${type}` } })}\n\n`;
    const { error } = await decodeUntilThrow([bytes(text)]);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      type: type === "some_future_error" ? "api_error" : type,
      status,
      class: klass,
      message: `upstream says ${type}`,
    });
  });

  it("an in-band error before message_start is still thrown as itself", async () => {
    const text =
      'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}\n\n';
    const { events, error } = await decodeUntilThrow([bytes(text)]);
    expect(events).toEqual([]);
    expect(error).toMatchObject({ type: "rate_limit_error", class: "rate_limit", message: "slow down" });
  });

  it("a body that ends without message_stop is UPSTREAM_TRUNCATED, never a complete answer", async () => {
    const { events, error } = await decodeUntilThrow([bytes(fixture("truncated"))]);
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
    ]);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "UPSTREAM_TRUNCATED", class: "transient" });
  });

  it.each([
    ["an empty body", ""],
    ["only pings", 'event: ping\ndata: {"type":"ping"}\n\n'],
    // message_stop without its terminating blank line is an incomplete event by the SSE rules.
    ["a final message_stop without its blank line", fixture("tool-use").trimEnd()],
  ])("%s is UPSTREAM_TRUNCATED", async (_name, text) => {
    const { error } = await decodeUntilThrow([bytes(text)]);
    expect(error).toMatchObject({ code: "UPSTREAM_TRUNCATED", class: "transient" });
  });

  it.each([
    ["data that is not JSON", 'event: message_start\ndata: {"type":"message_start",\n\n'],
    ["an OpenAI-style [DONE]", "data: [DONE]\n\n"],
    ["JSON without a type", 'data: {"message":{}}\n\n'],
    ["a JSON array", "data: [1,2]\n\n"],
    [
      "content before message_start",
      'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    ],
    ["message_start without message", 'data: {"type":"message_start"}\n\n'],
    [
      "a delta without index",
      'data: {"type":"message_start","message":{}}\n\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}\n\n',
    ],
    [
      "a block start without content_block",
      'data: {"type":"message_start","message":{}}\n\ndata: {"type":"content_block_start","index":0}\n\n',
    ],
    [
      "a second message_start",
      'data: {"type":"message_start","message":{}}\n\ndata: {"type":"message_start","message":{}}\n\n',
    ],
  ])("%s is UPSTREAM_MALFORMED", async (_name, text) => {
    const { error } = await decodeUntilThrow([bytes(text)]);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "UPSTREAM_MALFORMED", class: "transient" });
  });

  it("a transport error from the body propagates (the core wraps it)", async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield bytes(fixture("truncated"));
      throw new Error("socket hang up");
    }
    const events: StreamEvent[] = [];
    await expect(async () => {
      for await (const batch of provider.decodeStream(body(), ctx)) events.push(...batch);
    }).rejects.toThrow("socket hang up");
    expect(events).toHaveLength(3);
  });
});
