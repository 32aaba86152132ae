/**
 * Keep-alive, cancellation, key failover, signatures across turns, and the auxiliary endpoints,
 * over real HTTP against the strict fake Gemini.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { functionCalls, rateLimited, startFakeGemini, textChunks } from "../fakes/gemini.js";
import { postRaw, sdkClient, startTestGateway } from "../helpers/gateway.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  env: Record<string, string> = {},
  fakeOptions: Parameters<typeof startFakeGemini>[0] = {},
) {
  const fake = await startFakeGemini(fakeOptions);
  const gateway = await startTestGateway({
    env: { GEMINI_API_KEY: "key-a", GEMINI_BASE_URL: fake.url, ...env },
  });
  cleanups.push(
    () => fake.close(),
    () => gateway.close(),
  );
  return { fake, gateway, client: sdkClient(gateway) };
}

const user = (text: string) => ({ role: "user" as const, content: text });
const ask = { model: "claude-sonnet-4-6", max_tokens: 256, messages: [user("hi")] };

describe("keep-alive and cancellation", () => {
  it("sends pings while the upstream is silent for 20 s, then the answer", { timeout: 40_000 }, async () => {
    const { fake, gateway } = await setup();
    fake.enqueue({ chunks: textChunks("worth the wait"), firstByteDelayMs: 20_000 });
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask, stream: true });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    const names = res.events.map((e) => e.event);
    const pings = names.filter((n) => n === "ping").length;
    // The default interval is 5 s: at least 3 pings in a 20 s silence, never more than 10 s apart.
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(elapsed).toBeGreaterThanOrEqual(19_000);
    expect(names.at(-1)).toBe("message_stop");
    expect(names.filter((n) => n !== "ping")[0]).toBe("message_start");
  });

  it("a client abort closes the upstream connection at once", async () => {
    const { fake, gateway } = await setup();
    fake.enqueue({ chunks: textChunks("a b c d e f g h", { parts: 8 }), stallAfterChunks: 2 });
    const controller = new AbortController();
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...ask, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream is flowing
    const closed = fake.waitForClientClose(5_000);
    controller.abort();
    const req = await closed;
    expect(req.aborted).toBe(true);
    await expect.poll(() => fake.openConnections, { timeout: 2_000 }).toBe(0);
  });
});

describe("keys", () => {
  it("a 429 on one key moves to the next key at once and cools the first", async () => {
    const { fake, client } = await setup({ GEMINI_API_KEY: "key-a,key-b" });
    // Whichever key goes first gets the 429; the other serves.
    fake.enqueue(rateLimited(30), { chunks: textChunks("from the other key") });
    const first = await client.messages.create(ask);
    expect(first.content).toEqual([{ type: "text", text: "from the other key" }]);
    const limited = fake.requests[0]!.apiKey!;
    const other = fake.requests[1]!.apiKey!;
    expect(other).not.toBe(limited);

    fake.enqueue({ chunks: textChunks("again") }, { chunks: textChunks("and again") });
    await client.messages.create(ask);
    await client.messages.create(ask);
    // The cooled key is not tried before its Retry-After.
    expect(fake.hits(limited)).toBe(1);
    expect(fake.hits(other)).toBe(3);
  });

  it("429 on every key answers 429 with the soonest retry-after, quickly", async () => {
    const { fake, gateway } = await setup({ GEMINI_API_KEY: "key-a,key-b" });
    fake.enqueue(rateLimited(40), rateLimited(12));
    const started = Date.now();
    const res = await postRaw(gateway, { ...ask, stream: true });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("12");
    expect(JSON.parse(res.text).error.type).toBe("rate_limit_error");
    expect(Date.now() - started).toBeLessThan(2_000);
    // While both keys cool, the gateway answers without calling the upstream.
    const again = await postRaw(gateway, { ...ask, stream: true });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("retry-after"))).toBeLessThanOrEqual(12);
    expect(fake.requests).toHaveLength(2);
  });

  it("a rejected key is an authentication_error; with a second key the request still succeeds", async () => {
    const single = await setup({ GEMINI_API_KEY: "bad-key" }, { validKeys: ["good-key"] });
    const res = await postRaw(single.gateway, ask);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).error.type).toBe("authentication_error");
    expect(res.text).not.toContain("bad-key");

    const two = await setup({ GEMINI_API_KEY: "bad-key,good-key" }, { validKeys: ["good-key"] });
    const msg = await two.client.messages.create(ask);
    expect(msg.content[0]).toMatchObject({ type: "text" });
  });

  it("without any key the gateway still serves, answering a clear authentication_error", async () => {
    const gateway = await startTestGateway({ env: {} });
    cleanups.push(() => gateway.close());
    const res = await postRaw(gateway, ask);
    expect(res.status).toBe(401);
    const body = JSON.parse(res.text);
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.message).toMatch(/GEMINI_API_KEY/);
    const health = await fetch(`${gateway.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe("malformed upstream answers", () => {
  it("MALFORMED_FUNCTION_CALL is retried once, then reported as an error — never end_turn", async () => {
    const { fake, client } = await setup();
    const malformed = { chunks: textChunks("", { finishReason: "MALFORMED_FUNCTION_CALL" }) };
    fake.enqueue(malformed, { chunks: textChunks("second try worked") });
    const ok = await client.messages.create(ask);
    expect(ok.content).toEqual([{ type: "text", text: "second try worked" }]);

    fake.enqueue(malformed, malformed);
    // 502, not 529: Claude Code would give up on an Opus model after three 529s (protocol.md E.6).
    await expect(client.messages.create(ask)).rejects.toMatchObject({ status: 502, type: "api_error" });
    expect(fake.requests).toHaveLength(4);
  });

  it("a stream that ends without a finish reason is not a success", async () => {
    const { fake, gateway } = await setup();
    fake.enqueue({ chunks: textChunks("half an ans", { parts: 2 }), omitFinish: true });
    const res = await postRaw(gateway, { ...ask, stream: true });
    const names = res.events.map((e) => e.event);
    expect(names).not.toContain("message_stop");
    expect(names.at(-1)).toBe("error");
  });
});

describe("thought signatures across turns (Gemini 3)", () => {
  it("the signature Gemini issued comes back on the functionCall part; foreign history gets the skip value", async () => {
    const { fake, client } = await setup({ CCGATE_DEFAULT_MODEL: "gemini-3-pro-preview" });
    const tools: Anthropic.Tool[] = [
      { name: "Bash", input_schema: { type: "object", properties: { command: { type: "string" } } } },
    ];
    fake.enqueue({
      chunks: functionCalls([{ name: "Bash", args: { command: "ls" } }], { thought: "I should list" }),
    });
    const first = await client.messages.create({ ...ask, tools });
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    const call = first.content[1] as Anthropic.ToolUseBlock;

    fake.enqueue({ chunks: textChunks("two files") });
    const second = await client.messages.create({
      ...ask,
      tools,
      messages: [
        user("list"),
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "a b" }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "two files" }]);
    const body = fake.requests[1]!.body as { contents: { role: string; parts: Record<string, unknown>[] }[] };
    const modelTurn = body.contents.find((c) => c.role === "model")!;
    const fcPart = modelTurn.parts.find((p) => "functionCall" in p)!;
    expect(fake.isIssuedSignature("gemini-3-pro-preview", fcPart.thoughtSignature as string)).toBe(true);
    expect(fake.requests[1]!.status).toBe(200);

    // History written by another model (Anthropic ids, no signatures) is accepted too.
    fake.enqueue({ chunks: textChunks("fine") });
    const foreign = await client.messages.create({
      ...ask,
      tools,
      messages: [
        user("list"),
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_01Abc", name: "Bash", input: { command: "ls" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01Abc", content: "a b" }] },
      ],
    });
    expect(foreign.content).toEqual([{ type: "text", text: "fine" }]);
    const fb = fake.requests[2]!.body as { contents: { parts: Record<string, unknown>[] }[] };
    expect(fb.contents[1]!.parts[0]!.thoughtSignature).toBe("skip_thought_signature_validator");
  });
});

describe("auxiliary endpoints", () => {
  it("count_tokens asks Gemini's countTokens, and falls back to the local estimate", async () => {
    const { fake, gateway } = await setup();
    const body = {
      model: "claude-sonnet-4-6",
      messages: [user("count these words please")],
      system: "be brief",
    };
    const res = await postRaw(gateway, body, {}, "/v1/messages/count_tokens?beta=true");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ccgate-count-source")).toBe("upstream");
    expect(JSON.parse(res.text).input_tokens).toBeGreaterThan(0);
    const sent = fake.requests[0]!;
    expect(sent.action).toBe("countTokens");
    expect(sent.body).toMatchObject({ generateContentRequest: { model: "models/gemini-2.5-pro" } });

    // The upstream refuses (here: a key it does not accept) → the local estimate, never an error.
    const refusing = await setup({}, { validKeys: ["another-key"] });
    const fallback = await postRaw(refusing.gateway, body, {}, "/v1/messages/count_tokens");
    expect(refusing.fake.requests[0]?.action).toBe("countTokens");
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get("x-ccgate-count-source")).toBe("estimate");
    expect(JSON.parse(fallback.text).input_tokens).toBeGreaterThan(5);
  });

  it("lists the accepted models and answers model lookups", async () => {
    const { client } = await setup();
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["gemini-2.5-pro", "gemini-2.5-flash"]));
    const one = await client.models.retrieve("claude-sonnet-4-6");
    expect(one.id).toBe("claude-sonnet-4-6");
  });

  it("a configured client token is required, as x-api-key or Bearer", async () => {
    const { fake, gateway } = await setup({ CCGATE_AUTH_TOKEN: "s3cret" });
    const denied = await postRaw(gateway, ask);
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.text).error.type).toBe("authentication_error");
    fake.enqueue({ chunks: textChunks("a") }, { chunks: textChunks("b") });
    expect((await postRaw(gateway, ask, { "x-api-key": "s3cret" })).status).toBe(200);
    expect((await postRaw(gateway, ask, { authorization: "Bearer s3cret" })).status).toBe(200);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it("a body over the size cap is a 413 request_too_large", async () => {
    const fake = await startFakeGemini();
    const gateway = await startTestGateway({
      env: { GEMINI_API_KEY: "k", GEMINI_BASE_URL: fake.url },
      configure: (c) => {
        c.server.bodyLimitBytes = 10_000;
      },
    });
    cleanups.push(
      () => fake.close(),
      () => gateway.close(),
    );
    const res = await postRaw(gateway, { ...ask, messages: [user("x".repeat(20_000))] });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.type).toBe("request_too_large");
    expect(fake.requests).toHaveLength(0);
  });

  it("unknown paths are Anthropic 404s; Claude Code's probes are answered", async () => {
    const { gateway } = await setup();
    const res = await fetch(`${gateway.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    expect((await fetch(`${gateway.url}/`, { method: "HEAD" })).status).toBe(200);
  });
});

describe("session affinity per route", () => {
  it("a session's main and background calls keep separate bindings (both caches stay warm)", async () => {
    const { fake, client } = await setup({ GEMINI_API_KEY: "key-a,key-b,key-c" });
    const session = { "x-claude-code-session-id": "5f0c7b6e-0000-4000-8000-000000000001" };
    const call = (model: string) =>
      client.messages.create({ model, max_tokens: 10, messages: [user("x")] }, { headers: session });
    for (let i = 0; i < 3; i++) {
      fake.enqueue({ chunks: textChunks("main") }, { chunks: textChunks("bg") });
      await call("claude-sonnet-4-6");
      await call("claude-haiku-4-5");
    }
    const keysFor = (model: string) =>
      new Set(fake.requests.filter((r) => r.model === model).map((r) => r.apiKey));
    // Each route's requests stayed on one key, although the two routes interleaved.
    expect(keysFor("gemini-2.5-pro").size).toBe(1);
    expect(keysFor("gemini-2.5-flash").size).toBe(1);
  });
});
