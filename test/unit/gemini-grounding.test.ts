/**
 * Web search on Gemini (grounding.ts): the request mapping (`web_search_*` → `googleSearch`), the
 * stream translation of `groundingMetadata` into `server_tool_use` / `web_search_tool_result`
 * blocks and `citations_delta`, the accumulated message, history replay, and the OpenAI refusal.
 */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { EventBuilder } from "../../src/core/event-builder.js";
import type { AttemptContext } from "../../src/core/provider.js";
import { accumulateMessage } from "../../src/protocol/anthropic/accumulate.js";
import { type MessagesRequest, messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { readGroundingMetadata } from "../../src/providers/gemini/grounding.js";
import type { GeminiOptions } from "../../src/providers/gemini/options.js";
import { buildGeminiBody } from "../../src/providers/gemini/request.js";
import { decodeGeminiStream } from "../../src/providers/gemini/stream.js";
import { toChatTools } from "../../src/providers/openai/tools.js";
import {
  FAKE_SEARCH_FACTS,
  FAKE_SEARCH_SOURCES,
  type GeminiChunkSpec,
  groundedAnswer,
  textChunks,
} from "../fakes/gemini.js";

const JSON_MODE: GeminiOptions = { toolSchema: "json-schema" };
const REQUESTED = "claude-sonnet-4-6";
const hello = [{ role: "user", content: "Perform a web search for the query: ccgate" }];
const SEARCH = { type: "web_search_20250305", name: "web_search" };
const READ = { name: "Read", input_schema: { type: "object", properties: { p: { type: "string" } } } };

function request(fields: Record<string, unknown>): MessagesRequest {
  return messagesRequestSchema.parse({ model: REQUESTED, max_tokens: 1024, messages: hello, ...fields });
}

describe("request: web search tool → googleSearch", () => {
  it.each(["web_search_20250305", "web_search_20260209", "web_search_20260318"])(
    "%s becomes {googleSearch: {}} with no toolConfig; its options are not sent",
    (type) => {
      const out = buildGeminiBody(
        request({
          tools: [
            {
              type,
              name: "web_search",
              max_uses: 3,
              allowed_domains: ["example.com"],
              blocked_domains: ["bad.example"],
              user_location: { type: "approximate", city: "Paris", country: "FR" },
            },
          ],
        }),
        "gemini-2.5-flash",
        JSON_MODE,
      );
      expect(out.tools).toEqual([{ googleSearch: {} }]);
      expect(out.toolConfig).toBeUndefined();
    },
  );

  it("auto, any and {tool: web_search} leave the search to the model; none turns it off", () => {
    const build = (tool_choice: unknown) =>
      buildGeminiBody(request({ tools: [SEARCH], tool_choice }), "gemini-3-flash-preview", JSON_MODE);
    for (const choice of [{ type: "auto" }, { type: "any" }, { type: "tool", name: "web_search" }]) {
      const out = build(choice);
      expect(out.tools, JSON.stringify(choice)).toEqual([{ googleSearch: {} }]);
      expect(out.toolConfig, JSON.stringify(choice)).toBeUndefined();
    }
    const none = build({ type: "none" });
    expect(none.tools).toBeUndefined();
    expect(none.toolConfig).toBeUndefined();
  });

  it("with custom tools, keeps the functions and leaves Google Search out (Gemini rejects the mix)", () => {
    const out = buildGeminiBody(
      request({ tools: [SEARCH, READ], tool_choice: { type: "auto" } }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          { name: "Read", parametersJsonSchema: { type: "object", properties: { p: { type: "string" } } } },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: "AUTO" } });
  });

  it("forcing web search next to custom tools is a clear 400", () => {
    const build = () =>
      buildGeminiBody(
        request({ tools: [SEARCH, READ], tool_choice: { type: "tool", name: "web_search" } }),
        "gemini-2.5-pro",
        JSON_MODE,
      );
    expect(build).toThrow(GatewayError);
    expect(build).toThrow(
      /web search, which Gemini cannot run next to custom tools.*routes\[\]\.when\.web_search/,
    );
  });

  it("a custom tool that is merely named web_search stays a function", () => {
    const out = buildGeminiBody(
      request({ tools: [{ name: "web_search", input_schema: { type: "object", properties: {} } }] }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          { name: "web_search", parametersJsonSchema: { type: "object", properties: {} } },
        ],
      },
    ]);
  });
});

