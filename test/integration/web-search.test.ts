/**
 * Web search end to end: the official SDK → ccgate → the strict fake Gemini answering with
 * Google Search grounding, and an OpenAI-compatible route that must refuse it clearly.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import type { RunningGateway } from "../../src/server.js";
import {
  FAKE_SEARCH_FACTS,
  FAKE_SEARCH_SOURCES,
  type FakeGemini,
  groundedAnswer,
  startFakeGemini,
} from "../fakes/gemini.js";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai.js";
import { postRaw, sdkClient, startTestGateway } from "../helpers/gateway.js";

let gemini: FakeGemini;
let openai: FakeOpenAI;
let gateway: RunningGateway;
let client: Anthropic;

beforeAll(async () => {
  gemini = await startFakeGemini();
  openai = await startFakeOpenAI();
  gateway = await startTestGateway({
    configure(config) {
      config.providers = [
        providerSchema.parse({ name: "gemini", type: "gemini", baseUrl: gemini.url, apiKeys: ["gem-key"] }),
        providerSchema.parse({
          name: "openai",
          type: "openai",
          baseUrl: `${openai.url}/v1`,
          apiKeys: ["oai-key"],
        }),
      ];
      config.routes = [
        { name: "oai", match: ["gpt-*"], targets: ["openai/gpt-x"] },
        { name: "gemini3", match: ["*opus*"], targets: ["gemini/gemini-3-flash-preview"] },
        { name: "default", targets: ["gemini/gemini-2.5-flash"] },
      ].map((r) => routeSchema.parse(r));
    },
  });
  client = sdkClient(gateway);
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([gemini?.close(), openai?.close()]);
});
beforeEach(() => gemini.reset());

const SEARCH_TOOL = { type: "web_search_20250305" as const, name: "web_search" as const, max_uses: 8 };
const QUESTION = "Perform a web search for the query: ccgate gateway";
const ANSWER = `${FAKE_SEARCH_FACTS[0]} ${FAKE_SEARCH_FACTS[1]}`;
const [ONE, TWO] = FAKE_SEARCH_SOURCES as [(typeof FAKE_SEARCH_SOURCES)[0], (typeof FAKE_SEARCH_SOURCES)[0]];

const params = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
  model: "claude-sonnet-4-6",
  max_tokens: 4096,
  tools: [SEARCH_TOOL],
  messages: [{ role: "user" as const, content: QUESTION }],
  ...extra,
});

const citation = (source: { uri: string; title: string }, citedText: string) => ({
  type: "web_search_result_location",
  url: source.uri,
  title: source.title,
  cited_text: citedText,
  encrypted_index: expect.any(String),
});
const result = (source: { uri: string; title: string }) => ({
  type: "web_search_result",
  url: source.uri,
  title: source.title,
  encrypted_content: expect.any(String),
  page_age: null,
});

/** srvtoolu ids are random: compare the content with them replaced (pairing checked). */
function stableIds(content: Anthropic.ContentBlock[]): unknown[] {
  const ids = new Map<string, string>();
  const stable = (id: string) => {
    if (!ids.has(id)) ids.set(id, `srvtoolu#${ids.size}`);
    return ids.get(id);
  };
  return content.map((block) => {
    if (block.type === "server_tool_use") return { ...block, id: stable(block.id) };
    if (block.type === "web_search_tool_result") return { ...block, tool_use_id: stable(block.tool_use_id) };
    return block;
  });
}

