/**
 * Anthropic request → Gemini generateContent body: fixtures, system, merging, generation config,
 * tools and tool_choice, structured output (protocol.md F.2, F.5).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { type MessagesRequest, messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import type { GeminiOptions } from "../../src/providers/gemini/options.js";
import {
  buildGeminiBody,
  buildGenerateBody,
  buildGenerateRequest,
} from "../../src/providers/gemini/request.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";
import { bodyJson, type RequestContext } from "../helpers/upstream-body.js";

const JSON_MODE: GeminiOptions = { toolSchema: "json-schema" };
const OPENAPI_MODE: GeminiOptions = { toolSchema: "openapi" };
const FIXTURES = CLAUDE_CODE_FIXTURES;

function request(fields: Record<string, unknown>): MessagesRequest {
  return messagesRequestSchema.parse({ model: "claude-sonnet-4-6", max_tokens: 1000, ...fields });
}
const hello = [{ role: "user", content: "hi" }];

function loadFixtures(): { name: string; body: MessagesRequest }[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .map((name) => ({
      name,
      body: messagesRequestSchema.parse(
        (JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as { body: unknown }).body,
      ),
    }));
}

/** Every keyword used in schema positions (property names are data and are skipped). */
function schemaKeywords(schema: unknown, out = new Set<string>()): Set<string> {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return out;
  for (const [key, value] of Object.entries(schema)) {
    out.add(key);
    if ((key === "properties" || key === "$defs") && typeof value === "object" && value !== null) {
      for (const sub of Object.values(value)) schemaKeywords(sub, out);
    } else if ((key === "anyOf" || key === "oneOf" || key === "prefixItems") && Array.isArray(value)) {
      for (const sub of value) schemaKeywords(sub, out);
    } else if (key === "items" || key === "additionalProperties") {
      schemaKeywords(value, out);
    }
  }
  return out;
}

/** Structural rules of the OpenAPI-subset Schema that Gemini enforces with a 400. */
function assertOpenApiValid(schema: unknown, path: string): void {
  expect(typeof schema === "object" && schema !== null && !Array.isArray(schema), path).toBe(true);
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined) {
    expect(["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"], path).toContain(s.type);
  }
  if (s.enum !== undefined) {
    expect(s.type, `${path}: enum only on STRING`).toBe("STRING");
    for (const v of s.enum as unknown[]) expect(typeof v, path).toBe("string");
  }
  if (s.type === "ARRAY") expect(s.items, `${path}: ARRAY needs items`).toBeDefined();
  if (s.items !== undefined) assertOpenApiValid(s.items, `${path}.items`);
  if (s.properties !== undefined) {
    const props = s.properties as Record<string, unknown>;
    expect(Object.keys(props).length, `${path}: properties must be non-empty`).toBeGreaterThan(0);
    for (const [name, sub] of Object.entries(props)) assertOpenApiValid(sub, `${path}.properties.${name}`);
  }
  for (const name of (s.required as string[] | undefined) ?? []) {
    expect(Object.keys((s.properties as object | undefined) ?? {}), `${path}: required ${name}`).toContain(
      name,
    );
  }
  for (const [i, sub] of ((s.anyOf as unknown[] | undefined) ?? []).entries())
    assertOpenApiValid(sub, `${path}.anyOf[${i}]`);
}

const OPENAPI_ALLOWED = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "items",
  "minItems",
  "maxItems",
  "properties",
  "required",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "anyOf",
  "default",
  "example",
  "propertyOrdering",
]);
const JSON_SCHEMA_DOCUMENTED = new Set([
  "$id",
  "$defs",
  "$ref",
  "$anchor",
  "type",
  "format",
  "title",
  "description",
  "enum",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "anyOf",
  "oneOf",
  "properties",
  "additionalProperties",
  "required",
  "propertyOrdering",
]);

