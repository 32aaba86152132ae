import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import {
  createOpenAIProvider,
  type OpenAIOptions,
  parseOpenAIOptions,
} from "../../src/providers/openai/index.js";
import { chatCompletionsUrl } from "../../src/providers/openai/request.js";
import { decodeChatStream } from "../../src/providers/openai/stream.js";
import { encodeToolUseId } from "../../src/providers/openai/tool-ids.js";
import { validateChatRequest } from "../fakes/openai.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";
import { bodyJson, buildUpstream, type RequestContext } from "../helpers/upstream-body.js";

const CC_FIXTURES = CLAUDE_CODE_FIXTURES;
const PNG = "iVBORw0KGgo=";

function ctxOf(request: Record<string, unknown>, overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    request: messagesRequestSchema.parse({ model: "claude-sonnet-4-6", max_tokens: 1000, ...request }),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gpt-4.1",
    baseUrl: "https://api.openai.com/v1",
    apiKey: "sk-test",
    ...overrides,
  };
}

type Body = Record<string, unknown> & { messages: Array<Record<string, unknown>> };

function bodyOf(
  request: Record<string, unknown>,
  options: OpenAIOptions = {},
  overrides: Partial<RequestContext> = {},
): Body {
  const built = buildUpstream(createOpenAIProvider(options), ctxOf(request, overrides));
  return bodyJson(built.body) as Body;
}

const user = (content: unknown) => ({ role: "user", content });

describe("chatCompletionsUrl", () => {
  it.each([
    ["https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/chat/completions"],
    ["http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1/chat/completions"],
    ["http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1/chat/completions"],
    ["https://api.deepseek.com", "https://api.deepseek.com/v1/chat/completions"],
    ["https://api.openai.com", "https://api.openai.com/v1/chat/completions"],
    ["https://openrouter.ai/api", "https://openrouter.ai/api/v1/chat/completions"],
    [
      "https://generativelanguage.googleapis.com/v1beta/openai",
      "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
    ],
    ["https://open.bigmodel.cn/api/paas/v4", "https://open.bigmodel.cn/api/paas/v4/chat/completions"],
    ["http://localhost:1234/v1/chat/completions", "http://localhost:1234/v1/chat/completions"],
  ])("%s → %s", (base, url) => {
    expect(chatCompletionsUrl(base)).toBe(url);
  });
});

describe("buildRequest: envelope", () => {
  it("POSTs with Bearer auth, merged headers and the streaming basics", () => {
    const provider = createOpenAIProvider();
    const req = buildUpstream(
      provider,
      ctxOf(
        { messages: [user("hi")], stop_sequences: ["END"], temperature: 0.2, top_p: 0.9 },
        { headers: { "x-title": "ccgate", accept: "*/*" } },
      ),
    );
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://api.openai.com/v1/chat/completions");
    expect(req.headers).toEqual({
      "content-type": "application/json",
      accept: "*/*",
      authorization: "Bearer sk-test",
      "x-title": "ccgate",
    });
    expect(bodyJson(req.body)).toEqual({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 1000,
      temperature: 0.2,
      top_p: 0.9,
    });
  });

  it("sends no Authorization without a key", () => {
    const req = buildUpstream(
      createOpenAIProvider(),
      ctxOf({ messages: [user("hi")] }, { apiKey: undefined }),
    );
    expect(req.headers.authorization).toBeUndefined();
  });

  it("options: no stream_options, legacy max_tokens", () => {
    const body = bodyOf({ messages: [user("hi")] }, { streamOptions: false, maxTokensField: "max_tokens" });
    expect(body.stream_options).toBeUndefined();
    expect(body.max_completion_tokens).toBeUndefined();
    expect(body.max_tokens).toBe(1000);
  });

  it("max_tokens 0 (cache pre-warm) asks for one token", () => {
    expect(bodyOf({ max_tokens: 0, messages: [user("hi")] }).max_completion_tokens).toBe(1);
  });

  it("structured output → response_format json_schema", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const body = bodyOf({
      messages: [user("hi")],
      output_config: { format: { type: "json_schema", schema } },
    });
    expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema } });
  });
});

