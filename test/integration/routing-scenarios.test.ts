/**
 * Scenario routing end to end: the official SDK → ccgate → three fake upstreams (Gemini,
 * OpenAI-compatible, Anthropic relay). Each kind of request must reach its route's target,
 * proven by the fakes' hit counts, the model they were asked for, and the response headers.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import type { RunningGateway } from "../../src/server.js";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic.js";
import { type FakeGemini, startFakeGemini } from "../fakes/gemini.js";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai.js";
import { sdkClient, startTestGateway } from "../helpers/gateway.js";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let gemini: FakeGemini;
let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gateway: RunningGateway;
let client: Anthropic;

beforeAll(async () => {
  gemini = await startFakeGemini();
  openai = await startFakeOpenAI();
  anthropic = await startFakeAnthropic();
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
        providerSchema.parse({
          name: "anthropic",
          type: "anthropic",
          baseUrl: anthropic.url,
          apiKeys: ["ant-key"],
        }),
      ];
      config.routes = [
        { name: "background", when: { background: true }, targets: ["openai/gpt-bg"] },
        { name: "thinking", when: { thinking: true }, targets: ["anthropic/claude-think"] },
        { name: "long_context", when: { long_context: true }, targets: ["gemini/gemini-2.5-pro"] },
        { name: "image", when: { image: true }, targets: ["openai/gpt-vision"] },
        { name: "web_search", when: { web_search: true }, targets: ["anthropic/claude-search"] },
        { name: "pinned", match: [], targets: ["anthropic/claude-pinned"] },
        { name: "default", targets: ["gemini/gemini-2.5-flash"] },
      ].map((r) => routeSchema.parse(r));
    },
  });
  client = sdkClient(gateway);
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([gemini?.close(), openai?.close(), anthropic?.close()]);
});

/** Hits per fake since the last call. */
function hitCounter() {
  let last = { gemini: 0, openai: 0, anthropic: 0 };
  return () => {
    const now = { gemini: gemini.hits(), openai: openai.hits(), anthropic: anthropic.hits() };
    const delta = {
      gemini: now.gemini - last.gemini,
      openai: now.openai - last.openai,
      anthropic: now.anthropic - last.anthropic,
    };
    last = now;
    return delta;
  };
}

function lastModel(fake: "gemini" | "openai" | "anthropic"): unknown {
  if (fake === "gemini") return gemini.requests.at(-1)?.model;
  const body = (fake === "openai" ? openai.requests : anthropic.requests).at(-1)?.body;
  return (body as { model?: unknown } | undefined)?.model;
}

type Params = Anthropic.MessageCreateParamsNonStreaming;
const base = (extra: Partial<Params> = {}): Params => ({
  model: "claude-sonnet-4-6",
  max_tokens: 4096,
  messages: [{ role: "user", content: "hello" }],
  ...extra,
});

async function send(params: Params, headers: Record<string, string> = {}) {
  const { data, response } = await client.messages.create(params, { headers }).withResponse();
  return {
    data,
    route: response.headers.get("x-ccgate-route"),
    target: response.headers.get("x-ccgate-target"),
  };
}

describe("scenario routes", () => {
  it("sends each kind of request to its route's target (hits on the fakes and response headers)", async () => {
    const hits = hitCounter();
    const cases: {
      name: string;
      params: Params;
      route: string;
      target: string;
      fake: "gemini" | "openai" | "anthropic";
    }[] = [
      {
        name: "background (haiku)",
        params: base({ model: "claude-haiku-4-5-20251001" }),
        route: "background",
        target: "openai/gpt-bg",
        fake: "openai",
      },
      {
        name: "thinking",
        params: base({ thinking: { type: "enabled", budget_tokens: 2048 } }),
        route: "thinking",
        target: "anthropic/claude-think",
        fake: "anthropic",
      },
      {
        name: "long context (~72k estimated tokens > 60k)",
        params: base({ messages: [{ role: "user", content: "lorem ipsum dolor ".repeat(14_000) }] }),
        route: "long_context",
        target: "gemini/gemini-2.5-pro",
        fake: "gemini",
      },
      {
        name: "image",
        params: base({
          messages: [
            {
              role: "user",
              content: [
                { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
                { type: "text", text: "what is this?" },
              ],
            },
          ],
        }),
        route: "image",
        target: "openai/gpt-vision",
        fake: "openai",
      },
      {
        name: "web search",
        params: base({ tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }] }),
        route: "web_search",
        target: "anthropic/claude-search",
        fake: "anthropic",
      },
      {
        name: "anything else",
        params: base(),
        route: "default",
        target: "gemini/gemini-2.5-flash",
        fake: "gemini",
      },
    ];
    hits();
    for (const c of cases) {
      const res = await send(c.params);
      expect({ case: c.name, route: res.route, target: res.target }).toEqual({
        case: c.name,
        route: c.route,
        target: c.target,
      });
      expect(res.data.content.length, c.name).toBeGreaterThan(0);
      const delta = hits();
      expect(delta, c.name).toEqual({
        gemini: c.fake === "gemini" ? 1 : 0,
        openai: c.fake === "openai" ? 1 : 0,
        anthropic: c.fake === "anthropic" ? 1 : 0,
      });
      expect(lastModel(c.fake), c.name).toBe(c.target.slice(c.target.indexOf("/") + 1));
    }
  });

  it("streams carry the route and target headers too", async () => {
    const hits = hitCounter();
    hits();
    const { data: stream, response } = await client.messages
      .create({ ...base({ model: "claude-haiku-4-5" }), stream: true })
      .withResponse();
    for await (const _ of stream) {
      // drain
    }
    expect(response.headers.get("x-ccgate-route")).toBe("background");
    expect(response.headers.get("x-ccgate-target")).toBe("openai/gpt-bg");
    expect(hits()).toEqual({ gemini: 0, openai: 1, anthropic: 0 });
  });

  it("x-ccgate-route forces a route; a provider,model name forces a target", async () => {
    const hits = hitCounter();
    hits();
    const forced = await send(base(), { "x-ccgate-route": "pinned" });
    expect([forced.route, forced.target]).toEqual(["pinned", "anthropic/claude-pinned"]);
    expect(hits()).toEqual({ gemini: 0, openai: 0, anthropic: 1 });

    const direct = await send(base({ model: "openai,gpt-direct" }));
    expect([direct.route, direct.target]).toEqual(["(direct)", "openai/gpt-direct"]);
    expect(lastModel("openai")).toBe("gpt-direct");
    expect(hits()).toEqual({ gemini: 0, openai: 1, anthropic: 0 });
  });

  it("an unknown x-ccgate-route is a 400 naming it, and no upstream is called", async () => {
    const hits = hitCounter();
    hits();
    const err = await client.messages.create(base(), { headers: { "x-ccgate-route": "nope" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      status: 400,
      error: {
        type: "error",
        error: {
          type: "invalid_request_error",
          message: expect.stringContaining('x-ccgate-route: no route is named "nope"'),
        },
      },
    });
    expect(hits()).toEqual({ gemini: 0, openai: 0, anthropic: 0 });
  });
});
