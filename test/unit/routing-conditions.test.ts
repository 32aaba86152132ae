import { describe, expect, it } from "vitest";
import { routeSchema } from "../../src/config/schema.js";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { type RouteInput, RouteTable } from "../../src/routing/resolve-route.js";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const image = { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } };

function request(body: Record<string, unknown>): RouteInput {
  const parsed = messagesRequestSchema.parse({
    model: "claude-sonnet-4-6",
    max_tokens: 32_000,
    messages: [{ role: "user", content: "hi" }],
    ...body,
  });
  return { model: parsed.model, request: parsed };
}

/** The four scenario routes plus background and a default, each to its own provider. */
const table = (routing = {}) =>
  new RouteTable(
    [
      { name: "background", when: { background: true }, targets: ["small/flash"] },
      { name: "think", when: { thinking: true }, targets: ["deep/reasoner"] },
      { name: "long", when: { long_context: true }, targets: ["wide/long"] },
      { name: "vision", when: { image: true }, targets: ["eyes/vision"] },
      { name: "search", when: { web_search: true }, targets: ["web/search"] },
      { name: "default", targets: ["main/pro"] },
    ].map((r) => routeSchema.parse(r)),
    { routing },
  );

describe("scenario conditions", () => {
  it("background: small-model names (default *haiku*, configurable)", () => {
    const d = table().resolve({ model: "claude-haiku-4-5-20251001" });
    expect(d?.route).toBe("background");
    expect(d?.reason).toBe('condition background: model "claude-haiku-4-5-20251001" matched "*haiku*"');
    expect(table().resolve({ model: "claude-sonnet-4-6" })?.route).toBe("default");
    expect(table({ backgroundModels: ["*mini*"] }).resolve({ model: "gpt-mini" })?.route).toBe("background");
    expect(table({ backgroundModels: ["*mini*"] }).resolve({ model: "claude-haiku-4-5" })?.route).toBe(
      "default",
    );
  });

  it("thinking: enabled with a budget at the threshold or above; adaptive always counts", () => {
    const enabled = (budget: number) => request({ thinking: { type: "enabled", budget_tokens: budget } });
    expect(table().resolve(enabled(1024))).toMatchObject({
      route: "think",
      reason: "condition thinking: budget 1024 ≥ 1",
    });
    expect(table({ thinkingBudget: 2048 }).resolve(enabled(1024))?.route).toBe("default");
    expect(table({ thinkingBudget: 2048 }).resolve(enabled(2048))?.route).toBe("think");
    expect(table().resolve(request({ thinking: { type: "adaptive" } }))).toMatchObject({
      route: "think",
      reason: "condition thinking: adaptive",
    });
    expect(table().resolve(request({ thinking: { type: "disabled" } }))?.route).toBe("default");
    expect(table().resolve(request({}))?.route).toBe("default");
  });

  it("thinking: a route's own minBudget overrides the global threshold", () => {
    const routes = new RouteTable([
      routeSchema.parse({ name: "hard", when: { thinking: { minBudget: 16_000 } }, targets: ["deep/r1"] }),
      routeSchema.parse({ name: "default", targets: ["main/pro"] }),
    ]);
    const budget = (n: number) => request({ thinking: { type: "enabled", budget_tokens: n } });
    expect(routes.resolve(budget(15_999))?.route).toBe("default");
    expect(routes.resolve(budget(16_000))?.route).toBe("hard");
  });

  it("long_context: estimated input tokens above the threshold, with the numbers in the reason", () => {
    const big = request({ messages: [{ role: "user", content: "word ".repeat(60_000) }] });
    const d = table().resolve(big);
    expect(d?.route).toBe("long");
    expect(d?.reason).toMatch(/^condition long_context: ~8\d\.\dk tokens > 60k$/);
    expect(table({ longContextTokens: 100_000 }).resolve(big)?.route).toBe("default");
    expect(table().resolve(request({ messages: [{ role: "user", content: "short" }] }))?.route).toBe(
      "default",
    );
    const own = new RouteTable([
      routeSchema.parse({ name: "long", when: { long_context: { minTokens: 30 } }, targets: ["wide/long"] }),
    ]);
    expect(own.resolve(request({ messages: [{ role: "user", content: "a".repeat(100) }] }))?.route).toBe(
      "long",
    );
    expect(own.resolve(request({ messages: [{ role: "user", content: "a" }] }))).toBeUndefined();
  });

  it("image: in the last user turn, including inside tool_result content", () => {
    const direct = request({
      messages: [{ role: "user", content: [image, { type: "text", text: "what?" }] }],
    });
    expect(table().resolve(direct)).toMatchObject({
      route: "vision",
      reason: "condition image: image in the last user turn",
    });
    const inToolResult = request({
      messages: [
        { role: "user", content: "take a screenshot" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Shot", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [image] }] },
      ],
    });
    expect(table().resolve(inToolResult)?.route).toBe("vision");
    // An image earlier in the conversation does not make this turn an image request.
    const earlier = request({
      messages: [
        { role: "user", content: [image] },
        { role: "assistant", content: "a cat" },
        { role: "user", content: "thanks" },
      ],
    });
    expect(table().resolve(earlier)?.route).toBe("default");
  });

  it("web_search: a tool typed web_search_* or named web_search", () => {
    const byType = request({ tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }] });
    expect(table().resolve(byType)).toMatchObject({
      route: "search",
      reason: "condition web_search: tool web_search_20250305",
    });
    expect(
      table().resolve(request({ tools: [{ name: "web_search", input_schema: { type: "object" } }] }))?.route,
    ).toBe("search");
    expect(
      table().resolve(request({ tools: [{ name: "WebSearch", input_schema: { type: "object" } }] }))?.route,
    ).toBe("default");
  });

  it("first matching route wins; every condition of a route must hold; match narrows a conditional route", () => {
    const routes = new RouteTable(
      [
        { name: "opus-think", match: ["*opus*"], when: { thinking: true, image: true }, targets: ["a/1"] },
        { name: "think", when: { thinking: true }, targets: ["b/2"] },
        { name: "think-again", when: { thinking: true }, targets: ["c/3"] },
      ].map((r) => routeSchema.parse(r)),
    );
    const thinking = { thinking: { type: "adaptive" } };
    const withImage = { ...thinking, messages: [{ role: "user", content: [image] }] };
    expect(routes.resolve({ ...request(withImage), model: "claude-opus-4-1" })).toMatchObject({
      route: "opus-think",
      reason:
        'model "claude-opus-4-1" matched "*opus*"; condition thinking: adaptive; condition image: image in the last user turn',
    });
    expect(routes.resolve({ ...request(withImage), model: "claude-sonnet-4-6" })?.route).toBe("think");
    expect(routes.resolve({ ...request(thinking), model: "claude-opus-4-1" })?.route).toBe("think");
    expect(routes.resolve(request({}))).toBeUndefined();
  });

  it("a route named default catches the rest wherever it is written", () => {
    const routes = new RouteTable(
      [
        { name: "default", targets: ["main/pro"] },
        { name: "background", match: ["*haiku*"], targets: ["small/flash"] },
      ].map((r) => routeSchema.parse(r)),
    );
    expect(routes.resolve({ model: "claude-haiku-4-5" })?.route).toBe("background");
    expect(routes.resolve({ model: "claude-sonnet-4-6" })).toMatchObject({
      route: "default",
      reason: 'model "claude-sonnet-4-6" matched "*"',
    });
  });

  it("conditions need a request body: a bare model name only matches by name", () => {
    expect(table().resolve({ model: "claude-sonnet-4-6" })?.route).toBe("default");
  });
});
