import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { createOpenAIProvider, type OpenAIOptions } from "../../src/providers/openai/index.js";
import {
  contextLengthExceeded,
  endAfter,
  errorAfter,
  type FakeOpenAI,
  insufficientQuota,
  malformedAfter,
  rateLimited,
  reasoningStream,
  reset,
  resetAfter,
  serverError,
  stallAfter,
  startFakeOpenAI,
  textStream,
  toolCallStream,
  withFirstByteDelay,
  withoutDone,
} from "../fakes/openai.js";
import { buildUpstream, type RequestContext } from "../helpers/upstream-body.js";

let fake: FakeOpenAI;
let strictFake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({
    validKeys: ["sk-a", "sk-b"],
    models: ["gpt-4.1", "o4-mini"],
    maxStallMs: 300,
  });
  strictFake = await startFakeOpenAI({ rejectStreamOptions: true, rejectMaxTokens: true });
});
afterAll(async () => {
  await fake.close();
  await strictFake.close();
});
beforeEach(() => {
  expect(fake.pending()).toBe(0);
});

function ctxOf(request: Record<string, unknown>, target: FakeOpenAI = fake, apiKey = "sk-a"): RequestContext {
  return {
    request: messagesRequestSchema.parse({ model: "claude-sonnet-4-6", max_tokens: 512, ...request }),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gpt-4.1",
    baseUrl: target.url,
    apiKey,
  };
}

interface Outcome {
  status: number;
  events: StreamEvent[];
  error: unknown;
}

/** One attempt the way the core runs it: buildRequest → HTTP → decodeStream / decodeError. */
async function attempt(ctx: RequestContext, options: OpenAIOptions = {}): Promise<Outcome> {
  const provider = createOpenAIProvider(options);
  const upstream = buildUpstream(provider, ctx);
  const init: RequestInit = { method: upstream.method, headers: upstream.headers };
  if (upstream.body !== undefined) init.body = upstream.body;
  const res = await fetch(upstream.url, init);
  if (!res.ok || res.body === null) {
    const error = provider.decodeError(res.status, Object.fromEntries(res.headers), await res.text());
    return { status: res.status, events: [], error };
  }
  const events: StreamEvent[] = [];
  try {
    for await (const batch of provider.decodeStream(res.body, ctx)) events.push(...batch);
  } catch (error) {
    return { status: res.status, events, error };
  }
  return { status: res.status, events, error: undefined };
}