describe("buildRequest: system", () => {
  it("drops Claude Code's billing header block and joins the rest into the first message", () => {
    const body = bodyOf({
      system: [
        {
          type: "text",
          text: "x-anthropic-billing-header: cc_version=2.1.280.a1b; cc_entrypoint=cli; cch=3f2c1;",
        },
        { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Be brief." },
      ],
      messages: [user("hi")],
    });
    expect(body.messages[0]).toEqual({ role: "system", content: "You are Claude Code.\n\nBe brief." });
  });

  it("mid-conversation system messages join the neighbouring user message as reminders", () => {
    const messages = [
      user("a"),
      { role: "system" as const, content: "after a user turn" },
      { role: "assistant" as const, content: "b" },
      { role: "system" as const, content: [{ type: "text" as const, text: "note" }] },
      user("c"),
    ];
    const body = bodyOf({ system: "S", messages });
    // Strict chat templates accept this: one system message first, user/assistant alternating.
    expect(body.messages).toEqual([
      { role: "system", content: "S" },
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "<system-reminder>\nafter a user turn\n</system-reminder>" },
        ],
      },
      { role: "assistant", content: "b" },
      {
        role: "user",
        content: [
          { type: "text", text: "c" },
          { type: "text", text: "<system-reminder>\nnote\n</system-reminder>" },
        ],
      },
    ]);
    // `midConversationSystem: system` keeps them as system messages in place (OpenAI accepts it).
    const inPlace = bodyOf({ system: "S", messages }, { midConversationSystem: "system" });
    expect(inPlace.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "system",
      "assistant",
      "system",
      "user",
    ]);
  });
});

describe("buildRequest: mid-conversation tool changes", () => {
  it("declares the tools in effect at the end and says each change where it was made", () => {
    const schema = { type: "object", properties: {} };
    const body = bodyOf({
      tools: [
        { name: "Read", input_schema: schema },
        { name: "Bash", input_schema: schema },
      ],
      messages: [
        user("a"),
        {
          role: "system",
          content: [
            { type: "tool_removal", tool: { type: "tool_reference", name: "Bash" } },
            {
              type: "tool_addition",
              tool: { type: "tool_definition", definition: { name: "Grep", input_schema: schema } },
            },
          ],
        },
      ],
    }) as Body & { tools: { function: { name: string } }[] };
    expect(body.tools.map((t) => t.function.name)).toEqual(["Read", "Grep"]);
    expect(body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "a" },
        {
          type: "text",
          text: "<system-reminder>\nTool no longer available: Bash.\n\nTool available from here on: Grep.\n</system-reminder>",
        },
      ],
    });
  });
});