describe("request: earlier searches in the history", () => {
  const searchTurn = {
    role: "assistant",
    content: [
      { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "ccgate" } },
      {
        type: "web_search_tool_result",
        tool_use_id: "srvtoolu_1",
        content: [
          {
            type: "web_search_result",
            url: "https://a.example",
            title: "A",
            encrypted_content: "x",
            page_age: null,
          },
        ],
      },
      {
        type: "text",
        text: "ccgate is a gateway.",
        citations: [
          {
            type: "web_search_result_location",
            url: "https://a.example",
            title: "A",
            cited_text: "ccgate is a gateway.",
            encrypted_index: "y",
          },
        ],
      },
    ],
  };

  it("drops server tool blocks and citations, keeps the text", () => {
    const out = buildGeminiBody(
      request({ tools: [SEARCH], messages: [...hello, searchTurn, { role: "user", content: "thanks" }] }),
      "gemini-2.5-flash",
      JSON_MODE,
    );
    expect(out.contents).toEqual([
      { role: "user", parts: [{ text: "Perform a web search for the query: ccgate" }] },
      { role: "model", parts: [{ text: "ccgate is a gateway." }] },
      { role: "user", parts: [{ text: "thanks" }] },
    ]);
  });

  it("a turn holding only server tool blocks disappears and the user turns around it merge", () => {
    const onlySearch = { role: "assistant", content: searchTurn.content.slice(0, 2) };
    const out = buildGeminiBody(
      request({ messages: [...hello, onlySearch, { role: "user", content: "go on" }] }),
      "gemini-2.5-flash",
      JSON_MODE,
    );
    expect(out.contents).toEqual([
      { role: "user", parts: [{ text: "Perform a web search for the query: ccgate" }, { text: "go on" }] },
    ]);
  });
});

