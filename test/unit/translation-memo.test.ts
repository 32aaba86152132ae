import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bytesOf, JsonBytes, openObject } from "../../src/core/json-bytes.js";
import { sameJson, TranslationMemo } from "../../src/core/translation-memo.js";
import { type MessagesRequest, messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { buildGeminiBody, serializeGeminiBody } from "../../src/providers/gemini/request.js";
import { buildChatBody, serializeChatBody } from "../../src/providers/openai/request.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";
import { bodyJson } from "../helpers/upstream-body.js";

function capture(name: string): MessagesRequest {
  const raw = JSON.parse(readFileSync(join(CLAUDE_CODE_FIXTURES, `${name}.json`), "utf8")) as {
    body: unknown;
  };
  return messagesRequestSchema.parse(raw.body);
}

describe("sameJson", () => {
  it("is deep equality of JSON values", () => {
    expect(sameJson({ a: [1, { b: "x" }], c: null }, { c: null, a: [1, { b: "x" }] })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: 1, b: undefined }, { a: 1, c: undefined })).toBe(false);
    expect(sameJson({ a: "1" }, { a: 1 })).toBe(false);
    expect(sameJson([], {})).toBe(false);
    expect(sameJson({}, [])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson("é", "é")).toBe(true);
  });
});

describe("TranslationMemo", () => {
  it("reuses a result only for a deeply equal source, and translates a changed one again", () => {
    const memo = new TranslationMemo<{ schema: unknown }, { out: unknown }>();
    let calls = 0;
    const translate = (source: { schema: unknown }) => {
      calls++;
      return { out: source.schema };
    };
    const first = memo.get("Bash", { schema: { type: "object", required: ["command"] } }, translate);
    const again = memo.get("Bash", { schema: { type: "object", required: ["command"] } }, translate);
    expect(again).toBe(first);
    expect(calls).toBe(1);
    const changed = memo.get("Bash", { schema: { type: "object", required: ["cmd"] } }, translate);
    expect(calls).toBe(2);
    expect(changed.out).toEqual({ type: "object", required: ["cmd"] });
  });

  it("stays within its bound", () => {
    const memo = new TranslationMemo<number, { n: number }>(3);
    let calls = 0;
    const translate = (n: number) => {
      calls++;
      return { n };
    };
    for (let i = 0; i < 10; i++) memo.get(`tool${i}`, i, translate);
    memo.get("tool9", 9, translate);
    expect(calls).toBe(10);
    memo.get("tool0", 0, translate);
    expect(calls).toBe(11);
  });

  it("bytesOf is the UTF-8 of JSON.stringify, made once per object", () => {
    const value = { a: [1, "two — 2"] };
    expect(bytesOf(value).toString("utf8")).toBe(JSON.stringify(value));
    expect(bytesOf(value)).toBe(bytesOf(value));
  });

  it("JsonBytes joins an opened object, memoized values and text into one JSON document", () => {
    const shared = { b: "é" };
    const out = openObject(new JsonBytes(), { a: 1 }).text(',"b":').value(shared).text("}");
    expect(bodyJson(out.toBuffer())).toEqual({ a: 1, b: { b: "é" } });
  });
});

describe("Gemini bodies with memoized tool declarations", () => {
  it("serialize to the same JSON value as the plain body, request after request", () => {
    for (const name of ["hello-1", "agent-1", "write-2"]) {
      for (let turn = 0; turn < 2; turn++) {
        const body = buildGeminiBody(capture(name), "gemini-2.5-pro", { toolSchema: "json-schema" });
        expect(bodyJson(serializeGeminiBody(body))).toEqual(JSON.parse(JSON.stringify(body)));
      }
    }
  });

  it("a tool whose schema changed under the same name gets its new schema", () => {
    const base = capture("hello-1");
    const tool = base.tools?.find((t) => t.name === "Bash");
    expect(tool).toBeDefined();
    const declarationsOf = (request: MessagesRequest) => {
      const body = bodyJson(
        serializeGeminiBody(buildGeminiBody(request, "gemini-2.5-pro", { toolSchema: "json-schema" })),
      ) as { tools: { functionDeclarations: { name: string; parametersJsonSchema: unknown }[] }[] };
      return body.tools[0]!.functionDeclarations.find((d) => d.name === "Bash")!.parametersJsonSchema;
    };
    const before = declarationsOf(base);
    const edited = structuredClone(base);
    const bash = edited.tools!.find((t) => t.name === "Bash")!;
    bash.input_schema = {
      type: "object",
      properties: { script: { type: "string", description: "what to run" } },
      required: ["script"],
    };
    const after = declarationsOf(edited);
    expect(after).not.toEqual(before);
    expect(after).toEqual({
      type: "object",
      properties: { script: { type: "string", description: "what to run" } },
      required: ["script"],
    });
    // And back: the original schema again, not the edited one.
    expect(declarationsOf(capture("hello-1"))).toEqual(before);
  });
});