describe("buildRequest: tools", () => {
  const tools = [
    {
      name: "Bash",
      description: "Run a command",
      input_schema: {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        properties: { command: { type: "string" } },
        required: ["command"],
        additionalProperties: false,
      },
    },
    { name: "bash", type: "bash_20250124" },
    { name: "NoArgs" },
  ];

  it("custom tools → functions without $schema; server tools skipped", () => {
    expect(bodyOf({ messages: [user("hi")], tools }).tools).toEqual([
      {
        type: "function",
        function: {
          name: "Bash",
          description: "Run a command",
          parameters: {
            type: "object",
            properties: { command: { type: "string" } },
            required: ["command"],
            additionalProperties: false,
          },
        },
      },
      { type: "function", function: { name: "NoArgs", parameters: { type: "object", properties: {} } } },
    ]);
  });

  it.each([
    [{ type: "auto" }, { tool_choice: "auto" }],
    [{ type: "any" }, { tool_choice: "required" }],
    [{ type: "tool", name: "Bash" }, { tool_choice: { type: "function", function: { name: "Bash" } } }],
    [{ type: "none" }, { tool_choice: "none" }],
    [
      { type: "auto", disable_parallel_tool_use: true },
      { tool_choice: "auto", parallel_tool_calls: false },
    ],
    [
      { type: "any", disable_parallel_tool_use: true },
      { tool_choice: "required", parallel_tool_calls: false },
    ],
  ])("tool_choice %j → %j", (choice, expected) => {
    const body = bodyOf({ messages: [user("hi")], tools, tool_choice: choice });
    expect({ tool_choice: body.tool_choice, parallel_tool_calls: body.parallel_tool_calls }).toEqual({
      parallel_tool_calls: undefined,
      ...expected,
    });
  });

  it("no tool_choice / parallel_tool_calls without tools (OpenAI rejects them)", () => {
    const body = bodyOf({
      messages: [user("hi")],
      tools: [{ name: "bash", type: "bash_20250124" }],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
    });
    expect(body.tools).toBeUndefined();
    expect(body.tool_choice).toBeUndefined();
    expect(body.parallel_tool_calls).toBeUndefined();
  });
});

describe("buildRequest: tool round trip", () => {
  const toolTurn = {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "I should look.", signature: "oa1" },
      { type: "text", text: "Looking." },
      { type: "tool_use", id: "call_1", name: "Read", input: { file_path: "/a" } },
      { type: "tool_use", id: "call_2", name: "Bash", input: { command: "ls" } },
    ],
  };

  it("tool results follow the call in call order; images and trailing text go in one user message", () => {
    const body = bodyOf({
      messages: [
        user("go"),
        toolTurn,
        user([
          {
            type: "tool_result",
            tool_use_id: "call_2",
            content: "boom",
            is_error: true,
          },
          {
            type: "tool_result",
            tool_use_id: "call_1",
            content: [
              { type: "text", text: "line 1" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
              { type: "text", text: "line 2" },
            ],
          },
          { type: "text", text: "<system-reminder>r</system-reminder>" },
        ]),
      ],
    });
    expect(body.messages).toEqual([
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: "Looking.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "Read", arguments: '{"file_path":"/a"}' } },
          { id: "call_2", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "line 1\nline 2" },
      { role: "tool", tool_call_id: "call_2", content: "Error: boom" },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "text", text: "<system-reminder>r</system-reminder>" },
        ],
      },
    ]);
    expect(validateChatRequest(body)).toBeUndefined();
  });

  it("assistant with only tool calls sends content null; thinking echoed only with reasoningField", () => {
    const turn = {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "plan", signature: "oa1" },
        { type: "tool_use", id: "call_9", name: "Glob", input: {} },
      ],
    };
    const messages = [user("go"), turn, user([{ type: "tool_result", tool_use_id: "call_9", content: "x" }])];
    expect(bodyOf({ messages }).messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_9", type: "function", function: { name: "Glob", arguments: "{}" } }],
    });
    expect(bodyOf({ messages }, { reasoningField: "reasoning_content" }).messages[1]).toMatchObject({
      reasoning_content: "plan",
    });
  });

  it("a result for an unknown call becomes user text instead of an invalid tool message", () => {
    const body = bodyOf({ messages: [user([{ type: "tool_result", tool_use_id: "ghost", content: "x" }])] });
    expect(body.messages).toEqual([{ role: "user", content: "Result of tool call ghost:\nx" }]);
    expect(validateChatRequest(body)).toBeUndefined();
  });

  it("foreign ids longer than OpenAI's 40 chars map to the same short id on both sides", () => {
    const long = `toolu_gm${"x".repeat(60)}`;
    const body = bodyOf({
      messages: [
        user("go"),
        { role: "assistant", content: [{ type: "tool_use", id: long, name: "Read", input: {} }] },
        user([{ type: "tool_result", tool_use_id: long, content: "ok" }]),
      ],
    });
    const calls = body.messages[1]?.tool_calls as Array<{ id: string }>;
    expect(calls[0]?.id).toMatch(/^call_[A-Za-z0-9_-]{32}$/);
    expect(body.messages[2]).toEqual({ role: "tool", tool_call_id: calls[0]?.id, content: "ok" });
    expect(validateChatRequest(body)).toBeUndefined();
  });
});

