/**
 * Conversation history → Gemini contents: tool calls and results, media, thought signatures
 * (protocol.md F.2, F.5, F.6).
 */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { type MessagesRequest, messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { buildGeminiBody } from "../../src/providers/gemini/request.js";
import {
  encodeThinkingSignature,
  encodeToolUseId,
  SKIP_THOUGHT_SIGNATURE,
} from "../../src/providers/gemini/signatures.js";

const PNG = "iVBORw0KGgo=";
const PDF = "JVBERi0xLjQK";

function request(messages: unknown[]): MessagesRequest {
  return messagesRequestSchema.parse({ model: "claude-sonnet-4-6", max_tokens: 1000, messages });
}
function contents(messages: unknown[], model = "gemini-3-pro-preview") {
  return buildGeminiBody(request(messages), model, { toolSchema: "json-schema" }).contents;
}
const ask = { role: "user", content: "go" };
const toolUse = (id: string, name: string, input: Record<string, unknown> = {}) => ({
  type: "tool_use",
  id,
  name,
  input,
});
const result = (tool_use_id: string, content: unknown, is_error?: boolean) => ({
  type: "tool_result",
  tool_use_id,
  content,
  ...(is_error === undefined ? {} : { is_error }),
});

describe("tool results", () => {
  it("puts the results of one turn in call order, before the other user blocks", () => {
    const out = contents([
      ask,
      {
        role: "assistant",
        content: [toolUse("toolu_a", "Read", { p: "/a" }), toolUse("toolu_b", "Grep", { q: "x" })],
      },
      {
        role: "user",
        content: [result("toolu_b", "found"), result("toolu_a", "file a"), { type: "text", text: "note" }],
      },
    ]);
    expect(out[2]).toEqual({
      role: "user",
      parts: [
        { functionResponse: { name: "Read", response: { output: "file a" } } },
        { functionResponse: { name: "Grep", response: { output: "found" } } },
        { text: "note" },
      ],
    });
  });

  it("maps is_error to response.error and joins text items", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [toolUse("toolu_a", "Bash"), toolUse("toolu_b", "Bash")] },
      {
        role: "user",
        content: [
          result(
            "toolu_a",
            [
              { type: "text", text: "exit 1" },
              { type: "text", text: "permission denied" },
            ],
            true,
          ),
          result("toolu_b", "ok", false),
        ],
      },
    ]);
    expect(out[2]?.parts?.map((p) => p.functionResponse?.response)).toEqual([
      { error: "exit 1\npermission denied" },
      { output: "ok" },
    ]);
  });

  it("sends an empty output for a result without content", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [toolUse("toolu_a", "Touch")] },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "toolu_a" }],
      },
    ]);
    expect(out[2]?.parts?.[0]?.functionResponse?.response).toEqual({ output: "" });
  });

  it("puts tool-result images after all function responses of the user content", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [toolUse("toolu_a", "Screenshot"), toolUse("toolu_b", "Read")] },
      {
        role: "user",
        content: [
          result("toolu_a", [
            { type: "text", text: "captured" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          ]),
          result("toolu_b", "text"),
          { type: "text", text: "look" },
        ],
      },
    ]);
    expect(out[2]?.parts).toEqual([
      { functionResponse: { name: "Screenshot", response: { output: "captured" } } },
      { functionResponse: { name: "Read", response: { output: "text" } } },
      { inlineData: { mimeType: "image/png", data: PNG } },
      { text: "look" },
    ]);
  });

  it("rejects a tool_result whose tool_use is not in the history, naming the id", () => {
    const build = () => contents([{ role: "user", content: [result("toolu_missing", "x")] }]);
    expect(build).toThrow(GatewayError);
    expect(build).toThrow(/toolu_missing/);
    try {
      build();
    } catch (err) {
      expect((err as GatewayError).status).toBe(400);
      expect((err as GatewayError).type).toBe("invalid_request_error");
    }
  });
});

describe("media", () => {
  it("sends base64 images and PDFs as inlineData, text and content documents as parts", () => {
    const out = contents([
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/jpeg", data: PNG } },
          {
            type: "document",
            source: { type: "base64", media_type: "application/pdf", data: PDF },
            title: "spec.pdf",
          },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "plain doc" } },
          {
            type: "document",
            source: {
              type: "content",
              content: [
                { type: "text", text: "inner" },
                { type: "image", source: { type: "base64", media_type: "image/webp", data: PNG } },
              ],
            },
          },
          { type: "text", text: "summarise" },
        ],
      },
    ]);
    expect(out).toEqual([
      {
        role: "user",
        parts: [
          { inlineData: { mimeType: "image/jpeg", data: PNG } },
          { text: "Document: spec.pdf" },
          { inlineData: { mimeType: "application/pdf", data: PDF } },
          { text: "plain doc" },
          { text: "inner" },
          { inlineData: { mimeType: "image/webp", data: PNG } },
          { text: "summarise" },
        ],
      },
    ]);
  });

  it("sends a PDF returned by a tool as inlineData after the responses", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [toolUse("toolu_a", "Read")] },
      {
        role: "user",
        content: [
          result("toolu_a", [
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF } },
          ]),
        ],
      },
    ]);
    expect(out[2]?.parts).toEqual([
      { functionResponse: { name: "Read", response: { output: "" } } },
      { inlineData: { mimeType: "application/pdf", data: PDF } },
    ]);
  });

  it("rejects URL and file sources that reach the adapter, naming them", () => {
    expect(() =>
      contents([
        { role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] },
      ]),
    ).toThrow(/messages\[0\]\.content\[0\]: image source type "url"/);
    expect(() =>
      contents([
        { role: "user", content: [{ type: "document", source: { type: "file", file_id: "file_123" } }] },
      ]),
    ).toThrow(/document source type "file" \(file_123\)/);
  });
});

