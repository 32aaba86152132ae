import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { AttemptContext } from "../../src/core/provider.js";
import { accumulateMessage } from "../../src/protocol/anthropic/accumulate.js";
import type { StreamEvent, Usage } from "../../src/protocol/anthropic/types.js";
import { mapGeminiFinishReason } from "../../src/providers/gemini/map-finish-reason.js";
import {
  type CallInfo,
  decodeThinkingSignature,
  decodeToolUseId,
  encodeThinkingSignature,
} from "../../src/providers/gemini/signatures.js";
import { decodeGeminiStream } from "../../src/providers/gemini/stream.js";
import { mapGeminiUsage } from "../../src/providers/gemini/usage.js";
import { bytesBody, decodeContext } from "../helpers/streams.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/gemini");
const REQUESTED = "claude-sonnet-4-6";

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

function ctxFor(upstreamModel: string): AttemptContext {
  return decodeContext(REQUESTED, upstreamModel, "https://generativelanguage.googleapis.com", "test-key");
}

function sse(...chunks: unknown[]): Uint8Array {
  return new TextEncoder().encode(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(""));
}

interface Run {
  events: StreamEvent[];
  error: GatewayError | undefined;
}

async function run(bytes: Uint8Array, model: string, cuts: readonly number[] = []): Promise<Run> {
  const events: StreamEvent[] = [];
  try {
    for await (const batch of decodeGeminiStream(bytesBody(bytes, cuts), ctxFor(model)))
      events.push(...batch);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { events, error: err };
  }
  return { events, error: undefined };
}

/**
 * Random parts of the events (message id, the nonce inside tool ids) replaced by stable
 * placeholders; the decoded tool ids are returned next to them.
 */
function normalize(events: StreamEvent[]): { events: StreamEvent[]; calls: (CallInfo | undefined)[] } {
  const calls: (CallInfo | undefined)[] = [];
  const out = events.map((event): StreamEvent => {
    if (event.type === "message_start") return { ...event, message: { ...event.message, id: "msg_X" } };
    if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
      calls.push(decodeToolUseId(event.content_block.id));
      return { ...event, content_block: { ...event.content_block, id: `toolu#${calls.length - 1}` } };
    }
    return event;
  });
  return { events: out, calls };
}

function start(usage: Usage): StreamEvent {
  return {
    type: "message_start",
    message: {
      id: "msg_X",
      type: "message",
      role: "assistant",
      model: REQUESTED,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  };
}
const usage = (input: number, output: number, cacheRead = 0): Usage => ({
  input_tokens: input,
  output_tokens: output,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: cacheRead,
});
const textStart = (index: number): StreamEvent => ({
  type: "content_block_start",
  index,
  content_block: { type: "text", text: "" },
});
const thinkingStart = (index: number): StreamEvent => ({
  type: "content_block_start",
  index,
  content_block: { type: "thinking", thinking: "", signature: "" },
});
const toolStart = (index: number, name: string): StreamEvent => ({
  type: "content_block_start",
  index,
  content_block: { type: "tool_use", id: "toolu#?", name, input: {} },
});
const text = (index: number, t: string): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "text_delta", text: t },
});
const thought = (index: number, t: string): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "thinking_delta", thinking: t },
});
const signature = (index: number, s: string): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "signature_delta", signature: s },
});
const json = (index: number, input: unknown): StreamEvent => ({
  type: "content_block_delta",
  index,
  delta: { type: "input_json_delta", partial_json: JSON.stringify(input) },
});
const stop = (index: number): StreamEvent => ({ type: "content_block_stop", index });
const finish = (stopReason: "end_turn" | "tool_use" | "max_tokens" | "refusal", u: Usage): StreamEvent[] => [
  { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: u },
  { type: "message_stop" },
];

/** Tool starts with ids numbered in call order (matches `normalize`). */
function withToolIds(events: StreamEvent[]): StreamEvent[] {
  let n = 0;
  return events.map((e) =>
    e.type === "content_block_start" && e.content_block.type === "tool_use"
      ? { ...e, content_block: { ...e.content_block, id: `toolu#${n++}` } }
      : e,
  );
}

