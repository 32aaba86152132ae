import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { AttemptContext } from "../../src/core/provider.js";
import type { StopReason, StreamEvent, Usage } from "../../src/protocol/anthropic/types.js";
import { mapFinishReason } from "../../src/providers/openai/map-finish-reason.js";
import { decodeChatStream } from "../../src/providers/openai/stream.js";
import { decodeToolUseId, encodeToolUseId } from "../../src/providers/openai/tool-ids.js";
import { bytesBody, decodeContext } from "../helpers/streams.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/openai");
const REQUESTED = "claude-sonnet-4-6";

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

function ctxFor(upstreamModel = "gpt-4.1"): AttemptContext {
  return decodeContext(REQUESTED, upstreamModel, "https://api.openai.com", "sk-test");
}

interface Run {
  events: StreamEvent[];
  error: GatewayError | undefined;
}

/** Decode, normalising the random message id and synthesized tool-call ids. */
async function run(
  bytes: Uint8Array,
  cuts: readonly number[] = [],
  upstreamModel?: string,
  requireDone = true,
): Promise<Run> {
  const events: StreamEvent[] = [];
  let error: GatewayError | undefined;
  try {
    for await (const batch of decodeChatStream(bytesBody(bytes, cuts), ctxFor(upstreamModel), requireDone))
      events.push(...batch);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    error = err;
  }
  return { events: events.map(normalise), error };
}

function normalise(event: StreamEvent): StreamEvent {
  if (event.type === "message_start") return { ...event, message: { ...event.message, id: "msg_test" } };
  if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
    const ref = decodeToolUseId(event.content_block.id);
    if (ref !== undefined && /^call_[0-9A-Za-z]{24}$/.test(ref.id)) {
      return { ...event, content_block: { ...event.content_block, id: "synthesized" } };
    }
  }
  return event;
}

const ZERO: Usage = {
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
};

const start = (): StreamEvent => ({
  type: "message_start",
  message: {
    id: "msg_test",
    type: "message",
    role: "assistant",
    model: REQUESTED,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { ...ZERO, output_tokens: 1 },
  },
});
const textStart = (index: number): StreamEvent => ({
  type: "content_block_start",
  index,
  content_block: { type: "text", text: "" },
});
const text = (index: number, t: string): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "text_delta", text: t },
});
const thinkingStart = (index: number): StreamEvent => ({
  type: "content_block_start",
  index,
  content_block: { type: "thinking", thinking: "", signature: "" },
});
const thinking = (index: number, t: string): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "thinking_delta", thinking: t },
});
const signature = (index: number): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "signature_delta", signature: "oa1" },
});
const stop = (index: number): StreamEvent => ({ type: "content_block_stop", index });
const tool = (index: number, id: string, name: string, json: string): StreamEvent[] => [
  { type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } },
  { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: json } },
  { type: "content_block_stop", index },
];
const end = (reason: StopReason, usage: Partial<Usage> = {}): StreamEvent[] => [
  {
    type: "message_delta",
    delta: { stop_reason: reason, stop_sequence: null },
    usage: { ...ZERO, ...usage },
  },
  { type: "message_stop" },
];
const oa = (id: string): string => encodeToolUseId({ id });

interface Case {
  file: string;
  upstreamModel?: string;
  /** The fixture has no `[DONE]`: decoded with the `requireDone: false` option. */
  noDone?: true;
  events: StreamEvent[];
  error?: { code: string; class: string; type?: string };
}