async function post(
  target: FakeOpenAI,
  body: unknown,
  key = "sk-a",
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const user = (content: unknown) => ({ role: "user", content });

function toolUses(events: StreamEvent[]): Array<{ id: string; name: string; input: unknown }> {
  const out: Array<{ id: string; name: string; input: unknown }> = [];
  const json = new Map<number, string>();
  for (const e of events) {
    if (e.type === "content_block_start" && e.content_block.type === "tool_use") {
      out.push({ id: e.content_block.id, name: e.content_block.name, input: {} });
      json.set(e.index, "");
    } else if (e.type === "content_block_delta" && e.delta.type === "input_json_delta") {
      json.set(e.index, (json.get(e.index) ?? "") + e.delta.partial_json);
    } else if (e.type === "content_block_stop" && json.has(e.index)) {
      const last = out.at(-1);
      if (last !== undefined) last.input = JSON.parse(json.get(e.index) ?? "{}");
    }
  }
  return out;
}

function textOf(events: StreamEvent[]): string {
  return events
    .map((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? e.delta.text : ""))
    .join("");
}

function stopReason(events: StreamEvent[]): string | null | undefined {
  const delta = events.find((e) => e.type === "message_delta");
  return delta?.type === "message_delta" ? delta.delta.stop_reason : undefined;
}

describe("fake OpenAI: strictness", () => {
  it("rejects an assistant tool call that no tool message answers, with OpenAI's wording", async () => {
    const { status, json } = await post(fake, {
      model: "gpt-4.1",
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "Read", arguments: "{}" } }],
        },
        { role: "user", content: "next" },
      ],
    });
    expect(status).toBe(400);
    expect(json).toEqual({
      error: {
        message:
          "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
        type: "invalid_request_error",
        param: "messages.[1].role",
        code: null,
      },
    });
  });

  it("rejects object arguments, stray tool messages, bad roles, tool_choice without tools", async () => {
    const call = { id: "call_1", type: "function", function: { name: "Read", arguments: { a: 1 } } };
    const cases: Array<[unknown[], Record<string, unknown>, RegExp]> = [
      [
        [user("go"), { role: "assistant", content: null, tool_calls: [call] }],
        {},
        /expected a string, but got an object/,
      ],
      [
        [user("go"), { role: "tool", tool_call_id: "call_1", content: "x" }],
        {},
        /must be a response to a preceeding message/,
      ],
      [[{ role: "model", content: "x" }], {}, /Invalid value: 'model'/],
      [[user([{ type: "image", source: {} }])], {}, /Invalid value: 'image'/],
      [[user("go")], { tool_choice: "auto" }, /only allowed when 'tools' are specified/],
      [[user("go")], { stream_options: { include_usage: true } }, /only allowed when 'stream' is enabled/],
      [[], {}, /empty array/],
    ];
    for (const [messages, extra, wording] of cases) {
      const { status, json } = await post(fake, { model: "gpt-4.1", messages, ...extra });
      expect(status).toBe(400);
      expect(JSON.stringify(json)).toMatch(wording);
    }
    expect(fake.pending()).toBe(0);
  });

  it("checks Bearer keys and counts hits per key", async () => {
    const before = { a: fake.hits("sk-a"), bad: fake.hits("sk-bad") };
    const bad = await attempt(ctxOf({ messages: [user("hi")] }, fake, "sk-bad"));
    expect(bad.status).toBe(401);
    expect(bad.error).toMatchObject({ class: "auth", type: "authentication_error" });
    fake.enqueue(textStream("ok"));
    const good = await attempt(ctxOf({ messages: [user("hi")] }));
    expect(good.error).toBeUndefined();
    expect(fake.hits("sk-a") - before.a).toBe(1);
    expect(fake.hits("sk-bad") - before.bad).toBe(1);
  });

  it("lists models", async () => {
    const res = await fetch(`${fake.url}/v1/models`, { headers: { authorization: "Bearer sk-b" } });
    const json = (await res.json()) as { data: Array<{ id: string }> };
    expect(json.data.map((m) => m.id)).toEqual(["gpt-4.1", "o4-mini"]);
  });

  it("servers that reject stream_options / max_tokens: the matching options make the request pass", async () => {
    const denied = await attempt(ctxOf({ messages: [user("hi")] }, strictFake));
    expect(denied.status).toBe(400);
    expect(denied.error).toMatchObject({
      class: "permanent",
      message: expect.stringMatching(/stream_options/),
    });
    const legacy = await attempt(ctxOf({ messages: [user("hi")] }, strictFake), {
      streamOptions: false,
      maxTokensField: "max_tokens",
    });
    expect(legacy.status).toBe(400);
    expect(legacy.error).toMatchObject({ message: expect.stringMatching(/max_completion_tokens/) });
    strictFake.enqueue(textStream("fine"));
    const ok = await attempt(ctxOf({ messages: [user("hi")] }, strictFake), { streamOptions: false });
    expect(textOf(ok.events)).toBe("fine");
    expect(strictFake.requests.at(-1)?.body).not.toHaveProperty("stream_options");
  });

  it("a completion-token limit per model, in OpenAI's wording and naming the field sent", async () => {
    const limited = await startFakeOpenAI({ outputLimits: { "gpt-4.1": 16384 } });
    try {
      const body = (field: string, tokens: number, model = "gpt-4.1") => ({
        model,
        messages: [user("hi")],
        [field]: tokens,
      });
      const over = await post(limited, body("max_completion_tokens", 32000));
      expect(over).toEqual({
        status: 400,
        json: {
          error: {
            message:
              "max_completion_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
            type: "invalid_request_error",
            param: "max_completion_tokens",
            code: null,
          },
        },
      });
      const legacy = await post(limited, body("max_tokens", 32000));
      expect(legacy.json).toMatchObject({
        error: { message: expect.stringMatching(/^max_tokens is too large/) },
      });
      expect((await post(limited, body("max_completion_tokens", 16384))).status).toBe(200);
      expect((await post(limited, body("max_completion_tokens", 32000, "o4-mini"))).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("answers a non-streaming request with the accumulated chat.completion", async () => {
    fake.enqueue(toolCallStream([{ id: "call_q", name: "Read", arguments: { file_path: "/q" } }]));
    const { status, json } = await post(fake, { model: "gpt-4.1", messages: [user("hi")] });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      object: "chat.completion",
      model: "gpt-4.1",
      choices: [
        {
          message: {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_q", function: { name: "Read", arguments: '{"file_path":"/q"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
  });
});

describe("adapter against the fake", () => {
  it("a full tool round trip: call → result accepted → final text", async () => {
    fake.enqueue(
      toolCallStream(
        [
          { id: "call_r", name: "Read", arguments: { file_path: "/a" } },
          { id: "call_b", name: "Bash", arguments: { command: "ls -la" } },
        ],
        {
          preamble: "Reading.",
          interleave: true,
          fragments: 4,
          usage: { prompt: 300, completion: 40, cached: 100 },
        },
      ),
    );
    const first = await attempt(
      ctxOf({ messages: [user("go")], tools: [{ name: "Read" }, { name: "Bash" }] }),
    );
    expect(first.error).toBeUndefined();
    expect(stopReason(first.events)).toBe("tool_use");
    const calls = toolUses(first.events);
    expect(calls.map((c) => [c.name, c.input])).toEqual([
      ["Read", { file_path: "/a" }],
      ["Bash", { command: "ls -la" }],
    ]);
    const delta = first.events.find((e) => e.type === "message_delta");
    expect(delta).toMatchObject({
      usage: { input_tokens: 200, cache_read_input_tokens: 100, output_tokens: 40 },
    });

    fake.enqueue(reasoningStream("Both worked.", "All done."));
    const assistant = {
      role: "assistant",
      content: [{ type: "text", text: "Reading." }, ...calls.map((c) => ({ type: "tool_use", ...c }))],
    };
    const results = user([
      ...calls
        .reverse()
        .map((c) => ({ type: "tool_result", tool_use_id: c.id, content: `out of ${c.name}` })),
      { type: "text", text: "<system-reminder>x</system-reminder>" },
    ]);
    const second = await attempt(
      ctxOf({ messages: [user("go"), assistant, results], tools: [{ name: "Read" }, { name: "Bash" }] }),
    );
    expect(second.status).toBe(200);
    expect(second.error).toBeUndefined();
    expect(textOf(second.events)).toBe("All done.");
    expect(
      second.events.some((e) => e.type === "content_block_delta" && e.delta.type === "thinking_delta"),
    ).toBe(true);
    const sent = fake.requests.at(-1)?.body as { messages: Array<Record<string, unknown>> };
    expect(sent.messages.map((m) => [m.role, m.tool_call_id])).toEqual([
      ["user", undefined],
      ["assistant", undefined],
      ["tool", "call_r"],
      ["tool", "call_b"],
      ["user", undefined],
    ]);
  });

  it("Gemini-compat whole calls without index, without [DONE]", async () => {
    fake.enqueue(
      withoutDone(
        toolCallStream(
          [
            { id: "fc-1", name: "Read", arguments: { file_path: "/a" }, signature: "SIG" },
            { id: "fc-2", name: "Read", arguments: { file_path: "/b" } },
          ],
          { geminiCompat: true },
        ),
      ),
    );
    // Accepted only with `requireDone: false`; by default a missing [DONE] is a truncation.
    const out = await attempt(ctxOf({ messages: [user("go")] }), { requireDone: false });
    expect(out.error).toBeUndefined();
    expect(stopReason(out.events)).toBe("tool_use");
    expect(toolUses(out.events).map((c) => c.input)).toEqual([{ file_path: "/a" }, { file_path: "/b" }]);
  });

  it("first-byte delay is honoured", async () => {
    fake.enqueue(withFirstByteDelay(textStream("late"), 150));
    const t0 = Date.now();
    const out = await attempt(ctxOf({ messages: [user("hi")] }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(textOf(out.events)).toBe("late");
  });

  it.each([
    ["a body that ends early", () => endAfter(textStream(["a", "b", "c"]), 2), "UPSTREAM_TRUNCATED"],
    [
      "a stall the fake ends by destroying the socket",
      () => stallAfter(textStream(["a", "b"]), 2),
      undefined,
    ],
    ["a reset mid-body", () => resetAfter(textStream(["a", "b"]), 2), undefined],
    ["an in-band error", () => errorAfter(textStream(["a", "b"]), 2), "UPSTREAM_SERVER_ERROR"],
    ["a chunk that is not JSON", () => malformedAfter(textStream(["a", "b"]), 2), "UPSTREAM_MALFORMED"],
  ])("%s never looks like a complete answer", async (_name, script, code) => {
    fake.enqueue(script());
    const out = await attempt(ctxOf({ messages: [user("hi")] }));
    expect(out.error).toBeDefined();
    expect(out.events.some((e) => e.type === "message_stop")).toBe(false);
    if (code !== undefined) {
      expect(out.error).toBeInstanceOf(GatewayError);
      expect((out.error as GatewayError).code).toBe(code);
      expect((out.error as GatewayError).class).toBe("transient");
    }
  });

  it("a reset before any answer fails the fetch", async () => {
    fake.enqueue(reset());
    await expect(attempt(ctxOf({ messages: [user("hi")] }))).rejects.toThrow();
  });

  it.each([
    ["429 + Retry-After", () => rateLimited(3), { class: "rate_limit", retryAfterSeconds: 3 }],
    ["insufficient_quota", () => insufficientQuota(), { class: "rate_limit", retryAfterSeconds: 3600 }],
    [
      "context overflow",
      () => contextLengthExceeded(128000, 130000),
      { message: "prompt is too long: 130000 tokens > 128000 maximum" },
    ],
    ["503", () => serverError(503), { class: "transient", type: "overloaded_error" }],
  ])("HTTP error: %s", async (_name, script, expected) => {
    fake.enqueue(script());
    const out = await attempt(ctxOf({ messages: [user("hi")] }));
    expect(out.error).toMatchObject(expected);
  });
});