describe("OpenAI-compatible targets", () => {
  it("refuse web search with a 400 that says where to route it", () => {
    let caught: unknown;
    try {
      toChatTools([READ, SEARCH] as MessagesRequest["tools"]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      class: "client",
      message:
        "web search is not supported by this OpenAI-compatible target; route web_search requests to a Gemini or Anthropic target (routes[].when.web_search)",
    });
  });

  it("still skip the other server tools", () => {
    expect(
      toChatTools([READ, { name: "bash", type: "bash_20250124" }] as MessagesRequest["tools"]),
    ).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Stream translation.

function ctx(upstreamModel = "gemini-2.5-flash"): AttemptContext {
  return {
    requestedModel: REQUESTED,
    upstreamModel,
    baseUrl: "https://generativelanguage.googleapis.com",
    apiKey: "k",
  };
}

function sse(chunks: readonly unknown[]): Uint8Array {
  return new TextEncoder().encode(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(""));
}

async function decode(chunks: readonly unknown[], cuts: readonly number[] = [], model?: string) {
  const bytes = sse(chunks);
  async function* body(): AsyncGenerator<Uint8Array> {
    let at = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      if (cut <= at || cut >= bytes.length) continue;
      yield bytes.slice(at, cut);
      at = cut;
    }
    yield bytes.slice(at);
  }
  const events: StreamEvent[] = [];
  for await (const batch of decodeGeminiStream(body(), ctx(model))) events.push(...batch);
  return events;
}

/** Random ids replaced: the message id and `srvtoolu_…` (checked to be well formed and paired). */
function normalize(events: StreamEvent[]): StreamEvent[] {
  const ids = new Map<string, string>();
  const stable = (id: string): string => {
    expect(id).toMatch(/^srvtoolu_[0-9A-Za-z]{24}$/);
    if (!ids.has(id)) ids.set(id, `srvtoolu#${ids.size}`);
    return ids.get(id) ?? id;
  };
  return events.map((event) => {
    if (event.type === "message_start") return { ...event, message: { ...event.message, id: "msg_X" } };
    if (event.type !== "content_block_start") return event;
    const block = event.content_block;
    if (block.type === "server_tool_use")
      return { ...event, content_block: { ...block, id: stable(block.id) } };
    if (block.type === "web_search_tool_result") {
      return { ...event, content_block: { ...block, tool_use_id: stable(block.tool_use_id) } };
    }
    return event;
  });
}

const [ONE, TWO] = FAKE_SEARCH_SOURCES as [(typeof FAKE_SEARCH_SOURCES)[0], (typeof FAKE_SEARCH_SOURCES)[0]];
const ANSWER = `${FAKE_SEARCH_FACTS[0]} ${FAKE_SEARCH_FACTS[1]}`;

function cite(source: { uri: string; title: string }, citedText: string) {
  return {
    type: "web_search_result_location",
    url: source.uri,
    title: source.title,
    cited_text: citedText,
    encrypted_index: expect.any(String),
  };
}
function result(source: { uri: string; title: string }) {
  return {
    type: "web_search_result",
    url: source.uri,
    title: source.title,
    encrypted_content: expect.any(String),
    page_age: null,
  };
}
const delta = (index: number, d: unknown) => ({ type: "content_block_delta", index, delta: d });
const searchBlocks = (index: number, id: string, query: string, results: unknown[]) => [
  {
    type: "content_block_start",
    index,
    content_block: { type: "server_tool_use", id, name: "web_search", input: {} },
  },
  delta(index, { type: "input_json_delta", partial_json: JSON.stringify({ query }) }),
  { type: "content_block_stop", index },
  {
    type: "content_block_start",
    index: index + 1,
    content_block: { type: "web_search_tool_result", tool_use_id: id, content: results },
  },
  { type: "content_block_stop", index: index + 1 },
];

function grounded(parts = 2): GeminiChunkSpec[] {
  return groundedAnswer(ANSWER, {
    queries: ["ccgate"],
    sources: FAKE_SEARCH_SOURCES,
    supports: [
      { text: FAKE_SEARCH_FACTS[0], sources: [0] },
      { text: FAKE_SEARCH_FACTS[1], sources: [1, 0] },
    ],
    parts,
  });
}

describe("stream: groundingMetadata → web search blocks and citations", () => {
  it("cites the open answer block, then emits server_tool_use + web_search_tool_result (exact events)", async () => {
    const events = normalize(await decode(grounded()));
    const half = Math.ceil(Array.from(ANSWER).length / 2);
    expect(events).toEqual([
      {
        type: "message_start",
        message: expect.objectContaining({ id: "msg_X", model: REQUESTED, content: [] }),
      },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      delta(0, { type: "text_delta", text: Array.from(ANSWER).slice(0, half).join("") }),
      delta(0, { type: "text_delta", text: Array.from(ANSWER).slice(half).join("") }),
      delta(0, { type: "citations_delta", citation: cite(ONE, FAKE_SEARCH_FACTS[0]) }),
      delta(0, { type: "citations_delta", citation: cite(TWO, FAKE_SEARCH_FACTS[1]) }),
      delta(0, { type: "citations_delta", citation: cite(ONE, FAKE_SEARCH_FACTS[1]) }),
      { type: "content_block_stop", index: 0 },
      ...searchBlocks(1, "srvtoolu#0", "ccgate", [result(ONE), result(TWO)]),
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: {
          input_tokens: 120, // the search's toolUsePromptTokenCount (no prompt count in raw chunks)
          output_tokens: expect.any(Number),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 },
        },
      },
      { type: "message_stop" },
    ]);
  });

  it("gives the same events however the bytes are cut (multi-byte text and JSON split)", async () => {
    const whole = normalize(await decode(grounded(3)));
    const length = sse(grounded(3)).length;
    for (const cuts of [
      [1],
      [length - 3],
      [7, 90, 91, 400, 401, 402],
      Array.from({ length: 60 }, (_, i) => i * 17),
    ]) {
      expect(normalize(await decode(grounded(3), cuts)), JSON.stringify(cuts)).toEqual(whole);
    }
  });

  it("accumulates to the message shape the SDK expects", async () => {
    const message = await accumulateMessage(
      (async function* () {
        yield await decode(grounded());
      })(),
    );
    expect(message.stop_reason).toBe("end_turn");
    expect(message.content).toEqual([
      {
        type: "text",
        text: ANSWER,
        citations: [
          cite(ONE, FAKE_SEARCH_FACTS[0]),
          cite(TWO, FAKE_SEARCH_FACTS[1]),
          cite(ONE, FAKE_SEARCH_FACTS[1]),
        ],
      },
      {
        type: "server_tool_use",
        id: expect.stringMatching(/^srvtoolu_/),
        name: "web_search",
        input: { query: "ccgate" },
      },
      {
        type: "web_search_tool_result",
        tool_use_id: (message.content[1] as { id: string }).id,
        content: [result(ONE), result(TWO)],
      },
    ]);
  });

  it("places citations by byte offsets when Gemini sends no segment text", async () => {
    const chunks = grounded(1);
    const candidate = chunks[0]?.candidates?.[0] as
      | { groundingMetadata: { groundingSupports: { segment: { text?: string } }[] } }
      | undefined;
    const meta = candidate?.groundingMetadata ?? { groundingSupports: [] };
    expect(meta.groundingSupports).toHaveLength(2);
    for (const support of meta.groundingSupports) delete support.segment.text;
    const citations = (await decode(chunks)).flatMap((e) =>
      e.type === "content_block_delta" && e.delta.type === "citations_delta" ? [e.delta.citation] : [],
    );
    expect(citations).toEqual([
      cite(ONE, FAKE_SEARCH_FACTS[0]),
      cite(TWO, FAKE_SEARCH_FACTS[1]), // "—" and "ünïcödé" are multi-byte: offsets are bytes
      cite(ONE, FAKE_SEARCH_FACTS[1]),
    ]);
  });

  it("puts search blocks first when complete metadata arrives before any answer text", async () => {
    const early: GeminiChunkSpec = {
      candidates: [
        {
          content: { role: "model", parts: [] },
          index: 0,
          groundingMetadata: {
            webSearchQueries: ["ccgate", "second query"],
            groundingChunks: [{ web: { ...ONE } }, { web: { ...TWO } }],
          },
        },
      ],
    };
    // The last chunk repeats the same queries and sources (deduplicated) and adds the supports.
    const events = normalize(await decode([early, ...grounded(1)]));
    expect(events.filter((e) => e.type === "content_block_start").map((e) => e.content_block.type)).toEqual([
      "server_tool_use",
      "web_search_tool_result",
      "server_tool_use",
      "web_search_tool_result",
      "text",
    ]);
    expect(events.slice(1, 11)).toEqual([
      ...searchBlocks(0, "srvtoolu#0", "ccgate", [result(ONE), result(TWO)]),
      ...searchBlocks(2, "srvtoolu#1", "second query", []),
    ]);
    expect(events.slice(11, -2)).toEqual([
      { type: "content_block_start", index: 4, content_block: { type: "text", text: "" } },
      delta(4, { type: "text_delta", text: ANSWER }),
      delta(4, { type: "citations_delta", citation: cite(ONE, FAKE_SEARCH_FACTS[0]) }),
      delta(4, { type: "citations_delta", citation: cite(TWO, FAKE_SEARCH_FACTS[1]) }),
      delta(4, { type: "citations_delta", citation: cite(ONE, FAKE_SEARCH_FACTS[1]) }),
      { type: "content_block_stop", index: 4 },
    ]);
    expect(events.at(-2)).toMatchObject({ usage: { server_tool_use: { web_search_requests: 2 } } });
  });

  it("waits for the sources: queries alone before the text do not open search blocks", async () => {
    const queriesOnly: GeminiChunkSpec = {
      candidates: [
        {
          content: { role: "model", parts: [] },
          index: 0,
          groundingMetadata: { webSearchQueries: ["ccgate"] },
        },
      ],
    };
    const events = await decode([queriesOnly, ...grounded(1)]);
    expect(events.filter((e) => e.type === "content_block_start").map((e) => e.content_block.type)).toEqual([
      "text",
      "server_tool_use",
      "web_search_tool_result",
    ]);
  });

  it("one pair per query; all sources in the first result, later lists empty", async () => {
    const chunks = groundedAnswer(ANSWER, {
      queries: ["q1", "q2", "q1"],
      sources: [ONE, TWO, ONE],
      supports: [{ text: FAKE_SEARCH_FACTS[0], sources: [2] }],
    });
    const events = normalize(await decode(chunks));
    expect(events.slice(5, 15)).toEqual([
      ...searchBlocks(1, "srvtoolu#0", "q1", [result(ONE), result(TWO)]),
      ...searchBlocks(3, "srvtoolu#1", "q2", []),
    ]);
    expect(events.at(-2)).toMatchObject({ usage: { server_tool_use: { web_search_requests: 2 } } });
  });

  it("keeps the thinking block first and its signature (Gemini 3 with thoughts)", async () => {
    const chunks = groundedAnswer(ANSWER, {
      queries: ["ccgate"],
      sources: [ONE],
      supports: [{ text: FAKE_SEARCH_FACTS[1], sources: [0] }],
      thought: "I should search.",
    });
    const events = await decode(chunks, [], "gemini-3-flash-preview");
    const types = events.filter((e) => e.type === "content_block_start").map((e) => e.content_block.type);
    expect(types).toEqual(["thinking", "text", "server_tool_use", "web_search_tool_result"]);
    expect(events.some((e) => e.type === "content_block_delta" && e.delta.type === "signature_delta")).toBe(
      true,
    );
    const message = await accumulateMessage(
      (async function* () {
        yield events;
      })(),
    );
    expect(message.content[1]).toEqual({
      type: "text",
      text: ANSWER,
      citations: [cite(ONE, FAKE_SEARCH_FACTS[1])],
    });
  });

  it("drops citations of text in a block that is already closed", async () => {
    const chunk = (parts: unknown[], extra: Record<string, unknown> = {}): GeminiChunkSpec => ({
      candidates: [{ content: { role: "model", parts: parts as never }, index: 0, ...extra }],
    });
    const events = await decode([
      chunk([{ text: "Alpha fact." }]),
      chunk([{ text: "thinking more", thought: true }]),
      chunk([{ text: "Beta fact." }], {
        finishReason: "STOP",
        groundingMetadata: {
          webSearchQueries: ["q"],
          groundingChunks: [{ web: { uri: ONE.uri, title: ONE.title } }],
          groundingSupports: [
            { segment: { endIndex: 11, text: "Alpha fact." }, groundingChunkIndices: [0] },
            { segment: { startIndex: 11, endIndex: 21, text: "Beta fact." }, groundingChunkIndices: [0] },
          ],
        },
      }),
    ]);
    const citations = events.flatMap((e) =>
      e.type === "content_block_delta" && e.delta.type === "citations_delta"
        ? [[e.index, e.delta.citation]]
        : [],
    );
    expect(citations).toEqual([[2, cite(ONE, "Beta fact.")]]);
  });

  it("metadata after the finish chunk still yields search blocks (no citations: the text is closed)", async () => {
    const trailing: GeminiChunkSpec = {
      candidates: [
        {
          content: { role: "model", parts: [] },
          index: 0,
          groundingMetadata: {
            webSearchQueries: ["late"],
            groundingChunks: [{ web: { uri: TWO.uri, title: TWO.title } }],
            groundingSupports: [{ segment: { endIndex: 5, text: "Hello" }, groundingChunkIndices: [0] }],
          },
        },
      ],
    };
    const events = normalize(await decode([...textChunks("Hello there."), trailing]));
    expect(events.some((e) => e.type === "content_block_delta" && e.delta.type === "citations_delta")).toBe(
      false,
    );
    expect(events.slice(-7, -2)).toEqual(searchBlocks(1, "srvtoolu#0", "late", [result(TWO)]));
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: "end_turn" } });
  });

  it("sources that come after their search's blocks get another result list for the same search", async () => {
    const meta = (source: typeof ONE, extra: Record<string, unknown>): GeminiChunkSpec => ({
      candidates: [
        {
          content: { role: "model", parts: [] },
          index: 0,
          groundingMetadata: { webSearchQueries: ["q"], groundingChunks: [{ web: { ...source } }] },
          ...extra,
        },
      ],
    });
    const first = meta(ONE, { content: { role: "model", parts: [{ text: "Hi." }] }, finishReason: "STOP" });
    const events = normalize(await decode([first, meta(TWO, {})]));
    expect(events.slice(4, -2)).toEqual([
      ...searchBlocks(1, "srvtoolu#0", "q", [result(ONE)]),
      {
        type: "content_block_start",
        index: 3,
        content_block: { type: "web_search_tool_result", tool_use_id: "srvtoolu#0", content: [result(TWO)] },
      },
      { type: "content_block_stop", index: 3 },
    ]);
    expect(events.at(-2)).toMatchObject({ usage: { server_tool_use: { web_search_requests: 1 } } });
  });

  it("an answer without grounding is unchanged: no search blocks, no server_tool_use usage", async () => {
    const events = await decode(textChunks("No search needed.", { parts: 2 }));
    expect(events.filter((e) => e.type === "content_block_start")).toHaveLength(1);
    const last = events.at(-2);
    expect(last?.type === "message_delta" && "server_tool_use" in last.usage).toBe(false);
  });

  it("reads only web chunks and ignores metadata without queries or sources", () => {
    expect(readGroundingMetadata(undefined)).toBeUndefined();
    expect(readGroundingMetadata({ searchEntryPoint: { renderedContent: "<div/>" } })).toBeUndefined();
    expect(
      readGroundingMetadata({
        webSearchQueries: ["q", 7, ""],
        groundingChunks: [{ maps: { uri: "https://maps" } }, { web: { uri: ONE.uri } }, { web: {} }],
        groundingSupports: [
          { segment: { text: "x", endIndex: 1 }, groundingChunkIndices: [0] },
          { segment: { text: "y", endIndex: 1 }, groundingChunkIndices: [1, 9] },
          "junk",
        ],
      }),
    ).toEqual({
      queries: ["q"],
      sources: [{ url: ONE.uri, title: ONE.uri }],
      supports: [{ text: "y", startByte: 0, endByte: 1, sources: [{ url: ONE.uri, title: ONE.uri }] }],
    });
  });
});