describe("Claude Code fixtures", () => {
  const fixtures = loadFixtures();

  it("finds the recorded requests", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(11);
  });

  for (const model of [
    "gemini-3-pro-preview",
    "gemini-3-flash-preview",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
  ]) {
    it(`translates every fixture for ${model} with parametersJsonSchema (documented keywords only)`, () => {
      for (const { name, body } of fixtures) {
        const out = buildGeminiBody(body, model, JSON_MODE);
        const declarations = out.tools?.[0]?.functionDeclarations ?? [];
        expect(declarations.length, name).toBe(body.tools?.length);
        for (const d of declarations) {
          expect(d.parameters, `${name} ${d.name}`).toBeUndefined();
          const keys = schemaKeywords(d.parametersJsonSchema);
          expect(keys.has("$schema"), `${name} ${d.name}`).toBe(false);
          for (const key of keys)
            expect(JSON_SCHEMA_DOCUMENTED.has(key), `${name} ${d.name}: ${key}`).toBe(true);
        }
        assertWellFormedContents(out.contents, name);
        expect(JSON.stringify(out)).not.toContain("stopSequences");
        expect(out.generationConfig.maxOutputTokens).toBe(65_536);
      }
    });

    it(`translates every fixture for ${model} with OpenAPI-subset parameters (nothing forbidden by F.5)`, () => {
      for (const { name, body } of fixtures) {
        const out = buildGeminiBody(body, model, OPENAPI_MODE);
        for (const d of out.tools?.[0]?.functionDeclarations ?? []) {
          expect(d.parametersJsonSchema, `${name} ${d.name}`).toBeUndefined();
          if (d.name === "DeferredToolPlaceholder") {
            // `{type: object, properties: {}}` would be a 400: a parameterless function has no parameters.
            expect(d.parameters).toBeUndefined();
            continue;
          }
          expect(d.parameters?.type, `${name} ${d.name}`).toBe("OBJECT");
          for (const key of schemaKeywords(d.parameters)) {
            expect(OPENAPI_ALLOWED.has(key), `${name} ${d.name}: ${key}`).toBe(true);
          }
          assertOpenApiValid(d.parameters, `${name}.${d.name}`);
        }
      }
    });
  }

  it("maps the recorded tool round trip (tool-bash-error-2) to a call and an error response", () => {
    const body = fixtures.find((f) => f.name === "tool-bash-error-2.json")?.body;
    expect(body).toBeDefined();
    const out = buildGeminiBody(body as MessagesRequest, "gemini-3-pro-preview", JSON_MODE);
    const model = out.contents.find((c) => c.role === "model");
    const call = model?.parts?.find((p) => p.functionCall !== undefined);
    expect(call?.functionCall?.name).toBe("Bash");
    // A foreign (Anthropic) id carries no Gemini id and no signature: skip value, no `id`.
    expect(call?.thoughtSignature).toBe("skip_thought_signature_validator");
    expect(call?.functionCall?.id).toBeUndefined();
    const last = out.contents[out.contents.length - 1];
    expect(last?.role).toBe("user");
    const response = last?.parts?.[0]?.functionResponse;
    expect(response?.name).toBe("Bash");
    expect(Object.keys(response?.response ?? {})).toEqual(["error"]);
    expect(response?.id).toBeUndefined();
  });

  it("keeps each fixture's mid-conversation system message as user text, in place", () => {
    const body = fixtures.find((f) => f.name === "agent-2.json")?.body as MessagesRequest;
    const out = buildGeminiBody(body, "gemini-2.5-pro", JSON_MODE);
    const first = out.contents[0];
    expect(first?.role).toBe("user");
    expect(first?.parts?.[2]?.text).toMatch(/^<system-reminder>\n[\s\S]*\n<\/system-reminder>$/);
    expect(out.contents.map((c) => c.role)).toEqual(["user", "model", "user"]);
  });
});

function assertWellFormedContents(
  contents: ReturnType<typeof buildGeminiBody>["contents"],
  name: string,
): void {
  expect(contents.length, name).toBeGreaterThan(0);
  contents.forEach((c, i) => {
    expect(["user", "model"], name).toContain(c.role);
    expect(c.parts?.length ?? 0, `${name} contents[${i}] empty`).toBeGreaterThan(0);
    if (i > 0) expect(c.role, `${name} contents[${i}] not merged`).not.toBe(contents[i - 1]?.role);
    for (const p of c.parts ?? []) expect(p.text, `${name} contents[${i}] empty text`).not.toBe("");
  });
}