const CASES: Case[] = [
  {
    file: "text.sse",
    events: [
      start(),
      textStart(0),
      text(0, "Héllo ✓ "),
      text(0, "日本語 🎉"),
      stop(0),
      ...end("end_turn", { input_tokens: 176, output_tokens: 80, cache_read_input_tokens: 1024 }),
    ],
  },
  {
    file: "deepseek-reasoning.sse",
    events: [
      start(),
      thinkingStart(0),
      thinking(0, "The user asks"),
      thinking(0, " for 2+2."),
      signature(0),
      stop(0),
      textStart(1),
      text(1, "4"),
      stop(1),
      ...end("end_turn", { input_tokens: 30, output_tokens: 12 }),
    ],
  },
  {
    file: "tool-call-fragments.sse",
    events: [
      start(),
      textStart(0),
      text(0, "Let me read it."),
      stop(0),
      ...tool(1, oa("call_a"), "Read", '{"file_path":"/src/ä.ts"}'),
      ...end("tool_use", { input_tokens: 500, output_tokens: 25 }),
    ],
  },
  {
    file: "parallel-interleaved.sse",
    events: [
      start(),
      ...tool(0, oa("call_a"), "Read", '{"file_path":"/x"}'),
      ...tool(1, oa("call_b"), "Read", '{"file_path":"/y"}'),
      ...tool(2, oa("call_c"), "Glob", "{}"),
      ...end("tool_use", { input_tokens: 176, output_tokens: 80, cache_read_input_tokens: 1024 }),
    ],
  },
  {
    file: "gemini-compat.sse",
    upstreamModel: "gemini-3-pro-preview",
    events: [
      start(),
      textStart(0),
      text(0, "Checking both files."),
      stop(0),
      ...tool(
        1,
        encodeToolUseId({ id: "function-call-1", signature: "CiQBsig1", model: "gemini-3-pro-preview" }),
        "Read",
        '{"file_path":"/a"}',
      ),
      ...tool(2, oa("function-call-2"), "Read", '{"file_path":"/b"}'),
      ...end("tool_use", { input_tokens: 900, output_tokens: 40 }),
    ],
  },
  {
    file: "relay-index-zero.sse",
    noDone: true,
    events: [
      start(),
      ...tool(0, oa("call_1"), "Bash", '{"command":"ls"}'),
      ...tool(1, oa("call_2"), "Bash", '{"command":"pwd"}'),
      ...tool(2, oa("call_3"), "TodoWrite", "{}"),
      ...end("tool_use"),
    ],
  },
  {
    file: "openrouter-reasoning.sse",
    events: [
      start(),
      thinkingStart(0),
      thinking(0, "Thinking about it"),
      signature(0),
      stop(0),
      textStart(1),
      text(1, "Answer."),
      stop(1),
      ...end("max_tokens", { input_tokens: 42, output_tokens: 100 }),
    ],
  },
  {
    file: "ollama-no-done.sse",
    noDone: true,
    events: [
      start(),
      thinkingStart(0),
      thinking(0, "Okay"),
      signature(0),
      stop(0),
      ...tool(1, oa("call_x1"), "Glob", "{}"),
      ...end("tool_use"),
    ],
  },
  {
    file: "content-filter.sse",
    events: [start(), textStart(0), text(0, "I can"), stop(0), ...end("refusal")],
  },
  {
    file: "length-cut-tool.sse",
    events: [
      start(),
      ...tool(0, oa("call_ok"), "Read", '{"file_path":"/a"}'),
      ...end("max_tokens", { input_tokens: 10, output_tokens: 4096 }),
    ],
  },
  {
    file: "no-index-no-id.sse",
    events: [
      start(),
      ...tool(0, "synthesized", "Read", '{"file_path":"/a"}'),
      ...tool(1, "synthesized", "Read", '{"file_path":"/b"}'),
      textStart(2),
      text(2, "Done."),
      stop(2),
      ...end("tool_use"),
    ],
  },
  {
    file: "truncated.sse",
    events: [start(), textStart(0), text(0, "Partial"), text(0, " answer")],
    error: { code: "UPSTREAM_TRUNCATED", class: "transient" },
  },
  {
    file: "mid-stream-error.sse",
    events: [start(), textStart(0), text(0, "Start")],
    error: { code: "UPSTREAM_OVERLOADED", class: "transient", type: "overloaded_error" },
  },
  {
    file: "bad-arguments.sse",
    events: [start()],
    error: { code: "UPSTREAM_MALFORMED", class: "transient" },
  },
];

function expectCase(result: Run, c: Case): void {
  expect(result.events).toEqual(c.events);
  if (c.error === undefined) {
    expect(result.error).toBeUndefined();
  } else {
    expect(result.error).toBeInstanceOf(GatewayError);
    expect(result.error?.code).toBe(c.error.code);
    expect(result.error?.class).toBe(c.error.class);
    if (c.error.type !== undefined) expect(result.error?.type).toBe(c.error.type);
  }
}

describe("decodeChatStream: recorded fixtures", () => {
  for (const c of CASES) {
    it(`${c.file} → exact events`, async () => {
      expectCase(await run(fixture(c.file), [], c.upstreamModel, c.noDone !== true), c);
    });
    if (c.noDone === true) {
      it(`${c.file}: without [DONE] the default is an error, never a clean success`, async () => {
        const result = await run(fixture(c.file), [], c.upstreamModel);
        expect(result.error?.code).toBe("UPSTREAM_TRUNCATED");
        expect(result.events.map((e) => e.type)).not.toContain("message_stop");
      });
    }
  }
});

describe("decodeChatStream: adversarial chunking", () => {
  for (const c of CASES) {
    it(`${c.file}: split at every byte boundary → same events`, async () => {
      const bytes = fixture(c.file);
      for (let cut = 1; cut < bytes.length; cut++)
        expectCase(await run(bytes, [cut], c.upstreamModel, c.noDone !== true), c);
    });
    it(`${c.file}: one byte per read, and with \\r\\n line ends`, async () => {
      const bytes = fixture(c.file);
      const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
      expectCase(await run(bytes, everyByte, c.upstreamModel, c.noDone !== true), c);
      const crlf = new TextEncoder().encode(new TextDecoder().decode(bytes).replace(/\n/g, "\r\n"));
      expectCase(await run(crlf, [7, 100, 101, 333], c.upstreamModel, c.noDone !== true), c);
    });
  }
});

function sse(...chunks: unknown[]): Uint8Array {
  return new TextEncoder().encode(
    chunks.map((c) => `data: ${typeof c === "string" ? c : JSON.stringify(c)}\n\n`).join(""),
  );
}