/** Signatures copied from the fixtures (what Gemini put in `thoughtSignature`). */
function signaturesIn(name: string): string[] {
  const raw = new TextDecoder().decode(fixture(name));
  return [...raw.matchAll(/"thoughtSignature": "([^"]+)"/g)].map((m) => m[1] ?? "");
}

describe("decodeGeminiStream: recorded fixtures", () => {
  it("plain text in several chunks", async () => {
    const { events, error } = await run(fixture("text.sse"), "gemini-2.5-flash");
    expect(error).toBeUndefined();
    expect(normalize(events).events).toEqual([
      start(usage(14, 620)),
      textStart(0),
      text(0, "Voilà — a haiku about autumn 🍁"),
      text(0, ":\n\nCrisp leaves drift and fall,\n紅葉 glows on the"),
      text(0, " hillside —\nthe year exhales slow. 🌕"),
      stop(0),
      ...finish("end_turn", usage(14, 647)),
    ]);
  });

  it("thinking then text: one signature_delta right before the thinking block's stop", async () => {
    const model = "gemini-3-pro-preview";
    const { events, error } = await run(fixture("thinking-text.sse"), model);
    expect(error).toBeUndefined();
    // The thought parts carry no signature; the trailing empty-text part's one is dropped (F.6).
    const sig = encodeThinkingSignature(model, undefined);
    expect(normalize(events).events).toEqual([
      start(usage(21, 48)),
      thinkingStart(0),
      thought(0, "**Identifying the capital**\n\nThe user asks for the capital of France. "),
      thought(0, "That is Paris; I'll answer briefly."),
      signature(0, sig),
      stop(0),
      textStart(1),
      text(1, "The capital of France is"),
      text(1, " **Paris**."),
      stop(1),
      ...finish("end_turn", usage(21, 107)),
    ]);
    expect(decodeThinkingSignature(sig)).toEqual({ model });
  });

  it("single function call (Gemini 3): tool_use id carries signature, Gemini id and model", async () => {
    const model = "gemini-3-pro-preview";
    const { events, error } = await run(fixture("function-call.sse"), model);
    expect(error).toBeUndefined();
    const { events: norm, calls } = normalize(events);
    expect(norm).toEqual(
      withToolIds([
        start(usage(1834, 64)),
        thinkingStart(0),
        thought(0, "**Locating the configuration**\n\nI need to read `src/app.ts` before changing it."),
        signature(0, encodeThinkingSignature(model, undefined)),
        stop(0),
        toolStart(1, "Read"),
        json(1, { file_path: "/work/src/app.ts" }),
        stop(1),
        ...finish("tool_use", usage(1834, 154)),
      ]),
    );
    const [sig] = signaturesIn("function-call.sse");
    expect(sig).toMatch(/^C[A-Za-z0-9+/]+=*$/);
    expect(calls).toEqual([{ signature: sig, geminiId: "dq7rv2ab", model }]);
  });

  it("parallel calls: one tool_use per call, in order; only the first has a signature", async () => {
    const model = "gemini-3-flash-preview";
    const { events, error } = await run(fixture("parallel-calls.sse"), model);
    expect(error).toBeUndefined();
    const { events: norm, calls } = normalize(events);
    expect(norm).toEqual(
      withToolIds([
        start(usage(2210, 99)),
        textStart(0),
        text(0, "I'll read both files and list the directory."),
        stop(0),
        toolStart(1, "Read"),
        json(1, { file_path: "/work/a.ts" }),
        stop(1),
        toolStart(2, "Read"),
        json(2, { file_path: "/work/b.ts" }),
        stop(2),
        toolStart(3, "Bash"),
        json(3, { command: 'ls -la "/work/dir with spaces"', description: "List files" }),
        stop(3),
        ...finish("tool_use", usage(2210, 149)),
      ]),
    );
    const [sig] = signaturesIn("parallel-calls.sse");
    expect(calls).toEqual([
      { signature: sig, geminiId: "k3n8w1zc", model },
      { geminiId: "p0x4m6vd", model },
      { geminiId: "h9s2q5te", model },
    ]);
    const ids = events.flatMap((e) =>
      e.type === "content_block_start" && e.content_block.type === "tool_use" ? [e.content_block.id] : [],
    );
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^toolu_[A-Za-z0-9_-]+$/);
  });

  it("MAX_TOKENS → max_tokens", async () => {
    const { events, error } = await run(fixture("max-tokens.sse"), "gemini-2.5-flash");
    expect(error).toBeUndefined();
    expect(normalize(events).events).toEqual([
      start(usage(12, 21)),
      textStart(0),
      text(0, "Here is a long list of primes: 2, 3, 5, 7, 11,"),
      text(0, " 13, 17, 19, 23, 29, 31"),
      stop(0),
      ...finish("max_tokens", usage(12, 32)),
    ]);
  });

  it("SAFETY → refusal, text so far kept", async () => {
    const { events, error } = await run(fixture("safety.sse"), "gemini-2.5-flash");
    expect(error).toBeUndefined();
    expect(normalize(events).events).toEqual([
      start(usage(31, 408)),
      textStart(0),
      text(0, "Sure, here is an overview of"),
      stop(0),
      ...finish("refusal", usage(31, 408)),
    ]);
  });

  it("MALFORMED_FUNCTION_CALL → transient UPSTREAM_MALFORMED, never a silent end_turn", async () => {
    const { events, error } = await run(fixture("malformed-function-call.sse"), "gemini-2.5-pro");
    expect(normalize(events).events).toEqual([start(usage(4120, 220))]);
    expect(error).toMatchObject({
      code: "UPSTREAM_MALFORMED",
      class: "transient",
      status: 502,
      type: "api_error",
    });
    expect(error?.message).toContain("MALFORMED_FUNCTION_CALL");
    expect(error?.message).toContain("Malformed function call: print(default_api.Bash(");
  });

  it("prompt blocked (promptFeedback, no candidates) → valid refusal explaining the reason", async () => {
    const { events, error } = await run(fixture("prompt-blocked.sse"), "gemini-2.5-flash");
    expect(error).toBeUndefined();
    expect(normalize(events).events).toEqual([
      start(usage(57, 1)),
      textStart(0),
      text(0, "Gemini blocked the prompt (PROHIBITED_CONTENT)"),
      stop(0),
      ...finish("refusal", usage(57, 0)),
    ]);
  });

  it("cached tokens: input excludes the cache, cache_read carries it (F.8)", async () => {
    const { events, error } = await run(fixture("cached-usage.sse"), "gemini-2.5-pro");
    expect(error).toBeUndefined();
    const norm = normalize(events).events;
    expect(norm[0]).toEqual(start(usage(12034 - 8192, 5 + 412, 8192)));
    expect(norm.slice(-2)).toEqual(finish("end_turn", usage(3842, 35 + 412, 8192)));
  });

  it("mid-stream error chunk → the mapped error after the content so far", async () => {
    const { events, error } = await run(fixture("error-mid-stream.sse"), "gemini-2.5-flash");
    expect(normalize(events).events).toEqual([
      start(usage(40, 127)),
      textStart(0),
      text(0, "Let me explain how the cache"),
    ]);
    expect(error).toMatchObject({
      code: "UPSTREAM_OVERLOADED",
      class: "transient",
      status: 529,
      type: "overloaded_error",
      upstreamStatus: 503,
      message: "Gemini: The model is overloaded. Please try again later.",
    });
  });

  it("truncated (no finishReason) → transient UPSTREAM_TRUNCATED, no message_stop", async () => {
    const { events, error } = await run(fixture("truncated.sse"), "gemini-2.5-flash");
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
    ]);
    expect(error).toMatchObject({ code: "UPSTREAM_TRUNCATED", class: "transient", status: 502 });
  });
});

