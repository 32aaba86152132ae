/**
 * The provider conformance suite (design.md §5): one set of cases run against every provider
 * adapter, each through a real gateway (official SDK as the client) in front of a fake upstream
 * that reproduces that provider's wire format and strictness. Every case asserts what the client
 * sees AND what the fake received. A case a provider cannot express is skipped with the reason.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { APIError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import { postRaw, sdkClient, startTestGateway } from "../helpers/gateway.js";
import { anthropicHarness } from "./anthropic-harness.js";
import { geminiHarness } from "./gemini-harness.js";
import {
  configureFor,
  type ImageSpec,
  isRecord,
  MODELS,
  type ProviderHarness,
  type ScriptedCall,
  type StopKind,
  TINY_PNG,
} from "./harness.js";
import { openaiHarness } from "./openai-harness.js";
import { comparable, expectGrammar, foldRawEvents, textOf } from "./stream-checks.js";
import { vertexHarness } from "./vertex-harness.js";

const harnesses: ProviderHarness[] = [geminiHarness(), vertexHarness(), openaiHarness(), anthropicHarness()];

/** Claude Code's own tool ids look like this; the pattern is Anthropic's (protocol.md A.3). */
const TOOL_USE_ID = /^[A-Za-z0-9_-]+$/;

const READ_TOOL: Anthropic.Tool = {
  name: "Read",
  description: "Read a file from the local filesystem.",
  input_schema: {
    type: "object",
    properties: { file_path: { type: "string", description: "Absolute path" } },
    required: ["file_path"],
    additionalProperties: false,
  },
};

const THINKING = { type: "enabled", budget_tokens: 1024 } as const;

type Params = Anthropic.MessageCreateParamsNonStreaming;

function params(messages: Anthropic.MessageParam[], extra: Partial<Params> = {}): Params {
  return { model: MODELS.main, max_tokens: 2048, messages, ...extra };
}

const user = (content: Anthropic.MessageParam["content"]): Anthropic.MessageParam => ({
  role: "user",
  content,
});