describe("Gemini system instruction memo", () => {
  const systemOf = (request: MessagesRequest) =>
    buildGeminiBody(request, "gemini-2.5-pro", { toolSchema: "json-schema" }).systemInstruction;

  it("shares the translation of a repeated system prompt, and translates a changed one", () => {
    const first = systemOf(capture("agent-1"));
    expect(first?.parts?.length).toBeGreaterThan(0);
    // The next turn of the session: same prompt, new objects from a new parse.
    expect(systemOf(capture("agent-1"))).toBe(first);

    const edited = capture("agent-1");
    const blocks = edited.system as { type: "text"; text: string }[];
    const last = blocks.at(-1)!;
    // Same length and same ending (the memo's grouping key), different text: still a new translation.
    last.text = `X${last.text.slice(1)}`;
    const changed = systemOf(edited);
    expect(changed).not.toBe(first);
    expect(changed?.parts?.at(-1)?.text?.startsWith("X")).toBe(true);
    expect(systemOf(capture("agent-1"))?.parts).toEqual(first?.parts);
  });

  it("a string system prompt and an empty one", () => {
    const request = capture("hello-1");
    expect(systemOf({ ...request, system: "Be brief. — ok" })?.parts).toEqual([{ text: "Be brief. — ok" }]);
    expect(systemOf({ ...request, system: "" })).toBeUndefined();
    expect(systemOf({ ...request, system: [] })).toBeUndefined();
  });

  it("the serialized bytes are valid UTF-8 JSON with non-ASCII text intact, turn after turn", () => {
    const request = { ...capture("hello-1"), system: "Réponds — brièvement 👍" };
    for (let turn = 0; turn < 2; turn++) {
      const bytes = serializeGeminiBody(
        buildGeminiBody(request, "gemini-2.5-pro", { toolSchema: "json-schema" }),
      );
      expect(Buffer.isBuffer(bytes)).toBe(true);
      const body = bodyJson(bytes) as { systemInstruction: { parts: { text: string }[] } };
      expect(body.systemInstruction.parts).toEqual([{ text: "Réponds — brièvement 👍" }]);
    }
  });
});

describe("Chat Completions bodies with memoized tools", () => {
  const ctxFor = (request: MessagesRequest) => ({
    request,
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gpt-4.1",
    baseUrl: "http://127.0.0.1:1",
    apiKey: "test",
  });

  it("serialize to the same JSON value as the plain body, and follow a changed schema", () => {
    for (let turn = 0; turn < 2; turn++) {
      const body = buildChatBody(ctxFor(capture("agent-1")), {});
      expect(bodyJson(serializeChatBody(body))).toEqual(JSON.parse(JSON.stringify(body)));
    }
    const edited = capture("agent-1");
    const bash = edited.tools!.find((t) => t.name === "Bash")!;
    bash.input_schema = { type: "object", properties: { script: { type: "string" } } };
    const body = bodyJson(serializeChatBody(buildChatBody(ctxFor(edited), {}))) as {
      tools: { function: { name: string; parameters: unknown } }[];
    };
    expect(body.tools.find((t) => t.function.name === "Bash")?.function.parameters).toEqual({
      type: "object",
      properties: { script: { type: "string" } },
    });
  });
});