describe("decodeGeminiStream: accumulated result", () => {
  it("function call turn accumulates to thinking + tool_use with the parsed input", async () => {
    const model = "gemini-3-pro-preview";
    const message = await accumulateMessage(
      decodeGeminiStream(bytesBody(fixture("function-call.sse")), ctxFor(model)),
    );
    const [, toolUse] = message.content;
    expect(message).toMatchObject({
      model: REQUESTED,
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: usage(1834, 154),
      content: [
        {
          type: "thinking",
          thinking: "**Locating the configuration**\n\nI need to read `src/app.ts` before changing it.",
          signature: encodeThinkingSignature(model, undefined),
        },
        { type: "tool_use", name: "Read", input: { file_path: "/work/src/app.ts" } },
      ],
    });
    expect(toolUse?.type === "tool_use" && decodeToolUseId(toolUse.id)?.geminiId).toBe("dq7rv2ab");
  });

  it("text turn accumulates to the concatenated text", async () => {
    const message = await accumulateMessage(decodeGeminiStream(bytesBody(fixture("text.sse")), ctxFor("m")));
    expect(message.content).toEqual([
      {
        type: "text",
        text: "Voilà — a haiku about autumn 🍁:\n\nCrisp leaves drift and fall,\n紅葉 glows on the hillside —\nthe year exhales slow. 🌕",
      },
    ]);
    expect(message.stop_reason).toBe("end_turn");
  });

  it("parallel calls accumulate to four blocks, inputs parsed", async () => {
    const message = await accumulateMessage(
      decodeGeminiStream(bytesBody(fixture("parallel-calls.sse")), ctxFor("gemini-3-flash-preview")),
    );
    expect(message.content.map((b) => (b.type === "tool_use" ? b.input : b.type))).toEqual([
      "text",
      { file_path: "/work/a.ts" },
      { file_path: "/work/b.ts" },
      { command: 'ls -la "/work/dir with spaces"', description: "List files" },
    ]);
  });
});