describe("buildRequest: Gemini OpenAI-compat thought signatures", () => {
  async function toolUseIdsFrom(model: string): Promise<string[]> {
    const chunk = (call: Record<string, unknown>) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", tool_calls: [call] } }] })}\n\n`;
    const text =
      chunk({
        id: "fc-1",
        type: "function",
        function: { name: "Read", arguments: '{"file_path":"/a"}' },
        extra_content: { google: { thought_signature: "SIG_A" } },
      }) +
      chunk({ id: "fc-2", type: "function", function: { name: "Read", arguments: '{"file_path":"/b"}' } }) +
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
    async function* body() {
      yield new TextEncoder().encode(text);
    }
    const ids: string[] = [];
    for await (const batch of decodeChatStream(
      body(),
      ctxOf({ messages: [user("go")] }, { upstreamModel: model }),
    )) {
      for (const event of batch)
        if (event.type === "content_block_start" && event.content_block.type === "tool_use")
          ids.push(event.content_block.id);
    }
    return ids;
  }

  function followUp(ids: string[], model: string): Body {
    return bodyOf(
      {
        messages: [
          user("go"),
          {
            role: "assistant",
            content: ids.map((id, i) => ({
              type: "tool_use",
              id,
              name: "Read",
              input: { file_path: i === 0 ? "/a" : "/b" },
            })),
          },
          user(ids.map((id) => ({ type: "tool_result", tool_use_id: id, content: "data" }))),
        ],
      },
      {},
      { upstreamModel: model, baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai" },
    );
  }

  it("echoes the original call id and extra_content to the model that issued them", async () => {
    const ids = await toolUseIdsFrom("gemini-3-pro-preview");
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^toolu_oa[A-Za-z0-9_-]+$/);
    const body = followUp(ids, "gemini-3-pro-preview");
    expect(body.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "fc-1",
            type: "function",
            function: { name: "Read", arguments: '{"file_path":"/a"}' },
            extra_content: { google: { thought_signature: "SIG_A" } },
          },
          { id: "fc-2", type: "function", function: { name: "Read", arguments: '{"file_path":"/b"}' } },
        ],
      },
      { role: "tool", tool_call_id: "fc-1", content: "data" },
      { role: "tool", tool_call_id: "fc-2", content: "data" },
    ]);
  });

  it("does not replay a signature into a different model", async () => {
    const ids = await toolUseIdsFrom("gemini-3-pro-preview");
    const calls = followUp(ids, "gpt-4.1").messages[1]?.tool_calls as Array<Record<string, unknown>>;
    expect(calls.map((c) => c.extra_content)).toEqual([undefined, undefined]);
    expect(calls.map((c) => c.id)).toEqual(["fc-1", "fc-2"]);
  });

  it("an id with the prefix but a broken payload is treated as foreign", () => {
    const body = bodyOf({
      messages: [
        user("go"),
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_oa!!", name: "Read", input: {} }] },
        user([{ type: "tool_result", tool_use_id: "toolu_oa!!", content: "x" }]),
      ],
    });
    const calls = body.messages[1]?.tool_calls as Array<{ id: string }>;
    expect(calls[0]?.id).toMatch(/^call_/);
    expect(encodeToolUseId({ id: "fc-1" })).toMatch(/^toolu_oa/);
  });
});