describe("buildGenerateRequest", () => {
  const ctx: RequestContext = {
    request: request({ messages: hello }),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gemini-2.5-flash",
    baseUrl: "https://generativelanguage.googleapis.com",
    apiKey: "AIza-test",
    headers: { "x-extra": "1" },
  };

  it("posts to streamGenerateContent with alt=sse, the key header and the configured headers", () => {
    const req = buildGenerateRequest(ctx, buildGenerateBody(ctx, JSON_MODE));
    expect(req.method).toBe("POST");
    expect(req.url).toBe(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    expect(req.headers).toEqual({
      "content-type": "application/json",
      "x-goog-api-key": "AIza-test",
      "x-extra": "1",
    });
    expect(bodyJson(req.body)).toEqual(buildGeminiBody(ctx.request, "gemini-2.5-flash", JSON_MODE));
  });

  it("sends no key header without a key and strips a models/ prefix from the URL", () => {
    const req = buildGenerateRequest(
      { ...ctx, apiKey: undefined, upstreamModel: "models/gemini-2.5-pro" },
      "{}",
    );
    expect(req.headers["x-goog-api-key"]).toBeUndefined();
    expect(req.url).toContain("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
  });
});

describe("system prompt", () => {
  it("sends a string system prompt as systemInstruction text", () => {
    const out = buildGeminiBody(
      request({ system: "be brief", messages: hello }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.systemInstruction).toEqual({ parts: [{ text: "be brief" }] });
  });

  it("drops Claude Code's attribution block when it is the first block, and empty blocks", () => {
    const system = [
      {
        type: "text",
        text: "x-anthropic-billing-header: cc_version=2.1.280.a1b; cc_entrypoint=cli; cch=3f2c1;",
      },
      { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "" },
      { type: "text", text: "Project rules." },
    ];
    const out = buildGeminiBody(request({ system, messages: hello }), "gemini-2.5-pro", JSON_MODE);
    expect(out.systemInstruction).toEqual({
      parts: [{ text: "You are Claude Code." }, { text: "Project rules." }],
    });
  });

  it("keeps an attribution-looking block that is not first (only the first block is Claude Code's)", () => {
    const system = [
      { type: "text", text: "intro" },
      { type: "text", text: "x-anthropic-billing-header: quoted by the user" },
    ];
    const out = buildGeminiBody(request({ system, messages: hello }), "gemini-2.5-pro", JSON_MODE);
    expect(out.systemInstruction?.parts).toHaveLength(2);
  });

  it("omits systemInstruction when there is no system text", () => {
    const out = buildGeminiBody(request({ system: [], messages: hello }), "gemini-2.5-pro", JSON_MODE);
    expect(out.systemInstruction).toBeUndefined();
    expect("systemInstruction" in out).toBe(false);
  });

  it("turns mid-conversation system messages into user text at their position", () => {
    const out = buildGeminiBody(
      request({
        messages: [
          { role: "user", content: "first" },
          { role: "system", content: [{ type: "text", text: "new rule" }] },
          { role: "assistant", content: "ok" },
          { role: "user", content: "second" },
          { role: "system", content: "late rule" },
        ],
      }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.contents).toEqual([
      {
        role: "user",
        parts: [{ text: "first" }, { text: "<system-reminder>\nnew rule\n</system-reminder>" }],
      },
      { role: "model", parts: [{ text: "ok" }] },
      {
        role: "user",
        parts: [{ text: "second" }, { text: "<system-reminder>\nlate rule\n</system-reminder>" }],
      },
    ]);
  });
});

describe("contents shaping", () => {
  it("merges consecutive same-role messages", () => {
    const out = buildGeminiBody(
      request({
        messages: [
          { role: "user", content: "a" },
          { role: "user", content: [{ type: "text", text: "b" }] },
          { role: "assistant", content: "c" },
          { role: "assistant", content: "d" },
          { role: "user", content: "e" },
        ],
      }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.contents).toEqual([
      { role: "user", parts: [{ text: "a" }, { text: "b" }] },
      { role: "model", parts: [{ text: "c" }, { text: "d" }] },
      { role: "user", parts: [{ text: "e" }] },
    ]);
  });

  it("drops empty text blocks and the contents they leave empty, then merges around them", () => {
    const out = buildGeminiBody(
      request({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "" },
              { type: "text", text: "hi" },
            ],
          },
          { role: "assistant", content: [{ type: "text", text: "" }] },
          { role: "user", content: "again" },
        ],
      }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.contents).toEqual([{ role: "user", parts: [{ text: "hi" }, { text: "again" }] }]);
  });

  it("refuses a request whose messages are all empty (Gemini: contents is not specified)", () => {
    const build = () =>
      buildGeminiBody(request({ messages: [{ role: "user", content: "" }] }), "gemini-2.5-pro", JSON_MODE);
    expect(build).toThrow(GatewayError);
    expect(build).toThrow(/nothing to send/);
  });
});

describe("generationConfig", () => {
  it("clamps max_tokens to the model's output limit and 0 to 1", () => {
    const max = (model: string, max_tokens: number) =>
      buildGeminiBody(request({ max_tokens, messages: hello }), model, JSON_MODE).generationConfig
        .maxOutputTokens;
    expect(max("gemini-2.5-pro", 128_000)).toBe(65_536);
    expect(max("gemini-3-pro-preview", 128_000)).toBe(65_536);
    expect(max("gemini-2.0-flash", 32_000)).toBe(8_192);
    expect(max("gemini-2.5-flash", 1_000)).toBe(1_000);
    expect(max("gemini-2.5-flash", 0)).toBe(1);
  });

  it("forwards temperature, top_p and top_k only when present", () => {
    const withAll = buildGeminiBody(
      request({ temperature: 0.2, top_p: 0.9, top_k: 40, messages: hello }),
      "gemini-2.5-flash",
      JSON_MODE,
    ).generationConfig;
    expect(withAll).toMatchObject({ temperature: 0.2, topP: 0.9, topK: 40 });
    const without = buildGeminiBody(
      request({ temperature: null, messages: hello }),
      "gemini-2.5-flash",
      JSON_MODE,
    );
    expect(Object.keys(without.generationConfig)).toEqual(["maxOutputTokens"]);
  });

  it("does not send stop_sequences (the core detects them in the stream)", () => {
    const out = buildGeminiBody(
      request({ stop_sequences: ["END"], messages: hello }),
      "gemini-2.5-flash",
      JSON_MODE,
    );
    expect(JSON.stringify(out)).not.toMatch(/stop/i);
  });

  it("ignores cache_control, metadata, context_management and unknown fields", () => {
    const out = buildGeminiBody(
      request({
        messages: [
          { role: "user", content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" } }] },
        ],
        metadata: { user_id: "u" },
        cache_control: { type: "ephemeral" },
        context_management: { edits: [] },
        service_tier: "auto",
        some_future_field: { x: 1 },
      }),
      "gemini-2.5-flash",
      JSON_MODE,
    );
    expect(Object.keys(out).sort()).toEqual(["contents", "generationConfig", "safetySettings"]);
    expect(out.contents).toEqual([{ role: "user", parts: [{ text: "hi" }] }]);
  });

  it("turns off the four adjustable safety filters", () => {
    const out = buildGeminiBody(request({ messages: hello }), "gemini-2.5-flash", JSON_MODE);
    expect(out.safetySettings).toEqual([
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "OFF" },
      { category: "HARM_CATEGORY_HATE_SPEECH", threshold: "OFF" },
      { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", threshold: "OFF" },
      { category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "OFF" },
    ]);
  });

  it("maps output_config.format json_schema to JSON mode with a cleaned responseJsonSchema", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        title: { type: "string", maxLength: 80 },
        tags: { type: "array", items: { type: "string" } },
      },
      required: ["title"],
      additionalProperties: false,
    };
    const fields = { output_config: { format: { type: "json_schema", schema } }, messages: hello };
    const json = buildGeminiBody(request(fields), "gemini-3-flash-preview", JSON_MODE).generationConfig;
    expect(json.responseMimeType).toBe("application/json");
    expect(json.responseJsonSchema).toEqual({
      type: "object",
      properties: { title: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
      required: ["title"],
      additionalProperties: false,
    });
    expect(json.responseSchema).toBeUndefined();

    const openapi = buildGeminiBody(request(fields), "gemini-3-flash-preview", OPENAPI_MODE).generationConfig;
    expect(openapi.responseJsonSchema).toBeUndefined();
    expect(openapi.responseSchema).toEqual({
      type: "OBJECT",
      properties: {
        title: { type: "STRING", maxLength: 80 },
        tags: { type: "ARRAY", items: { type: "STRING" } },
      },
      required: ["title"],
    });
  });

  it("leaves JSON mode off without a json_schema format", () => {
    const out = buildGeminiBody(
      request({ output_config: { effort: "low" }, messages: hello }),
      "gemini-2.5-flash",
      JSON_MODE,
    );
    expect(out.generationConfig.responseMimeType).toBeUndefined();
  });
});

describe("tools and tool_choice", () => {
  const tools = [
    {
      name: "Read",
      description: "Read a file",
      input_schema: { type: "object", properties: { p: { type: "string" } } },
    },
    {
      name: "Bash",
      input_schema: { type: "object", properties: { c: { type: "string" } }, required: ["c"] },
    },
    { name: "web_search", type: "web_search_20250305" },
    {
      name: "Custom",
      type: "custom",
      input_schema: { type: "object", properties: { x: { type: "number" } } },
    },
  ];
  const build = (tool_choice?: unknown, options = JSON_MODE) =>
    buildGeminiBody(
      request({ tools, messages: hello, ...(tool_choice === undefined ? {} : { tool_choice }) }),
      "gemini-2.5-pro",
      options,
    );

  it("declares custom tools only, with parametersJsonSchema by default", () => {
    const out = build();
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "Read",
            description: "Read a file",
            parametersJsonSchema: { type: "object", properties: { p: { type: "string" } } },
          },
          {
            name: "Bash",
            parametersJsonSchema: { type: "object", properties: { c: { type: "string" } }, required: ["c"] },
          },
          { name: "Custom", parametersJsonSchema: { type: "object", properties: { x: { type: "number" } } } },
        ],
      },
    ]);
    expect(out.toolConfig).toBeUndefined();
  });

  it("declares OpenAPI-subset parameters in openapi mode", () => {
    const first = build(undefined, OPENAPI_MODE).tools?.[0];
    const bash =
      first !== undefined && "functionDeclarations" in first ? first.functionDeclarations?.[1] : undefined;
    expect(bash).toEqual({
      name: "Bash",
      parameters: { type: "OBJECT", properties: { c: { type: "STRING" } }, required: ["c"] },
    });
  });

  it("maps auto, any, tool and none", () => {
    expect(build({ type: "auto" }).toolConfig).toEqual({ functionCallingConfig: { mode: "AUTO" } });
    expect(build({ type: "any", disable_parallel_tool_use: true }).toolConfig).toEqual({
      functionCallingConfig: { mode: "ANY" },
    });
    expect(build({ type: "tool", name: "Bash" }).toolConfig).toEqual({
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["Bash"] },
    });
    expect(build({ type: "none" }).toolConfig).toEqual({ functionCallingConfig: { mode: "NONE" } });
  });

  it("rejects tool_choice naming a tool that is not declared", () => {
    expect(() => build({ type: "tool", name: "web_search" })).toThrow(/tool_choice: tool "web_search"/);
  });

  it("a web search server tool alone becomes Google Search grounding, without a calling config", () => {
    const out = buildGeminiBody(
      request({
        tools: [{ name: "web_search", type: "web_search_20250305" }],
        tool_choice: { type: "any" },
        messages: hello,
      }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.tools).toEqual([{ googleSearch: {} }]);
    expect(out.toolConfig).toBeUndefined();
  });

  it("other server tools are not sent", () => {
    const out = buildGeminiBody(
      request({
        tools: [{ name: "bash", type: "bash_20250124" }],
        tool_choice: { type: "any" },
        messages: hello,
      }),
      "gemini-2.5-pro",
      JSON_MODE,
    );
    expect(out.tools).toBeUndefined();
    expect(out.toolConfig).toBeUndefined();
  });
});
