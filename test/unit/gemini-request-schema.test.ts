/**
 * JSON Schema cleanup for parametersJsonSchema, conversion to the OpenAPI-subset `parameters`
 * (protocol.md F.5), and the countTokens request (F.10).
 */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { CountTokensContext } from "../../src/core/provider.js";
import { countTokensRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { createGeminiCountTokens, geminiCountTokens } from "../../src/providers/gemini/count-tokens.js";
import { createGeminiProvider } from "../../src/providers/gemini/index.js";
import { cleanJsonSchema, toOpenApiSchema } from "../../src/providers/gemini/schema.js";
import { bodyJson } from "../helpers/upstream-body.js";

describe("cleanJsonSchema (parametersJsonSchema)", () => {
  it("strips undocumented keywords and keeps documented ones, property names untouched", () => {
    const out = cleanJsonSchema({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $comment: "x",
      type: "object",
      properties: {
        pattern: { type: "string", pattern: "^a", maxLength: 3, default: "a", format: "uri" },
        default: {
          type: "object",
          propertyNames: { pattern: "^x" },
          additionalProperties: { type: "number" },
        },
      },
      required: ["pattern", "default"],
      additionalProperties: false,
    });
    expect(out).toEqual({
      type: "object",
      properties: {
        pattern: { type: "string", format: "uri" },
        default: { type: "object", additionalProperties: { type: "number" } },
      },
      required: ["pattern", "default"],
      additionalProperties: false,
    });
  });

  it("rewrites const, exclusive bounds, tuple items and undeclared required names", () => {
    const out = cleanJsonSchema({
      type: "object",
      properties: {
        kind: { const: "edit" },
        n: { type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 10 },
        x: { type: "number", exclusiveMinimum: 0.5 },
        pair: { type: "array", items: [{ type: "string" }, { type: "number" }] },
      },
      required: ["kind", "ghost"],
    });
    expect(out.properties).toEqual({
      kind: { enum: ["edit"] },
      n: { type: "integer", minimum: 1, maximum: 9 },
      x: { type: "number", minimum: 0.5 },
      pair: { type: "array", prefixItems: [{ type: "string" }, { type: "number" }] },
    });
    expect(out.required).toEqual(["kind"]);
  });

  it("turns type arrays into anyOf and merges allOf", () => {
    expect(
      cleanJsonSchema({ type: ["string", "null"], description: "d", maxLength: 5, minItems: 1 }),
    ).toEqual({
      description: "d",
      anyOf: [{ type: "string", minItems: 1 }, { type: "null" }],
    });
    expect(
      cleanJsonSchema({
        allOf: [
          { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
          { properties: { b: { type: "number" } }, required: ["b"] },
        ],
      }),
    ).toEqual({
      type: "object",
      properties: { a: { type: "string" }, b: { type: "number" } },
      required: ["a", "b"],
    });
  });

  it("keeps $ref/$defs (documented), moves definitions to $defs and drops $ref siblings", () => {
    const out = cleanJsonSchema({
      type: "object",
      properties: {
        node: { $ref: "#/definitions/Node", description: "dropped: Google forbids $ref siblings" },
      },
      definitions: { Node: { type: "object", properties: { next: { $ref: "#/definitions/Node" } } } },
    });
    expect(out).toEqual({
      type: "object",
      properties: { node: { $ref: "#/$defs/Node" } },
      $defs: { Node: { type: "object", properties: { next: { $ref: "#/$defs/Node" } } } },
    });
  });

  it("filters enums to strings and numbers and survives garbage", () => {
    expect(cleanJsonSchema({ enum: ["a", 1, null, true, { x: 1 }] })).toEqual({ enum: ["a", 1] });
    expect(cleanJsonSchema(null)).toEqual({});
    expect(cleanJsonSchema({ properties: { a: true, b: false }, items: "nope" })).toEqual({
      properties: { a: {}, b: {} },
      items: {},
    });
  });

  it("stays bounded on deeply nested schemas", () => {
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 200; i++) deep = { type: "object", properties: { x: deep } };
    expect(() => JSON.stringify(cleanJsonSchema(deep))).not.toThrow();
  });
});

describe("toOpenApiSchema (parameters)", () => {
  it("inlines $ref/$defs and cuts recursion", () => {
    const out = toOpenApiSchema({
      type: "object",
      properties: { tree: { $ref: "#/$defs/Tree" } },
      $defs: {
        Tree: { type: "object", properties: { label: { type: "string" }, child: { $ref: "#/$defs/Tree" } } },
      },
    });
    expect(out).toEqual({
      type: "OBJECT",
      properties: {
        tree: { type: "OBJECT", properties: { label: { type: "STRING" }, child: {} } },
      },
    });
  });

  it("maps const and type arrays to enum and nullable", () => {
    expect(toOpenApiSchema({ const: "write" })).toEqual({ type: "STRING", enum: ["write"] });
    expect(toOpenApiSchema({ type: ["string", "null"], description: "d" })).toEqual({
      type: "STRING",
      description: "d",
      nullable: true,
    });
    expect(toOpenApiSchema({ type: ["string", "number"], description: "either" })).toEqual({
      anyOf: [{ type: "STRING" }, { type: "NUMBER" }],
      description: "either",
    });
  });

  it("collapses X | null unions, turns oneOf into anyOf and merges allOf", () => {
    expect(toOpenApiSchema({ anyOf: [{ type: "integer" }, { type: "null" }], description: "n" })).toEqual({
      type: "INTEGER",
      description: "n",
      nullable: true,
    });
    expect(
      toOpenApiSchema({
        oneOf: [{ type: "string" }, { type: "object", properties: { a: { type: "boolean" } } }],
        default: "x",
      }),
    ).toEqual({ anyOf: [{ type: "STRING" }, { type: "OBJECT", properties: { a: { type: "BOOLEAN" } } }] });
    expect(
      toOpenApiSchema({
        allOf: [{ type: "object", properties: { a: { type: "string" } } }, { required: ["a"] }],
      }),
    ).toEqual({ type: "OBJECT", properties: { a: { type: "STRING" } }, required: ["a"] });
  });

  it("keeps string enums, moves other enums into the description", () => {
    expect(toOpenApiSchema({ type: "string", enum: ["a", "b", null] })).toEqual({
      type: "STRING",
      enum: ["a", "b"],
      nullable: true,
    });
    expect(toOpenApiSchema({ type: "integer", enum: [1, 2], description: "Level." })).toEqual({
      type: "INTEGER",
      description: "Level. Allowed values: 1, 2.",
    });
  });

  it("keeps only formats the subset accepts, gives arrays items and drops empty objects' properties", () => {
    expect(toOpenApiSchema({ type: "string", format: "uri" })).toEqual({ type: "STRING" });
    expect(toOpenApiSchema({ type: "string", format: "date-time" })).toEqual({
      type: "STRING",
      format: "date-time",
    });
    expect(toOpenApiSchema({ type: "integer", format: "int64", exclusiveMinimum: 0 })).toEqual({
      type: "INTEGER",
      format: "int64",
      minimum: 1,
    });
    expect(toOpenApiSchema({ type: "array" })).toEqual({ type: "ARRAY", items: {} });
    expect(
      toOpenApiSchema({ type: "object", properties: {}, required: ["x"], additionalProperties: true }),
    ).toEqual({
      type: "OBJECT",
    });
  });

  it("infers missing types and removes keywords outside the subset", () => {
    expect(
      toOpenApiSchema({
        $schema: "x",
        properties: {
          a: { items: { type: "string" }, uniqueItems: true },
          b: { enum: ["x"] },
          c: { description: "any" },
        },
        propertyNames: { pattern: "^[a-z]+$" },
        additionalProperties: false,
      }),
    ).toEqual({
      type: "OBJECT",
      properties: {
        a: { type: "ARRAY", items: { type: "STRING" } },
        b: { type: "STRING", enum: ["x"] },
        c: { description: "any" },
      },
    });
  });
});

describe("countTokens", () => {
  const ctx: CountTokensContext = {
    request: countTokensRequestSchema.parse({
      model: "claude-sonnet-4-6",
      system: [{ type: "text", text: "sys" }],
      messages: [{ role: "user", content: "count me" }],
      tools: [
        {
          name: "Read",
          input_schema: { $schema: "x", type: "object", properties: { p: { type: "string" } } },
        },
        { name: "web_search", type: "web_search_20250305" },
      ],
      tool_choice: { type: "any" },
      thinking: { type: "adaptive" },
    }),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gemini-2.5-pro",
    baseUrl: "https://example.test",
    apiKey: "k",
  };

  it("posts a generateContentRequest so system and tools are counted", () => {
    const req = geminiCountTokens.buildRequest(ctx);
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://example.test/v1beta/models/gemini-2.5-pro:countTokens");
    expect(req.headers).toEqual({ "content-type": "application/json", "x-goog-api-key": "k" });
    expect(bodyJson(req.body)).toEqual({
      generateContentRequest: {
        model: "models/gemini-2.5-pro",
        contents: [{ role: "user", parts: [{ text: "count me" }] }],
        systemInstruction: { parts: [{ text: "sys" }] },
        tools: [
          {
            functionDeclarations: [
              {
                name: "Read",
                parametersJsonSchema: { type: "object", properties: { p: { type: "string" } } },
              },
            ],
          },
        ],
      },
    });
  });

  it("uses the configured tool schema form, also through the provider", () => {
    const viaProvider = createGeminiProvider({ toolSchema: "openapi" }).countTokens?.buildRequest(ctx);
    expect(bodyJson(viaProvider?.body)).toEqual(
      bodyJson(createGeminiCountTokens({ toolSchema: "openapi" }).buildRequest(ctx).body),
    );
    const req = createGeminiCountTokens({ toolSchema: "openapi" }).buildRequest(ctx);
    const body = bodyJson(req.body) as { generateContentRequest: { tools: unknown } };
    expect(body.generateContentRequest.tools).toEqual([
      {
        functionDeclarations: [
          { name: "Read", parameters: { type: "OBJECT", properties: { p: { type: "STRING" } } } },
        ],
      },
    ]);
  });

  it("reads totalTokens (absent = 0, as proto3 JSON omits zeros) and rejects garbage", () => {
    expect(geminiCountTokens.decodeResponse({ totalTokens: 1234, promptTokensDetails: [] })).toBe(1234);
    expect(geminiCountTokens.decodeResponse({})).toBe(0);
    expect(() => geminiCountTokens.decodeResponse("nope")).toThrow(GatewayError);
    expect(() => geminiCountTokens.decodeResponse({ totalTokens: "12" })).toThrow(/countTokens/);
    expect(() => geminiCountTokens.decodeResponse({ error: { code: 400 } })).toThrow(GatewayError);
  });
});