/** Small deterministic PRNG so a failing random split can be reproduced. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALL_FIXTURES = [
  "text.sse",
  "thinking-text.sse",
  "function-call.sse",
  "parallel-calls.sse",
  "max-tokens.sse",
  "safety.sse",
  "malformed-function-call.sse",
  "prompt-blocked.sse",
  "cached-usage.sse",
  "error-mid-stream.sse",
  "truncated.sse",
];

describe("decodeGeminiStream: adversarial chunking gives identical events", () => {
  const model = "gemini-3-pro-preview";
  const summary = async (bytes: Uint8Array, cuts: readonly number[]) => {
    const { events, error } = await run(bytes, model, cuts);
    return { ...normalize(events), error: error && { code: error.code, message: error.message } };
  };

  for (const name of ALL_FIXTURES) {
    it(`${name}: every split point, one byte per read, and random splits`, async () => {
      const bytes = fixture(name);
      const reference = await summary(bytes, []);
      expect(reference.events.length).toBeGreaterThan(0);
      for (let cut = 1; cut < bytes.length; cut++) {
        const got = await summary(bytes, [cut]);
        if (JSON.stringify(got) !== JSON.stringify(reference))
          expect({ cut, ...got }).toEqual({ cut, ...reference });
      }
      const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
      expect(await summary(bytes, everyByte)).toEqual(reference);
      const random = mulberry32(bytes.length);
      for (let round = 0; round < 100; round++) {
        const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () =>
          Math.floor(random() * bytes.length),
        );
        const got = await summary(bytes, cuts);
        if (JSON.stringify(got) !== JSON.stringify(reference))
          expect({ cuts, ...got }).toEqual({ cuts, ...reference });
      }
    });
  }

  it("the split points really include multi-byte UTF-8 and \\r|\\n boundaries", () => {
    const bytes = fixture("text.sse");
    let insideUtf8 = 0;
    let betweenCrLf = 0;
    for (let i = 1; i < bytes.length; i++) {
      if (((bytes[i] ?? 0) & 0xc0) === 0x80) insideUtf8++;
      if (bytes[i - 1] === 0x0d && bytes[i] === 0x0a) betweenCrLf++;
    }
    expect(insideUtf8).toBeGreaterThan(10);
    expect(betweenCrLf).toBe(6);
  });

  it("\\n\\n and \\r\\r separators decode the same as \\r\\n\\r\\n", async () => {
    const crlf = new TextDecoder().decode(fixture("thinking-text.sse"));
    const reference = await summary(fixture("thinking-text.sse"), []);
    const lf = new TextEncoder().encode(crlf.replaceAll("\r\n", "\n"));
    expect(await summary(lf, [])).toEqual(reference);
    // `\r\r` between events; the stream's very last separator stays `\r\n\r\n` because a
    // trailing lone `\r` at end of body is held by eventsource-parser (reported to sse-decode).
    const cr = crlf
      .replace(/\r\n\r\n$/, "\u0000")
      .replaceAll("\r\n", "\r")
      .replace("\u0000", "\r\n\r\n");
    const crBytes = new TextEncoder().encode(cr);
    expect(await summary(crBytes, [])).toEqual(reference);
    for (let cut = 1; cut < crBytes.length; cut++) {
      const got = await summary(crBytes, [cut]);
      if (JSON.stringify(got) !== JSON.stringify(reference))
        expect({ cut, ...got }).toEqual({ cut, ...reference });
    }
  });
});

describe("decodeGeminiStream: behaviour", () => {
  it("emits each chunk's events before the next chunk is read (no buffering)", async () => {
    const raw = new TextDecoder().decode(fixture("text.sse"));
    const pieces = raw.split(/(?<=\r\n\r\n)/).map((p) => new TextEncoder().encode(p));
    expect(pieces).toHaveLength(3);
    let pulled = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (const piece of pieces) {
        pulled++;
        yield piece;
      }
    }
    const seenAt: number[] = [];
    for await (const batch of decodeGeminiStream(body(), ctxFor("m"))) {
      for (const event of batch) if (event.type === "content_block_delta") seenAt.push(pulled);
    }
    expect(seenAt).toEqual([1, 2, 3]);
  });

  it("thinking signatures: set on the first part, replaced by a later one, fresh per block", async () => {
    const model = "gemini-3-flash-preview";
    const c = (parts: unknown[], finishReason?: string) => ({
      candidates: [{ content: { role: "model", parts }, index: 0, ...(finishReason && { finishReason }) }],
    });
    const bytes = sse(
      c([{ text: "a", thought: true, thoughtSignature: "SIG1" }]),
      c([{ text: "b", thought: true }]),
      c([{ text: "c", thought: true, thoughtSignature: "SIG2" }]),
      c([{ text: "answer" }]),
      c([{ text: "again", thought: true }]),
      c([{ text: "", thought: true, thoughtSignature: "SIG3" }]),
      c([{ text: "done" }], "STOP"),
    );
    const { events, error } = await run(bytes, model);
    expect(error).toBeUndefined();
    expect(events.slice(1)).toEqual([
      thinkingStart(0),
      thought(0, "a"),
      thought(0, "b"),
      thought(0, "c"),
      signature(0, encodeThinkingSignature(model, "SIG2")),
      stop(0),
      textStart(1),
      text(1, "answer"),
      stop(1),
      thinkingStart(2),
      thought(2, "again"),
      signature(2, encodeThinkingSignature(model, "SIG3")),
      stop(2),
      textStart(3),
      text(3, "done"),
      stop(3),
      ...finish("end_turn", usage(0, 0)),
    ]);
  });

  it("usage arriving after the finishReason chunk is the one reported", async () => {
    const bytes = sse(
      {
        candidates: [{ content: { role: "model", parts: [{ text: "hi" }] }, finishReason: "STOP", index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1 },
      },
      { usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 2, thoughtsTokenCount: 5 } },
    );
    const { events, error } = await run(bytes, "m");
    expect(error).toBeUndefined();
    expect(events.slice(1)).toEqual([
      textStart(0),
      text(0, "hi"),
      stop(0),
      ...finish("end_turn", usage(10, 7)),
    ]);
  });

  it("a call without args becomes {} and a call without id decodes without geminiId", async () => {
    const bytes = sse({
      candidates: [
        { content: { role: "model", parts: [{ functionCall: { name: "Noop" } }] }, finishReason: "STOP" },
      ],
    });
    const { events, error } = await run(bytes, "gemini-2.5-flash");
    expect(error).toBeUndefined();
    const { events: norm, calls } = normalize(events);
    expect(norm.slice(1)).toEqual(
      withToolIds([toolStart(0, "Noop"), json(0, {}), stop(0), ...finish("tool_use", usage(0, 0))]),
    );
    expect(calls).toEqual([{ model: "gemini-2.5-flash" }]);
  });

  it("malformed JSON in a chunk → transient UPSTREAM_MALFORMED", async () => {
    const bytes = new TextEncoder().encode('data: {"candidates": [{"content": \r\n\r\n');
    const { error } = await run(bytes, "m");
    expect(error).toMatchObject({ code: "UPSTREAM_MALFORMED", class: "transient", status: 502 });
  });

  it("a function call with non-object args → UPSTREAM_MALFORMED", async () => {
    const bytes = sse({
      candidates: [{ content: { parts: [{ functionCall: { name: "X", args: "[1]" } }] } }],
    });
    expect((await run(bytes, "m")).error).toMatchObject({ code: "UPSTREAM_MALFORMED" });
  });

  it("candidates without parts and no finish → UPSTREAM_MALFORMED; empty body → UPSTREAM_TRUNCATED", async () => {
    const empty = sse(
      { candidates: [{ content: { role: "model" }, index: 0 }], usageMetadata: { promptTokenCount: 3 } },
      { candidates: [] },
    );
    expect((await run(empty, "m")).error).toMatchObject({ code: "UPSTREAM_MALFORMED", class: "transient" });
    const nothing = await run(new Uint8Array(), "m");
    expect(nothing.events).toEqual([]);
    expect(nothing.error).toMatchObject({ code: "UPSTREAM_TRUNCATED", class: "transient" });
  });

  it("a last event without its blank line counts as truncated", async () => {
    const raw = new TextDecoder().decode(fixture("max-tokens.sse")).replace(/\r\n\r\n$/, "");
    const { events, error } = await run(new TextEncoder().encode(raw), "m");
    expect(events.some((e) => e.type === "message_stop")).toBe(false);
    expect(error).toMatchObject({ code: "UPSTREAM_TRUNCATED" });
  });

  it("an error chunk with a 429 maps to a rate limit", async () => {
    const bytes = sse({
      error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" },
    });
    const { events, error } = await run(bytes, "m");
    expect(events).toEqual([]);
    expect(error).toMatchObject({
      class: "rate_limit",
      status: 429,
      type: "rate_limit_error",
      upstreamStatus: 429,
    });
  });

  it("UNEXPECTED_TOOL_CALL and TOO_MANY_TOOL_CALLS also throw UPSTREAM_MALFORMED", async () => {
    for (const reason of ["UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"]) {
      const bytes = sse({ candidates: [{ content: { parts: [{ text: "x" }] }, finishReason: reason }] });
      expect((await run(bytes, "m")).error).toMatchObject({ code: "UPSTREAM_MALFORMED" });
    }
  });
});

describe("mapGeminiFinishReason", () => {
  it.each([
    ["STOP", false, "end_turn"],
    ["STOP", true, "tool_use"],
    ["OTHER", true, "tool_use"],
    [undefined, false, "end_turn"],
    ["FINISH_REASON_UNSPECIFIED", false, "end_turn"],
    ["SOMETHING_NEW", false, "end_turn"],
    ["MAX_TOKENS", true, "max_tokens"],
    ["CONTINUATION", false, "max_tokens"],
    ["SAFETY", false, "refusal"],
    ["RECITATION", false, "refusal"],
    ["LANGUAGE", false, "refusal"],
    ["BLOCKLIST", false, "refusal"],
    ["PROHIBITED_CONTENT", false, "refusal"],
    ["SPII", false, "refusal"],
    ["IMAGE_SAFETY", false, "refusal"],
    ["IMAGE_PROHIBITED_CONTENT", false, "refusal"],
    ["IMAGE_RECITATION", false, "refusal"],
  ] as const)("%s (calls: %s) → %s", (reason, calls, expected) => {
    expect(mapGeminiFinishReason(reason, calls)).toEqual({ kind: "stop", stopReason: expected });
  });

  it.each(["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"])(
    "%s → malformed",
    (reason) => {
      expect(mapGeminiFinishReason(reason, false)).toEqual({ kind: "malformed", reason });
    },
  );
});

describe("mapGeminiUsage", () => {
  it("subtracts cached from prompt, adds tool-use prompt, counts thoughts as output (F.8)", () => {
    expect(
      mapGeminiUsage({
        promptTokenCount: 12034,
        cachedContentTokenCount: 8192,
        toolUsePromptTokenCount: 100,
        candidatesTokenCount: 88,
        thoughtsTokenCount: 412,
      }),
    ).toEqual({
      input_tokens: 12034 - 8192 + 100,
      cache_read_input_tokens: 8192,
      cache_creation_input_tokens: 0,
      output_tokens: 500,
    });
  });

  it("missing counters are zero", () => {
    expect(mapGeminiUsage({})).toEqual(usage(0, 0));
    expect(mapGeminiUsage({ promptTokenCount: 7 })).toEqual(usage(7, 0));
  });
});