describe("EventBuilder server tool blocks", () => {
  it("server_tool_use is not a client tool call; citations need an open text block", () => {
    const b = new EventBuilder({ model: "m", messageId: "msg_1" });
    expect(
      b.citation({
        type: "web_search_result_location",
        url: "u",
        title: null,
        cited_text: "c",
        encrypted_index: "e",
      }),
    ).toEqual([]);
    b.start();
    const events = [
      ...b.serverToolUse("srvtoolu_1", "web_search", { query: "q" }),
      ...b.webSearchResult("srvtoolu_1", { type: "web_search_tool_result_error", error_code: "unavailable" }),
    ];
    expect(events).toEqual([
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
      },
      delta(0, { type: "input_json_delta", partial_json: '{"query":"q"}' }),
      { type: "content_block_stop", index: 0 },
      {
        type: "content_block_start",
        index: 1,
        content_block: {
          type: "web_search_tool_result",
          tool_use_id: "srvtoolu_1",
          content: { type: "web_search_tool_result_error", error_code: "unavailable" },
        },
      },
      { type: "content_block_stop", index: 1 },
    ]);
    expect(b.hasToolCalls).toBe(false);
    b.text("x");
    expect(b.openTextIndex).toBe(2);
    expect(
      b.citation({
        type: "web_search_result_location",
        url: "u",
        title: null,
        cited_text: "x",
        encrypted_index: "e",
      }),
    ).toEqual([
      delta(2, {
        type: "citations_delta",
        citation: {
          type: "web_search_result_location",
          url: "u",
          title: null,
          cited_text: "x",
          encrypted_index: "e",
        },
      }),
    ]);
    expect(b.finish("end_turn")[1]).toMatchObject({
      usage: { server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 } },
    });
  });
});