describe("buildRequest: user content", () => {
  it("images (base64, url), PDF and text documents", () => {
    const body = bodyOf({
      messages: [
        user([
          { type: "text", text: "look" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          { type: "image", source: { type: "url", url: "https://example.com/a.jpg" } },
          {
            type: "document",
            title: "spec.pdf",
            source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
          },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "plain doc" } },
        ]),
      ],
    });
    expect(body.messages[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "look" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
        { type: "file", file: { filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
        { type: "text", text: "plain doc" },
      ],
    });
  });

  it("Files API sources fail loudly", () => {
    const provider = createOpenAIProvider();
    const ctx = ctxOf({ messages: [user([{ type: "image", source: { type: "file", file_id: "file_1" } }])] });
    expect(() => buildUpstream(provider, ctx)).toThrow(GatewayError);
  });
});

describe("buildRequest: reasoning_effort", () => {
  it.each([
    [{ type: "adaptive" }, { effort: "medium" }, "medium"],
    [{ type: "adaptive" }, { effort: "xhigh" }, "high"],
    [{ type: "adaptive" }, { effort: "max" }, "high"],
    [{ type: "adaptive" }, { effort: "low" }, "low"],
    [{ type: "adaptive" }, undefined, undefined],
    [{ type: "enabled", budget_tokens: 2048 }, undefined, "low"],
    [{ type: "enabled", budget_tokens: 10000 }, undefined, "medium"],
    [{ type: "enabled", budget_tokens: 32000 }, undefined, "high"],
    [{ type: "enabled", budget_tokens: 32000 }, { effort: "low" }, "low"],
    [{ type: "disabled" }, { effort: "high" }, undefined],
    [undefined, { effort: "high" }, undefined],
  ])("thinking %j, output_config %j → %s", (thinking, outputConfig, expected) => {
    const request: Record<string, unknown> = { max_tokens: 64000, messages: [user("hi")] };
    if (thinking !== undefined) request.thinking = thinking;
    if (outputConfig !== undefined) request.output_config = outputConfig;
    expect(bodyOf(request).reasoning_effort).toBe(expected);
  });

  it("reasoningEffort: false never sends it", () => {
    const body = bodyOf(
      { messages: [user("hi")], thinking: { type: "adaptive" }, output_config: { effort: "high" } },
      { reasoningEffort: false },
    );
    expect(body.reasoning_effort).toBeUndefined();
  });
});

describe("buildRequest: real Claude Code requests", () => {
  const files = readdirSync(CC_FIXTURES).filter((f) => f.endsWith(".json"));
  it.each(files)("%s → a body OpenAI's rules accept", (file) => {
    const fixture = JSON.parse(readFileSync(join(CC_FIXTURES, file), "utf8")) as {
      body: Record<string, unknown>;
    };
    const body = bodyOf(fixture.body);
    expect(validateChatRequest(body)).toBeUndefined();
    expect(body.reasoning_effort).toBe("medium");
    expect(body.stop).toBeUndefined();
    const tools = body.tools as Array<{ function: { parameters: Record<string, unknown> } }>;
    expect(tools.length).toBeGreaterThan(0);
    for (const t of tools) expect(t.function.parameters.$schema).toBeUndefined();
    expect(JSON.stringify(body.messages)).not.toContain("x-anthropic-billing-header");
  });
});

describe("parseOpenAIOptions", () => {
  it("accepts the documented switches", () => {
    expect(
      parseOpenAIOptions({
        streamOptions: false,
        reasoningEffort: false,
        maxTokensField: "max_tokens",
        reasoningField: "reasoning_content",
      }),
    ).toEqual({
      streamOptions: false,
      reasoningEffort: false,
      maxTokensField: "max_tokens",
      reasoningField: "reasoning_content",
    });
  });

  it.each([
    [{ streamOptions: "no" }, /streamOptions must be true or false/],
    [{ maxTokensField: "max_output_tokens" }, /maxTokensField/],
    [{ reasoningField: "thoughts" }, /reasoningField/],
    [{ streamOption: false }, /unknown option "streamOption"/],
  ])("rejects %j", (options, message) => {
    expect(() => parseOpenAIOptions(options)).toThrow(message);
  });
});
