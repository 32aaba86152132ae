import { describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import { GatewayError } from "../../src/core/errors.js";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { type RouteInput, RouteTable } from "../../src/routing/resolve-route.js";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const image = { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } };
const tool = { name: "Bash", input_schema: { type: "object" } };

const providers = [
  providerSchema.parse({
    name: "deepseek",
    type: "openai",
    models: [{ name: "deepseek-chat", aliases: ["ds"], images: false, contextWindow: 1_000 }],
  }),
  providerSchema.parse({
    name: "ollama",
    type: "openai",
    models: [{ name: "llama2", tools: false, images: false }, "qwen3-coder"],
  }),
  providerSchema.parse({ name: "gemini", type: "gemini" }),
];
const table = (targets: string[]) =>
  new RouteTable([routeSchema.parse({ name: "main", targets })], { providers });

function ask(body: Record<string, unknown>): RouteInput {
  const request = messagesRequestSchema.parse({
    model: "claude-sonnet-4-6",
    max_tokens: 1024,
    messages: [{ role: "user", content: "hi" }],
    ...body,
  });
  return { model: request.model, request };
}

function rejected(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a GatewayError");
}

describe("model capabilities", () => {
  it("aliases resolve to the upstream model id", () => {
    expect(table(["deepseek/ds"]).resolve(ask({}))?.targets).toEqual([
      { provider: "deepseek", model: "deepseek-chat" },
    ]);
  });

  it("a text-only target is skipped when the conversation has an image (anywhere, tool results too)", () => {
    const input = ask({
      messages: [
        { role: "user", content: "look" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Read", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [image] }] },
        { role: "assistant", content: "ok" },
        { role: "user", content: "and now?" },
      ],
    });
    const d = table(["deepseek/ds", "gemini/gemini-2.5-pro"]).resolve(input);
    expect(d?.targets).toEqual([{ provider: "gemini", model: "gemini-2.5-pro" }]);
    expect(d?.skipped).toEqual([
      {
        provider: "deepseek",
        model: "deepseek-chat",
        feature: "images",
        reason: "the request has images; the model is declared images: false",
      },
    ]);
    expect(d?.reason).toBe(
      'model "claude-sonnet-4-6" matched "*"; skipped deepseek/deepseek-chat: the request has images; the model is declared images: false',
    );
  });

  it("a target without function calling is skipped when the request offers tools", () => {
    const d = table(["ollama/llama2", "ollama/qwen3-coder"]).resolve(ask({ tools: [tool] }));
    expect(d?.targets).toEqual([{ provider: "ollama", model: "qwen3-coder" }]);
    expect(d?.skipped.map((s) => s.feature)).toEqual(["tools"]);
    // Without tools it stays first.
    expect(table(["ollama/llama2", "ollama/qwen3-coder"]).resolve(ask({}))?.targets[0]?.model).toBe("llama2");
  });

  it("a target whose context window the estimate exceeds is skipped", () => {
    const long = ask({ messages: [{ role: "user", content: "x".repeat(7_000) }] });
    const d = table(["deepseek/deepseek-chat", "gemini/gemini-2.5-pro"]).resolve(long);
    expect(d?.targets.map((t) => t.provider)).toEqual(["gemini"]);
    expect(d?.skipped[0]?.reason).toMatch(/^~2k input tokens > contextWindow 1k$/);
  });

  it("none left: a 400 invalid_request_error naming the features and each target", () => {
    const err = rejected(() =>
      table(["deepseek/ds", "ollama/llama2"]).resolve(
        ask({ tools: [tool], messages: [{ role: "user", content: [image] }] }),
      ),
    );
    expect(err).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      class: "client",
      code: "NO_CAPABLE_TARGET",
    });
    expect(err.message).toBe(
      'No target of route "main" supports what this request needs (images): deepseek/deepseek-chat (the request has images; the model is declared images: false); ollama/llama2 (the request has images; the model is declared images: false)',
    );
    const tools = rejected(() => table(["ollama/llama2"]).resolve(ask({ tools: [tool] })));
    expect(tools.message).toMatch(/needs \(tools\): ollama\/llama2 \(the request has tools/);
  });

  it("none left for lack of context only: Anthropic's 'prompt is too long' wording so Claude Code compacts", () => {
    const long = ask({ messages: [{ role: "user", content: "x".repeat(7_000) }] });
    const err = rejected(() => table(["deepseek/ds"]).resolve(long));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^prompt is too long: \d+ tokens > 1000 maximum/);
  });

  it("applies to forced targets too", () => {
    const err = rejected(() =>
      table(["gemini/gemini-2.5-pro"]).resolve({ ...ask({ tools: [tool] }), model: "ollama,llama2" }),
    );
    expect(err.message).toMatch(/route "\(direct\)".*ollama\/llama2/);
  });

  it("models not listed (or providers without a list) are assumed capable", () => {
    const d = table(["ollama/mistral", "gemini/x"]).resolve(
      ask({ tools: [tool], messages: [{ role: "user", content: [image] }] }),
    );
    expect(d?.targets.map((t) => t.model)).toEqual(["mistral", "x"]);
    expect(d?.skipped).toEqual([]);
  });
});