describe("thought signatures and call ids", () => {
  const model = "gemini-3-pro-preview";
  const idA = encodeToolUseId({ model, signature: "sigA", geminiId: "fc_1" });
  const idB = encodeToolUseId({ model, geminiId: "fc_2" });
  const history = [
    ask,
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "plan", signature: encodeThinkingSignature(model, "tsig") },
        { type: "text", text: "Reading both." },
        toolUse(idA, "Read", { p: "/a" }),
        toolUse(idB, "Read", { p: "/b" }),
      ],
    },
    { role: "user", content: [result(idB, "b"), result(idA, "a")] },
  ];

  it("round-trips signatures and Gemini ids issued for the same model", () => {
    const out = contents(history, model);
    expect(out[1]).toEqual({
      role: "model",
      parts: [
        { text: "plan", thought: true, thoughtSignature: "tsig" },
        { text: "Reading both." },
        { functionCall: { name: "Read", args: { p: "/a" }, id: "fc_1" }, thoughtSignature: "sigA" },
        { functionCall: { name: "Read", args: { p: "/b" }, id: "fc_2" } },
      ],
    });
    expect(out[2]?.parts).toEqual([
      { functionResponse: { name: "Read", response: { output: "a" }, id: "fc_1" } },
      { functionResponse: { name: "Read", response: { output: "b" }, id: "fc_2" } },
    ]);
  });

  it("replaces signatures from another model by the skip value on the first call, drops its thoughts", () => {
    const out = contents(history, "gemini-3-flash-preview");
    expect(out[1]?.parts).toEqual([
      { text: "Reading both." },
      {
        functionCall: { name: "Read", args: { p: "/a" }, id: "fc_1" },
        thoughtSignature: SKIP_THOUGHT_SIGNATURE,
      },
      { functionCall: { name: "Read", args: { p: "/b" }, id: "fc_2" } },
    ]);
  });

  it("compares models without the models/ prefix", () => {
    const out = contents(history, `models/${model}`);
    expect(out[1]?.parts?.[2]?.thoughtSignature).toBe("sigA");
  });

  it("gives foreign ids the skip value on the first call of each model turn only, and no ids", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [toolUse("toolu_01A", "Read"), toolUse("toolu_01B", "Read")] },
      { role: "user", content: [result("toolu_01A", "a"), result("toolu_01B", "b")] },
      { role: "assistant", content: [{ type: "text", text: "next" }, toolUse("toolu_01C", "Bash")] },
      { role: "user", content: [result("toolu_01C", "c")] },
    ]);
    expect(out[1]?.parts).toEqual([
      { functionCall: { name: "Read", args: {} }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
      { functionCall: { name: "Read", args: {} } },
    ]);
    expect(out[3]?.parts).toEqual([
      { text: "next" },
      { functionCall: { name: "Bash", args: {} }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
    ]);
    for (const part of [...(out[2]?.parts ?? []), ...(out[4]?.parts ?? [])]) {
      expect(part.functionResponse?.id).toBeUndefined();
    }
  });

  it("drops Anthropic thinking, redacted thinking and empty unsigned thoughts", () => {
    const out = contents([
      ask,
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "claude thoughts", signature: "EqQBCkYIBxgCKkDanthropic" },
          { type: "redacted_thinking", data: "opaque" },
          { type: "thinking", thinking: "", signature: encodeThinkingSignature(model, undefined) },
          { type: "thinking", thinking: "", signature: encodeThinkingSignature(model, "only-sig") },
          { type: "text", text: "answer" },
        ],
      },
    ]);
    expect(out[1]?.parts).toEqual([
      { text: "", thought: true, thoughtSignature: "only-sig" },
      { text: "answer" },
    ]);
  });

  it("merges consecutive assistant messages before choosing the first call to mark", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [{ type: "text", text: "thinking out loud" }] },
      { role: "assistant", content: [toolUse("toolu_x", "Read"), toolUse("toolu_y", "Read")] },
      { role: "user", content: [result("toolu_x", "1"), result("toolu_y", "2")] },
    ]);
    expect(out.map((c) => c.role)).toEqual(["user", "model", "user"]);
    const signed = out[1]?.parts?.filter((p) => p.thoughtSignature !== undefined);
    expect(signed).toEqual([
      { functionCall: { name: "Read", args: {} }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
    ]);
  });
});

describe("ordering across merged user messages", () => {
  it("keeps function responses first when a system message sits between the calls and their results", () => {
    const out = contents([
      ask,
      { role: "assistant", content: [toolUse("toolu_a", "Read")] },
      { role: "system", content: "reminder" },
      { role: "user", content: [result("toolu_a", "a"), { type: "text", text: "more" }] },
    ]);
    expect(out[2]?.parts).toEqual([
      { functionResponse: { name: "Read", response: { output: "a" } } },
      { text: "<system-reminder>\nreminder\n</system-reminder>" },
      { text: "more" },
    ]);
  });
});
