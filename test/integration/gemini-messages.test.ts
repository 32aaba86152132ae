/**
 * The gateway end to end over HTTP: the official SDK → ccgate → the strict fake Gemini.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { PNG } from "pngjs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import {
  type FakeGemini,
  functionCalls,
  startFakeGemini,
  textChunks,
  thinkingThenText,
} from "../fakes/gemini.js";
import { parseSse, postRaw, sdkClient, startTestGateway } from "../helpers/gateway.js";
import { makeGif } from "../helpers/gif.js";

let fake: FakeGemini;
let gateway: RunningGateway;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeGemini();
  gateway = await startTestGateway({ env: { GEMINI_API_KEY: "key-a", GEMINI_BASE_URL: fake.url } });
  client = sdkClient(gateway);
});
afterAll(async () => {
  await gateway.close();
  await fake.close();
});
beforeEach(() => fake.reset());

const user = (text: string) => ({ role: "user" as const, content: text });

describe("messages through the Gemini provider", () => {
  it("streams text as Anthropic events, and non-stream gives the same message", async () => {
    const script = () => textChunks("The quick brown fox jumps over the lazy dog.", { parts: 4 });
    fake.enqueue({ chunks: script() }, { chunks: script() });
    const params = { model: "claude-sonnet-4-6", max_tokens: 1024, messages: [user("hi")] };

    const stream = client.messages.stream(params);
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const streamed = await stream.finalMessage();
    const plain = await client.messages.create(params);

    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(streamed.content).toEqual([
      { type: "text", text: "The quick brown fox jumps over the lazy dog." },
    ]);
    // Everything the API defines matches; only the id differs (the SDK adds its own local fields).
    const fields = ["type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"] as const;
    for (const f of fields) expect(plain[f], f).toEqual(streamed[f]);
    expect(streamed.model).toBe("claude-sonnet-4-6");
    expect(streamed.stop_reason).toBe("end_turn");
    expect(fake.requests[0]?.model).toBe("gemini-2.5-pro");
    expect(fake.requests[0]?.path).toContain(":streamGenerateContent");
    expect(fake.requests[0]?.query.alt).toBe("sse");
  });

  it("keeps the exact SSE grammar: event names, indexes, usage in message_start and message_delta", async () => {
    fake.enqueue({ chunks: thinkingThenText("Planning the answer", "Done.", { parts: 2 }) });
    const res = await postRaw(gateway, {
      model: "claude-sonnet-4-6",
      max_tokens: 2048,
      stream: true,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [user("go")],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("x-ccgate-route")).toBe("large");
    expect(res.headers.get("x-ccgate-target")).toBe("gemini/gemini-2.5-pro");
    const events = res.events.filter((e) => e.event !== "ping");
    for (const e of events) expect((e.data as { type: string }).type).toBe(e.event);
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const start = events[0]?.data as { message: { usage: { input_tokens: number } } };
    expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    const sig = events[3]?.data as { index: number; delta: { type: string } };
    expect(sig).toMatchObject({ index: 0, delta: { type: "signature_delta" } });
    const delta = events[9]?.data as { usage: { input_tokens: number; output_tokens: number } };
    expect(delta.usage.input_tokens).toBe(start.message.usage.input_tokens);
    expect(delta.usage.output_tokens).toBeGreaterThan(0);
  });

  it("maps parallel function calls to tool_use blocks and the results back in call order", async () => {
    fake.enqueue({
      chunks: functionCalls(
        [
          { name: "Read", args: { file_path: "/a.ts" } },
          { name: "Read", args: { file_path: "/b.ts" } },
        ],
        { signature: true },
      ),
    });
    const tools: Anthropic.Tool[] = [
      {
        name: "Read",
        description: "read a file",
        input_schema: {
          type: "object",
          properties: { file_path: { type: "string" } },
          required: ["file_path"],
          additionalProperties: false,
          $schema: "http://json-schema.org/draft-07/schema#",
        },
      },
    ];
    const first = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 1024,
      tools,
      messages: [user("read both")],
    });
    expect(first.stop_reason).toBe("tool_use");
    const calls = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(calls.map((c) => c.input)).toEqual([{ file_path: "/a.ts" }, { file_path: "/b.ts" }]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);

    fake.enqueue({ chunks: textChunks("Both read.") });
    const second = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 1024,
      tools,
      messages: [
        user("read both"),
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [
            // Results deliberately out of order: Gemini needs them in call order.
            { type: "tool_result", tool_use_id: calls[1]!.id, content: "B" },
            { type: "tool_result", tool_use_id: calls[0]!.id, content: [{ type: "text", text: "A" }] },
            { type: "text", text: "<system-reminder>note</system-reminder>" },
          ],
        },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "Both read." }]);
    const body = fake.requests[1]?.body as { contents: { role: string; parts: Record<string, unknown>[] }[] };
    const last = body.contents.at(-1)!;
    const responses = last.parts.filter((p) => "functionResponse" in p).map((p) => p.functionResponse);
    expect(responses).toMatchObject([
      { name: "Read", response: { output: "A" } },
      { name: "Read", response: { output: "B" } },
    ]);
    expect(last.parts.at(-1)).toEqual({ text: "<system-reminder>note</system-reminder>" });
    expect(fake.requests[1]?.status).toBe(200);
  });

  it("maps every stop reason and the usage counters", async () => {
    fake.enqueue({ chunks: textChunks("cut off", { finishReason: "MAX_TOKENS" }) });
    const maxed = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 5,
      messages: [user("x")],
    });
    expect(maxed.stop_reason).toBe("max_tokens");

    fake.enqueue({ chunks: textChunks("", { finishReason: "SAFETY" }) });
    const refused = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [user("x")],
    });
    expect(refused.stop_reason).toBe("refusal");

    fake.enqueue({ chunks: textChunks("alpha beta END gamma", { parts: 3 }) });
    const stopped = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      stop_sequences: ["END"],
      messages: [user("x")],
    });
    expect(stopped.stop_reason).toBe("stop_sequence");
    expect(stopped.stop_sequence).toBe("END");
    expect(stopped.content).toEqual([{ type: "text", text: "alpha beta " }]);

    fake.enqueue({
      chunks: [
        {
          candidates: [
            { content: { role: "model", parts: [{ text: "cached" }] }, finishReason: "STOP", index: 0 },
          ],
          usageMetadata: {
            promptTokenCount: 1000,
            cachedContentTokenCount: 800,
            candidatesTokenCount: 7,
            thoughtsTokenCount: 30,
            totalTokenCount: 1037,
          },
        },
      ],
    });
    const cached = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [user("x")],
    });
    expect(cached.usage).toMatchObject({
      input_tokens: 200,
      cache_read_input_tokens: 800,
      cache_creation_input_tokens: 0,
      output_tokens: 37,
    });
  });

  it("sends images and PDFs as inlineData", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex").toString(
      "base64",
    );
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF").toString("base64");
    fake.enqueue({ chunks: textChunks("seen") });
    await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf } },
            { type: "text", text: "describe" },
          ],
        },
      ],
    });
    const body = fake.requests[0]?.body as { contents: { parts: Record<string, unknown>[] }[] };
    expect(body.contents[0]?.parts).toEqual([
      { inlineData: { mimeType: "image/png", data: png } },
      { inlineData: { mimeType: "application/pdf", data: pdf } },
      { text: "describe" },
    ]);
  });

  it("sends a GIF, which Gemini refuses, as a PNG of its first frame, in a message and in a tool result", async () => {
    const gif = makeGif(2, 1, [0xff0000, 0x0000ff], [{ pixels: [0, 1] }]).toString("base64");
    const image = {
      type: "image" as const,
      source: { type: "base64" as const, media_type: "image/gif" as const, data: gif },
    };
    fake.enqueue({ chunks: textChunks("seen") });
    const ok = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [
        { role: "user", content: [image, { type: "text", text: "and this one?" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_gif", name: "Read", input: { file: "a.gif" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_gif", content: [image] }] },
      ],
    });
    expect(ok.content).toEqual([{ type: "text", text: "seen" }]);
    const body = fake.requests.at(-1)?.body as {
      contents: { parts: { inlineData?: { mimeType: string; data: string } }[] }[];
    };
    const blobs = body.contents.flatMap((c) => c.parts.flatMap((p) => (p.inlineData ? [p.inlineData] : [])));
    expect(blobs.map((b) => b.mimeType)).toEqual(["image/png", "image/png"]);
    const png = PNG.sync.read(Buffer.from(blobs[0]?.data ?? "", "base64"));
    expect([png.width, png.height, ...png.data]).toEqual([2, 1, 255, 0, 0, 255, 0, 0, 255, 255]);
  });

  it("applies mid-conversation tool changes: the declarations are the tools in effect now", async () => {
    const schema = { type: "object", properties: { path: { type: "string" } } };
    fake.enqueue({ chunks: textChunks("ok") });
    const res = await postRaw(gateway, {
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      tools: [
        { name: "Read", description: "read", input_schema: schema },
        { name: "Lazy", description: "deferred", input_schema: schema, defer_loading: true },
      ],
      messages: [
        user("hi"),
        {
          role: "system",
          content: [
            { type: "text", text: "Tools changed." },
            {
              type: "tool_addition",
              tool: {
                type: "tool_definition",
                definition: { name: "Grep", description: "grep", input_schema: schema },
              },
            },
            { type: "tool_removal", tool: { type: "tool_reference", name: "Read" } },
            { type: "tool_addition", tool: { type: "mcp_toolset_reference", server_name: "github" } },
          ],
        },
      ],
    });
    expect(res.status, res.text).toBe(200);
    const body = fake.requests.at(-1)?.body as {
      tools: { functionDeclarations: { name: string }[] }[];
      contents: { parts: { text?: string }[] }[];
    };
    expect(body.tools[0]?.functionDeclarations.map((d) => d.name)).toEqual(["Lazy", "Grep"]);
    const said = body.contents.flatMap((c) => c.parts.map((p) => p.text ?? "")).join("\n");
    expect(said).toContain("Tools changed.");
    expect(said).toContain("Tool available from here on: Grep.");
    expect(said).toContain("Tool no longer available: Read.");
    expect(said).toContain("Tool available from here on: the tools of MCP server github.");
  });
});

describe("concurrency", () => {
  it("serves 24 overlapping streams, each complete, without a listener-leak warning", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      const count = 24;
      fake.enqueue(
        ...Array.from({ length: count }, (_, i) => ({
          chunks: textChunks(`answer number ${i}`, { parts: 3 }),
          firstByteDelayMs: 150,
        })),
      );
      const messages = await Promise.all(
        Array.from({ length: count }, () =>
          client.messages
            .stream({ model: "claude-sonnet-4-6", max_tokens: 256, messages: [user("hi")] })
            .finalMessage(),
        ),
      );
      const texts = messages.map((m) => (m.content[0]?.type === "text" ? m.content[0].text : ""));
      expect(texts.sort()).toEqual(Array.from({ length: count }, (_, i) => `answer number ${i}`).sort());
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe("errors and failover", () => {
  it("a stream cut after content ends with event: error and never message_stop", async () => {
    fake.enqueue({ chunks: textChunks("one two three four five six", { parts: 6 }), cutAfterChunks: 3 });
    const res = await postRaw(gateway, {
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      stream: true,
      messages: [user("x")],
    });
    expect(res.status).toBe(200);
    const names = res.events.map((e) => e.event);
    expect(names).toContain("content_block_delta");
    expect(names.at(-1)).toBe("error");
    expect(names).not.toContain("message_stop");
    expect(res.events.at(-1)?.data).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  });

  it("the SDK surfaces a broken stream as an error, not a truncated success", async () => {
    fake.enqueue({ chunks: textChunks("one two three four", { parts: 4 }), cutAfterChunks: 2 });
    const stream = client.messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [user("x")],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/overloaded|ended|upstream/i);
  });

  it("a failure before any content is retried and never reaches the client", async () => {
    fake.enqueue({ status: 500, body: { error: { code: 500, message: "boom", status: "INTERNAL" } } });
    fake.enqueue({ chunks: textChunks("recovered") });
    const msg = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [user("x")],
    });
    expect(msg.content).toEqual([{ type: "text", text: "recovered" }]);
    expect(fake.requests).toHaveLength(2);
  });

  it("a prompt over the window is a 400 in Claude Code's wording, without failover", async () => {
    fake.enqueue({
      status: 400,
      body: {
        error: {
          code: 400,
          message: "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
          status: "INVALID_ARGUMENT",
        },
      },
    });
    const res = await postRaw(gateway, {
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      stream: true,
      messages: [user("x")],
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "prompt is too long: 1200000 tokens > 1048576 maximum",
      },
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("bad input gets a 4xx Anthropic error naming the problem, and the gateway keeps serving", async () => {
    const bad: [unknown, number, RegExp][] = [
      ["{not json", 400, /invalid request body: the body is not valid JSON \(.*JSON/i],
      ["", 400, /invalid request body: the body is empty/i],
      [{ model: "claude-sonnet-4-6", messages: [user("x")] }, 400, /max_tokens/],
      [{ model: "claude-sonnet-4-6", max_tokens: "lots", messages: [user("x")] }, 400, /max_tokens/],
      [
        {
          model: "claude-sonnet-4-6",
          max_tokens: 10,
          messages: [{ role: "user", content: [{ type: "hologram" }] }],
        },
        400,
        /messages\.0\.content\.0\.type: unknown content block type "hologram"/,
      ],
      [
        {
          model: "claude-sonnet-4-6",
          max_tokens: 10,
          messages: [
            {
              role: "user",
              content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "!!!" } }],
            },
          ],
        },
        400,
        /base64/,
      ],
      [
        {
          model: "claude-sonnet-4-6",
          max_tokens: 10,
          messages: [
            user("x"),
            {
              role: "assistant",
              content: [{ type: "tool_use", id: "toolu_1", name: "Read", input: "a.txt" }],
            },
          ],
        },
        400,
        /^messages\.1\.content\.0\.input: .*expected record/,
      ],
    ];
    for (const [body, status, message] of bad) {
      const res = await postRaw(gateway, body);
      expect(res.status, res.text).toBe(status);
      const json = JSON.parse(res.text);
      expect(json.type).toBe("error");
      expect(json.error.type).toBe("invalid_request_error");
      expect(json.error.message).toMatch(message);
      expect(res.headers.get("request-id")).toMatch(/^req_/);
    }
    expect(fake.requests).toHaveLength(0);
    fake.enqueue({ chunks: textChunks("still alive") });
    const ok = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 10,
      messages: [user("x")],
    });
    expect(ok.content).toEqual([{ type: "text", text: "still alive" }]);
  });

  it("a large body in any script reaches Gemini character for character (byte-order mark allowed)", async () => {
    // Past the size where the body parser takes its fast UTF-8 path (core/utf8.ts).
    const text = `${"Ünïcödé — “quotes” → 漢字かな交じり 😀 e\u0301 ".repeat(400)}\u0000\uFEFF end`;
    fake.enqueue({ chunks: textChunks("ok") });
    const body = JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [user(text)] });
    const res = await postRaw(gateway, `\uFEFF${body}`);
    expect(res.status, res.text).toBe(200);
    const sent = fake.requests.at(-1)?.body as { contents: { parts: { text?: string }[] }[] };
    expect(
      sent.contents
        .at(-1)
        ?.parts.map((p) => p.text)
        .join(""),
    ).toBe(text);
  });

  it("unknown body fields, ?beta=true and both anthropic-version values are accepted", async () => {
    for (const version of ["2023-06-01", "2026-10-21"]) {
      fake.enqueue({ chunks: textChunks("ok") });
      const res = await postRaw(
        gateway,
        {
          model: "claude-sonnet-4-6",
          max_tokens: 10,
          messages: [user("x")],
          context_management: { edits: [] },
          brand_new_field: { x: 1 },
          cache_control: { type: "ephemeral" },
        },
        { "anthropic-version": version },
        "/v1/messages?beta=true",
      );
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).content).toEqual([{ type: "text", text: "ok" }]);
    }
  });

  it("parses SSE the way a raw client would", () => {
    expect(parseSse('event: ping\ndata: {"type":"ping"}\n\n')).toEqual([
      { event: "ping", data: { type: "ping" } },
    ]);
  });
});