describe.each(harnesses)("$name adapter conformance", (h) => {
  if (h.skip !== undefined) {
    it.skip(`every case — skipped: ${h.skip}`, () => {});
    return;
  }

  let gateway: RunningGateway;
  let client: Anthropic;

  beforeAll(async () => {
    await h.start();
    gateway = await startTestGateway({ configure: configureFor(h) });
    client = sdkClient(gateway);
  });
  afterAll(async () => {
    await gateway?.close();
    await h.close();
  });
  beforeEach(() => h.reset());

  /** The SDK's stream (events + final message), then the same request without streaming. */
  async function bothWays(request: Params): Promise<{
    streamed: Anthropic.Message;
    plain: Anthropic.Message;
    events: Anthropic.MessageStreamEvent[];
  }> {
    const stream = client.messages.stream(request);
    const events: Anthropic.MessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const streamed = await stream.finalMessage();
    const plain = await client.messages.create(request);
    expectGrammar(events);
    expect(comparable(plain), "non-stream equals the accumulated stream").toEqual(comparable(streamed));
    return { streamed, plain, events };
  }

  /** Every generation request went upstream streaming, to the routed model, with the key. */
  function expectUpstreamCalls(count: number): void {
    const received = h.received();
    expect(received).toHaveLength(count);
    for (const r of received) {
      expect(r.streaming, "the gateway always streams upstream").toBe(true);
      expect(r.model).toBe(h.upstreamModel);
      expect(r.credential).toBe(h.credential);
    }
  }

  function lastBody(): unknown {
    return h.received().at(-1)?.body;
  }

  async function expectApiError(
    request: Promise<unknown>,
  ): Promise<APIError<number | undefined, Headers | undefined>> {
    const error = await request.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(APIError);
    return error as APIError<number | undefined, Headers | undefined>;
  }

  it("streams text as it arrives; non-streaming gives the same message", async () => {
    const parts = ["Hello", ", conformance", " world."];
    h.text(parts);
    h.text(parts);
    const { streamed, events } = await bothWays(params([user("Say hello.")]));

    const deltas = events.filter((e) => e.type === "content_block_delta" && e.delta.type === "text_delta");
    expect(deltas.length, "text arrives in pieces, not buffered").toBeGreaterThanOrEqual(2);
    expect(streamed.content).toEqual([expect.objectContaining({ type: "text", text: parts.join("") })]);
    expect(streamed.model).toBe(MODELS.main);
    expect(streamed.stop_reason).toBe("end_turn");
    expect(streamed.usage.input_tokens).toBeGreaterThan(0);
    expect(streamed.usage.output_tokens).toBeGreaterThan(0);
    expectUpstreamCalls(2);
  });

  it("maps a tool call to a tool_use block, and its tool_result round trip passes the strict fake", async () => {
    const call: ScriptedCall = { id: "call_read_a1", name: "Read", args: { file_path: "/tmp/a.txt" } };
    h.toolCall(call);
    h.toolCall(call);
    const first = params([user("Read /tmp/a.txt")], { tools: [READ_TOOL] });
    const { streamed } = await bothWays(first);

    expect(streamed.stop_reason).toBe("tool_use");
    const uses = streamed.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses).toHaveLength(1);
    const use = uses[0]!;
    expect(use.name).toBe("Read");
    expect(use.input).toEqual({ file_path: "/tmp/a.txt" });
    expect(use.id).toMatch(TOOL_USE_ID);

    h.reset();
    h.text(["The file says hi."]);
    const second = await client.messages.create(
      params(
        [
          ...first.messages,
          { role: "assistant", content: streamed.content },
          user([{ type: "tool_result", tool_use_id: use.id, content: "hi from a.txt" }]),
        ],
        { tools: [READ_TOOL] },
      ),
    );
    expect(textOf(second)).toBe("The file says hi.");
    expectUpstreamCalls(1);
    // The upstream got its own call back (its id, name, arguments) and the result paired to it.
    expect(h.toolCallsIn(lastBody())).toEqual([{ id: call.id, name: "Read", args: call.args }]);
    const results = h.toolResultsIn(lastBody());
    expect(results.map((r) => r.id)).toEqual([call.id]);
    expect(results[0]?.output).toContain("hi from a.txt");
  });

  it("keeps two parallel tool calls in order, and their results arrive in call order", async () => {
    const calls: ScriptedCall[] = [
      { id: "call_par_a", name: "Read", args: { file_path: "/src/a.ts" } },
      { id: "call_par_b", name: "Read", args: { file_path: "/src/b.ts" } },
    ];
    h.parallelToolCalls(calls);
    h.parallelToolCalls(calls);
    const first = params([user("Read both files.")], { tools: [READ_TOOL] });
    const { streamed } = await bothWays(first);

    expect(streamed.stop_reason).toBe("tool_use");
    const uses = streamed.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses.map((u) => u.input)).toEqual(calls.map((c) => c.args));
    expect(new Set(uses.map((u) => u.id)).size).toBe(2);

    h.reset();
    h.text(["Both files read."]);
    const second = await client.messages.create(
      params(
        [
          ...first.messages,
          { role: "assistant", content: streamed.content },
          user([
            { type: "tool_result", tool_use_id: uses[0]!.id, content: "contents of a" },
            {
              type: "tool_result",
              tool_use_id: uses[1]!.id,
              content: [{ type: "text", text: "contents of b" }],
            },
          ]),
        ],
        { tools: [READ_TOOL] },
      ),
    );
    expect(textOf(second)).toBe("Both files read.");
    expectUpstreamCalls(1);
    expect(h.toolCallsIn(lastBody()).map((c) => c.id)).toEqual(calls.map((c) => c.id));
    const results = h.toolResultsIn(lastBody());
    expect(results.map((r) => r.id)).toEqual(calls.map((c) => c.id));
    expect(results[0]?.output).toContain("contents of a");
    expect(results[1]?.output).toContain("contents of b");
  });

  it("streams thinking (with a signature) before the text, and the next turn echoes it as the provider needs", async () => {
    const thought = "The user wants 2+2. That is 4.";
    h.thinkingThenText(thought, "It is 4.");
    h.thinkingThenText(thought, "It is 4.");
    const first = params([user("What is 2+2?")], { thinking: THINKING });
    const { streamed } = await bothWays(first);

    expect(streamed.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const thinking = streamed.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.thinking).toBe(thought);
    expect(thinking.signature.length, "clients echo thinking only with a signature").toBeGreaterThan(0);
    if (h.upstreamThinkingSignature !== undefined)
      expect(thinking.signature).toBe(h.upstreamThinkingSignature);
    expect(textOf(streamed)).toBe("It is 4.");

    h.reset();
    h.text(["Yes."]);
    const second = await client.messages.create(
      params([...first.messages, { role: "assistant", content: streamed.content }, user("Sure?")], {
        thinking: THINKING,
      }),
    );
    expect(textOf(second)).toBe("Yes.");
    expectUpstreamCalls(1);
    const echoed = h.thinkingIn(lastBody());
    switch (h.thinkingEcho) {
      case "verbatim":
        expect(echoed).toEqual([{ text: thought, signature: thinking.signature }]);
        break;
      case "text":
        expect(echoed.map((t) => t.text)).toEqual([thought]);
        break;
      case "dropped":
        expect(echoed).toEqual([]);
        break;
      default: {
        const never: never = h.thinkingEcho;
        throw new Error(`unknown echo mode ${String(never)}`);
      }
    }
  });

  it("sends an image in the user turn in the provider's native form", async () => {
    const image: ImageSpec = { mediaType: "image/png", data: TINY_PNG };
    h.text(["A single transparent pixel."]);
    const answer = await client.messages.create(
      params([
        user([
          { type: "image", source: { type: "base64", media_type: "image/png", data: TINY_PNG } },
          { type: "text", text: "What is in this image?" },
        ]),
      ]),
    );
    expect(textOf(answer)).toBe("A single transparent pixel.");
    expectUpstreamCalls(1);
    expect(h.imageArrived(lastBody(), image)).toBe(true);
  });

  it.for<StopKind>(["max_tokens", "refusal"])("maps the upstream's %s stop reason", async (kind, ctx) => {
    const reason = h.inexpressible?.[kind];
    if (reason !== undefined) ctx.skip(reason);
    h.stopReason(kind, "A partial answer");
    h.stopReason(kind, "A partial answer");
    const { streamed } = await bothWays(params([user("Go on.")]));
    expect(streamed.stop_reason).toBe(kind);
    expect(textOf(streamed)).toBe("A partial answer");
    expectUpstreamCalls(2);
  });

  it("maps usage: input excludes cached tokens, cache_read is the cached part, output as reported", async () => {
    const usage = { prompt: 1200, cached: 1000, output: 42 };
    const expected = { input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 42 };
    for (let i = 0; i < 3; i++) h.usage(usage, "Cached hello.");
    const request = params([user("Hello again.")]);
    const { streamed } = await bothWays(request);
    expect(streamed.usage).toMatchObject(expected);
    expect(streamed.usage.cache_creation_input_tokens ?? 0).toBe(0);

    // On the wire: message_delta repeats the cumulative totals, and message_start carries the
    // best-known input count for clients that read it only there (protocol.md B.5).
    const raw = await postRaw(gateway, { ...request, stream: true });
    const data = (name: string) => raw.events.find((e) => e.event === name)?.data;
    const delta = data("message_delta");
    expect(isRecord(delta) ? delta.usage : undefined).toMatchObject(expected);
    const start = data("message_start");
    const startUsage = isRecord(start) && isRecord(start.message) ? start.message.usage : undefined;
    expect(startUsage).toMatchObject(
      h.usageAtStart
        ? { input_tokens: 200, cache_read_input_tokens: 1000 }
        : { input_tokens: 0, cache_read_input_tokens: 0 },
    );
    expectUpstreamCalls(3);
  });

  it("passes a 429 on to the client as rate_limit_error with retry-after (single key, no failover)", async () => {
    const upstreamMessage = h.httpError("rate_limit");
    const error = await expectApiError(
      client.messages.create({ ...params([user("hi")]), model: MODELS.rateLimit, stream: true }),
    );
    expect(error.status).toBe(429);
    expect(error.type).toBe("rate_limit_error");
    expect(error.headers?.get("retry-after")).toBe("2");
    expect(error.apiMessage).toContain(upstreamMessage);
    expectUpstreamCalls(1);
  });

  it("passes a 400 through as invalid_request_error without failing over", async () => {
    const upstreamMessage = h.httpError("bad_request");
    const error = await expectApiError(
      client.messages.create({ ...params([user("hi")]), model: MODELS.badRequest, stream: true }),
    );
    expect(error.status).toBe(400);
    expect(error.type).toBe("invalid_request_error");
    expect(error.apiMessage).toContain(upstreamMessage);
    // The route has a second target on the same fake: one hit means it was not tried.
    expectUpstreamCalls(1);
  });

  it("answers a rejected key with authentication_error", async () => {
    const upstreamMessage = h.httpError("auth");
    const error = await expectApiError(
      client.messages.create({ ...params([user("hi")]), model: MODELS.auth }),
    );
    expect(error.status).toBe(401);
    expect(error.type).toBe("authentication_error");
    expect(error.apiMessage).toContain(upstreamMessage);
    expectUpstreamCalls(1);
  });

  it("retries an upstream 500 and recovers invisibly", async () => {
    h.httpError("server");
    h.text(["Recovered after a retry."]);
    const answer = await client.messages.create({ ...params([user("hi")]), model: MODELS.server });
    expect(textOf(answer)).toBe("Recovered after a retry.");
    expect(answer.stop_reason).toBe("end_turn");
    expectUpstreamCalls(2);
    const [a, b] = h.received();
    expect(b?.body, "the retry sends the same request").toEqual(a?.body);
  });

  it("ends a stream cut after content with event: error and no message_stop", async () => {
    h.midStreamCut(["Partial ", "answer ", "that never ends."]);
    const res = await postRaw(gateway, { ...params([user("hi")]), model: MODELS.cut, stream: true });
    expect(res.status).toBe(200);
    const events = res.events.filter((e) => e.event !== "ping");
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("message_start");
    const text = events
      .map((e) => (isRecord(e.data) && isRecord(e.data.delta) ? e.data.delta.text : undefined))
      .filter((t): t is string => typeof t === "string")
      .join("");
    expect(text, "content before the cut reached the client").toContain("Partial");
    expect(names.at(-1)).toBe("error");
    expect(names).not.toContain("message_stop");
    expect(names).not.toContain("message_delta");
    const error = events.at(-1)?.data;
    expect(isRecord(error) && isRecord(error.error) ? error.error.type : undefined).toBe("overloaded_error");
    // After the commit point nothing is retried: the client already has content.
    expectUpstreamCalls(1);
  });

  it("stream == non-stream: the raw SSE accumulates to exactly the non-stream JSON body", async () => {
    h.thinkingThenText("Weighing the options.", "Option B.");
    h.thinkingThenText("Weighing the options.", "Option B.");
    const request = params([user("A or B?")], { thinking: THINKING });
    const streamed = await postRaw(gateway, { ...request, stream: true });
    const plain = await postRaw(gateway, request);
    expect(streamed.status).toBe(200);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toContain("application/json");
    expectGrammar(streamed.events.map((e) => (isRecord(e.data) ? e.data : {}) as { type: string }));
    for (const e of streamed.events) expect(isRecord(e.data) ? e.data.type : undefined).toBe(e.event);
    const body = JSON.parse(plain.text) as Record<string, unknown>;
    const folded = foldRawEvents(streamed.events);
    for (const field of ["type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"])
      expect(body[field], field).toEqual(folded[field]);
    expectUpstreamCalls(2);
  });
});