describe("web search on a Gemini target", () => {
  it("sends googleSearch and answers with server_tool_use, web_search_tool_result and cited text", async () => {
    const message = await client.messages.create(params());

    const sent = gemini.requests.at(-1)?.body as { tools?: unknown; toolConfig?: unknown };
    expect(gemini.requests.at(-1)?.model).toBe("gemini-2.5-flash");
    expect(sent.tools).toEqual([{ googleSearch: {} }]);
    expect(sent.toolConfig).toBeUndefined();

    expect(message.stop_reason).toBe("end_turn");
    expect(stableIds(message.content)).toEqual([
      {
        type: "text",
        text: ANSWER,
        citations: [
          citation(ONE, FAKE_SEARCH_FACTS[0]),
          citation(TWO, FAKE_SEARCH_FACTS[1]),
          citation(ONE, FAKE_SEARCH_FACTS[1]),
        ],
      },
      { type: "server_tool_use", id: "srvtoolu#0", name: "web_search", input: { query: "ccgate gateway" } },
      { type: "web_search_tool_result", tool_use_id: "srvtoolu#0", content: [result(ONE), result(TWO)] },
    ]);
    const search = message.content[1];
    expect(search?.type === "server_tool_use" && search.id).toMatch(/^srvtoolu_[0-9A-Za-z]{24}$/);
  });

  it("streams the same message the non-stream call returns, with web_search_requests in usage", async () => {
    const stream = client.messages.stream(params());
    const citations: unknown[] = [];
    stream.on("citation", (c) => citations.push(c));
    const streamed = await stream.finalMessage();
    const plain = await client.messages.create(params());

    expect(citations).toHaveLength(3);
    expect(stableIds(streamed.content)).toEqual(stableIds(plain.content));
    for (const f of ["type", "role", "model", "stop_reason", "stop_sequence"] as const) {
      expect(plain[f], f).toEqual(streamed[f]);
    }
    for (const f of ["input_tokens", "output_tokens", "cache_read_input_tokens"] as const) {
      expect(plain.usage[f], f).toEqual(streamed.usage[f]);
    }
    expect(streamed.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    // The search's own prompt tokens (toolUsePromptTokenCount) are part of the input.
    expect(streamed.usage.input_tokens).toBeGreaterThan(120);
  });

  it("keeps Anthropic's SSE grammar for the server tool blocks", async () => {
    const res = await postRaw(gateway, { ...params(), stream: true });
    expect(res.status).toBe(200);
    const events = res.events.filter((e) => e.event !== "ping");
    for (const e of events) expect((e.data as { type: string }).type).toBe(e.event);
    const starts = events.flatMap((e) => {
      const d = e.data as { type: string; index: number; content_block?: { type: string; input?: unknown } };
      return d.type === "content_block_start"
        ? [[d.index, d.content_block?.type, d.content_block?.input]]
        : [];
    });
    expect(starts).toEqual([
      [0, "text", undefined],
      [1, "server_tool_use", {}],
      [2, "web_search_tool_result", undefined],
    ]);
    const json = events.flatMap((e) => {
      const d = e.data as { type: string; index?: number; delta?: { type: string; partial_json?: string } };
      return d.delta?.type === "input_json_delta" ? [[d.index, d.delta.partial_json]] : [];
    });
    expect(json).toEqual([[1, '{"query":"ccgate gateway"}']]);
    expect(events.at(-2)?.data).toMatchObject({
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { server_tool_use: { web_search_requests: 1 } },
    });
  });

  it("puts the thinking block first on Gemini 3 and replays the searched turn as plain text", async () => {
    gemini.enqueue({
      chunks: groundedAnswer(ANSWER, {
        queries: ["ccgate"],
        sources: [ONE],
        supports: [{ text: FAKE_SEARCH_FACTS[0], sources: [0] }],
        thought: "Searching first.",
        parts: 3,
      }),
    });
    const first = await client.messages.create(
      params({ model: "claude-opus-4-1", thinking: { type: "enabled", budget_tokens: 2048 } }),
    );
    expect(first.content.map((b) => b.type)).toEqual([
      "thinking",
      "text",
      "server_tool_use",
      "web_search_tool_result",
    ]);

    // The next turn carries the search blocks and citations back; Gemini gets only the text.
    const second = await client.messages.create(
      params({
        model: "claude-opus-4-1",
        thinking: { type: "enabled", budget_tokens: 2048 },
        messages: [
          { role: "user", content: QUESTION },
          { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
          { role: "user", content: "Summarise that in one line." },
        ],
      }),
    );
    expect(second.stop_reason).toBe("end_turn");
    const sent = gemini.requests.at(-1)?.body as
      | { contents: { role: string; parts: Record<string, unknown>[] }[] }
      | undefined;
    const contents = sent?.contents ?? [];
    expect(contents.map((c) => c.role)).toEqual(["user", "model", "user"]);
    expect(contents[1]?.parts.filter((p) => p.thought !== true)).toEqual([{ text: ANSWER }]);
    expect(JSON.stringify(contents)).not.toMatch(/srvtoolu|web_search|citations/);
  });

  it("keeps custom tools when they come with web search (Gemini rejects the mix) and answers", async () => {
    const message = await client.messages.create(
      params({
        tools: [
          SEARCH_TOOL,
          { name: "Read", input_schema: { type: "object", properties: { p: { type: "string" } } } },
        ],
      }),
    );
    const sent = gemini.requests.at(-1)?.body as { tools: { functionDeclarations?: { name: string }[] }[] };
    expect(sent.tools).toEqual([{ functionDeclarations: [expect.objectContaining({ name: "Read" })] }]);
    expect(message.content.map((b) => b.type)).toEqual(["text"]);
  });
});

describe("web search on an OpenAI-compatible target", () => {
  it("answers 400 with a message that says where to route it, without calling the upstream", async () => {
    const before = openai.hits();
    let caught: unknown;
    try {
      await client.messages.create(params({ model: "gpt-4o" }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Anthropic.BadRequestError);
    const error = caught as InstanceType<typeof Anthropic.BadRequestError>;
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: expect.stringContaining(
          "web search is not supported by this OpenAI-compatible target; route web_search requests to a Gemini or Anthropic target (routes[].when.web_search)",
        ),
      },
    });
    expect(openai.hits()).toBe(before);

    const streamed = await postRaw(gateway, { ...params({ model: "gpt-4o" }), stream: true });
    expect(streamed.status).toBe(400);
    expect(JSON.parse(streamed.text)).toMatchObject({ error: { type: "invalid_request_error" } });
  });
});

describe("the fake Gemini's grounding, like the real API", () => {
  const post = async (body: unknown, verb = "streamGenerateContent?alt=sse") => {
    const res = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash:${verb}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": "gem-key" },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const contents = [{ role: "user", parts: [{ text: "Who won?" }] }];
  const read = { name: "Read", parametersJsonSchema: { type: "object" } };

  it("rejects Google Search next to function declarations, and a calling config without functions", async () => {
    const mixed = await post({ contents, tools: [{ googleSearch: {} }, { functionDeclarations: [read] }] });
    expect(mixed.status).toBe(400);
    expect(JSON.parse(mixed.text)).toMatchObject({
      error: {
        code: 400,
        status: "INVALID_ARGUMENT",
        message: "Tool use with function calling is unsupported",
      },
    });
    const config = await post({
      contents,
      tools: [{ googleSearch: {} }],
      toolConfig: { functionCallingConfig: { mode: "ANY" } },
    });
    expect(config.status).toBe(400);
    expect(config.text).toContain("Function calling config is set without function_declarations.");
  });

  it("answers a search request with groundingMetadata on the last chunk (and in generateContent)", async () => {
    const streamed = await post({ contents, tools: [{ googleSearch: {} }] });
    expect(streamed.status).toBe(200);
    const chunks = streamed.text
      .split("\r\n\r\n") // Google frames SSE with CRLF
      .filter((f) => f.startsWith("data: "))
      .map(
        (f) => JSON.parse(f.slice(6)) as { candidates: { groundingMetadata?: Record<string, unknown> }[] },
      );
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.slice(0, -1).every((c) => c.candidates[0]?.groundingMetadata === undefined)).toBe(true);
    const meta = chunks.at(-1)?.candidates[0]?.groundingMetadata;
    expect(meta).toMatchObject({
      webSearchQueries: ["Who won?"],
      groundingChunks: [{ web: ONE }, { web: TWO }],
      groundingSupports: [
        { segment: { endIndex: Buffer.byteLength(FAKE_SEARCH_FACTS[0]), text: FAKE_SEARCH_FACTS[0] } },
        { groundingChunkIndices: [1, 0] },
      ],
      searchEntryPoint: { renderedContent: expect.stringContaining("Who won?") },
    });
    const whole = await post({ contents, tools: [{ googleSearch: {} }] }, "generateContent");
    expect(JSON.parse(whole.text)).toMatchObject({
      candidates: [{ finishReason: "STOP", groundingMetadata: { webSearchQueries: ["Who won?"] } }],
    });
  });
});