const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
  choices: [{ index: 0, delta: d, finish_reason: finish }],
});

describe("decodeChatStream: edge cases", () => {
  it("an empty body is truncated, not an empty answer", async () => {
    const result = await run(new Uint8Array());
    expect(result.events).toEqual([]);
    expect(result.error?.code).toBe("UPSTREAM_TRUNCATED");
  });

  it("[DONE] without finish_reason finishes the turn", async () => {
    const result = await run(sse(delta({ content: "ok" }), "[DONE]"));
    expect(result.error).toBeUndefined();
    expect(result.events).toEqual([start(), textStart(0), text(0, "ok"), stop(0), ...end("end_turn")]);
  });

  it("ignores anything after [DONE]", async () => {
    const result = await run(sse(delta({ content: "a" }, "stop"), "[DONE]", "not json at all"));
    expect(result.error).toBeUndefined();
    expect(result.events.at(-1)).toEqual({ type: "message_stop" });
  });

  it("a chunk that is not JSON is UPSTREAM_MALFORMED", async () => {
    const result = await run(sse(delta({ content: "a" }), "{not json"));
    expect(result.events).toEqual([start(), textStart(0), text(0, "a")]);
    expect(result.error?.code).toBe("UPSTREAM_MALFORMED");
    expect(result.error?.class).toBe("transient");
  });

  it("an error object before any content throws before message_start", async () => {
    const result = await run(
      sse({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }),
    );
    expect(result.events).toEqual([]);
    expect(result.error?.class).toBe("rate_limit");
    expect(result.error?.status).toBe(429);
  });

  it('finish_reason "error" without an error object is a transient failure', async () => {
    const result = await run(sse(delta({ content: "a" }), delta({}, "error")));
    expect(result.error?.code).toBe("UPSTREAM_ERROR");
    expect(result.error?.class).toBe("transient");
  });

  it("reads reasoning_content, not also reasoning, when a server sends both", async () => {
    const result = await run(sse(delta({ reasoning_content: "r", reasoning: "r" }, "stop"), "[DONE]"));
    expect(result.events).toEqual([
      start(),
      thinkingStart(0),
      thinking(0, "r"),
      signature(0),
      stop(0),
      ...end("end_turn"),
    ]);
  });

  it("arguments sent as null (no-arg tool) become {}", async () => {
    const call = { index: 0, id: "call_n", type: "function", function: { name: "Now", arguments: "null" } };
    const result = await run(sse(delta({ tool_calls: [call] }, "tool_calls"), "[DONE]"));
    expect(result.events).toEqual([start(), ...tool(0, oa("call_n"), "Now", "{}"), ...end("tool_use")]);
  });

  it("a call with no function name is malformed", async () => {
    const call = { index: 0, id: "call_q", type: "function", function: { arguments: "{}" } };
    const result = await run(sse(delta({ tool_calls: [call] }, "tool_calls"), "[DONE]"));
    expect(result.error?.code).toBe("UPSTREAM_MALFORMED");
  });

  it("text between a finished call and the next one keeps upstream order", async () => {
    const a = { index: 0, id: "call_a", type: "function", function: { name: "A", arguments: '{"x":1}' } };
    const b = { index: 1, id: "call_b", type: "function", function: { name: "B", arguments: "{}" } };
    const result = await run(
      sse(
        delta({ tool_calls: [a] }),
        delta({ content: "and" }),
        delta({ tool_calls: [b] }, "tool_calls"),
        "[DONE]",
      ),
    );
    expect(result.events).toEqual([
      start(),
      ...tool(0, oa("call_a"), "A", '{"x":1}'),
      textStart(1),
      text(1, "and"),
      stop(1),
      ...tool(2, oa("call_b"), "B", "{}"),
      ...end("tool_use"),
    ]);
  });

  it("usage repeated on every chunk (vLLM continuous usage) keeps the latest totals", async () => {
    const u = (p: number, c: number) => ({ prompt_tokens: p, completion_tokens: c, total_tokens: p + c });
    const result = await run(
      sse(
        { ...delta({ content: "a" }), usage: u(10, 1) },
        { ...delta({}, "stop"), usage: u(10, 2) },
        "[DONE]",
      ),
    );
    expect(result.events.at(-2)).toEqual(end("end_turn", { input_tokens: 10, output_tokens: 2 })[0]);
  });
});

describe("mapFinishReason", () => {
  it.each([
    ["stop", false, "end_turn"],
    ["stop", true, "tool_use"],
    [undefined, true, "tool_use"],
    ["tool_calls", true, "tool_use"],
    ["tool_calls", false, "end_turn"],
    ["function_call", true, "tool_use"],
    ["length", false, "max_tokens"],
    ["length", true, "max_tokens"],
    ["content_filter", false, "refusal"],
    ["eos", false, "end_turn"],
  ] as const)("%s (calls: %s) → %s", (reason, calls, expected) => {
    expect(mapFinishReason(reason, calls)).toBe(expected);
  });
});
