/**
 * Completion-token ceilings of the OpenAI adapter: the `maxOutputTokens` option (and its config
 * validation), limits learned from an upstream's 400, and the lowering of an already built body.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { createProvider } from "../../src/providers/create-provider.js";
import { createOpenAIProvider, parseOpenAIOptions } from "../../src/providers/openai/index.js";
import { clampBodyMaxTokens } from "../../src/providers/openai/max-tokens-member.js";
import { OutputLimits } from "../../src/providers/openai/output-limits.js";
import { bodyJson, type RequestContext } from "../helpers/upstream-body.js";

const OPENAI_TOO_LARGE = JSON.stringify({
  error: {
    message:
      "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
    type: "invalid_request_error",
    param: "max_tokens",
    code: null,
  },
});

function ctxOf(maxTokens: number, upstreamModel = "gpt-4o"): RequestContext {
  return {
    request: messagesRequestSchema.parse({
      model: "claude-sonnet-4-6",
      max_tokens: maxTokens,
      messages: [{ role: "user", content: "hi" }],
    }),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel,
    baseUrl: "http://127.0.0.1:9/v1",
    apiKey: "sk-test",
  };
}

const target = { upstreamModel: "gpt-4o", baseUrl: "http://127.0.0.1:9/v1" };

describe("maxOutputTokens", () => {
  it("clamps Claude Code's max_tokens, leaves smaller ones alone", () => {
    const provider = createOpenAIProvider({ maxOutputTokens: 16384 });
    expect(bodyJson(provider.buildBody(ctxOf(32000)))).toMatchObject({ max_completion_tokens: 16384 });
    expect(bodyJson(provider.buildBody(ctxOf(128000)))).toMatchObject({ max_completion_tokens: 16384 });
    expect(bodyJson(provider.buildBody(ctxOf(4096)))).toMatchObject({ max_completion_tokens: 4096 });
    expect(bodyJson(provider.buildBody(ctxOf(0)))).toMatchObject({ max_completion_tokens: 1 });
  });

  it("clamps the legacy field too", () => {
    const provider = createOpenAIProvider({ maxOutputTokens: 8192, maxTokensField: "max_tokens" });
    const body = bodyJson(provider.buildBody(ctxOf(32000))) as Record<string, unknown>;
    expect(body.max_tokens).toBe(8192);
    expect(body.max_completion_tokens).toBeUndefined();
  });

  it("the max-tokens member comes first in the bytes (so a retry can lower it)", () => {
    const body = createOpenAIProvider().buildBody(ctxOf(32000));
    expect(
      Buffer.from(body).toString("utf8").startsWith('{"max_completion_tokens":32000,"model":"gpt-4o"'),
    ).toBe(true);
  });

  it("parseOpenAIOptions accepts a whole number and rejects anything else", () => {
    expect(parseOpenAIOptions({ maxOutputTokens: 16384 })).toEqual({ maxOutputTokens: 16384 });
    for (const bad of [0, -1, 1.5, "16384", null])
      expect(() => parseOpenAIOptions({ maxOutputTokens: bad })).toThrow(
        /options\.maxOutputTokens must be a whole number of tokens/,
      );
  });
});

describe("maxOutputTokens in the config file", () => {
  function load(options: string) {
    const dir = mkdtempSync(join(tmpdir(), "ccgate-openai-config-"));
    writeFileSync(
      join(dir, "ccgate.yaml"),
      `providers:\n  - name: oai\n    type: openai\n    baseUrl: http://127.0.0.1:9/v1\n    options: ${options}\nroutes:\n  - {name: default, targets: [oai/gpt-4o]}\n`,
    );
    return () => loadConfig({ cwd: dir, env: {} });
  }

  it("a whole number loads", () => {
    expect(load("{maxOutputTokens: 16384}")().config.providers[0]?.options).toEqual({
      maxOutputTokens: 16384,
    });
  });

  it.each([
    ["{maxOutputTokens: 16384.5}", "expected a whole number of tokens, e.g. 16384"],
    ["{maxOutputTokens: 0}", "expected at least 1 token, e.g. 16384"],
    ['{maxOutputTokens: "lots"}', "expected a number of tokens, e.g. 16384"],
  ])("%s stops loading with the field and the fix", (options, message) => {
    let caught: unknown;
    try {
      load(options)();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toContain(`providers.0.options.maxOutputTokens: ${message}`);
  });
});

describe("models[].maxOutputTokens", () => {
  function loadYaml(yaml: string) {
    const dir = mkdtempSync(join(tmpdir(), "ccgate-openai-models-"));
    writeFileSync(join(dir, "ccgate.yaml"), yaml);
    return () => loadConfig({ cwd: dir, env: {} });
  }

  it("overrides the provider's ceiling for that model only (one entry, two limits)", () => {
    const { config } = loadYaml(
      "providers:\n  - name: ds\n    type: openai\n    baseUrl: http://127.0.0.1:9/v1\n" +
        "    options: {maxOutputTokens: 8192}\n" +
        "    models:\n      - {name: deepseek-chat}\n      - {name: deepseek-reasoner, maxOutputTokens: 65536}\n" +
        "routes:\n  - {name: default, targets: [ds/deepseek-chat]}\n",
    )();
    const entry = config.providers[0];
    if (entry === undefined) throw new Error("no provider");
    const provider = createProvider(entry);
    const asked = (model: string) =>
      (bodyJson(provider.buildBody(ctxOf(128000, model))) as { max_completion_tokens: number })
        .max_completion_tokens;
    expect(asked("deepseek-chat")).toBe(8192);
    expect(asked("deepseek-reasoner")).toBe(65536);
    expect(asked("another-model")).toBe(8192);
  });

  it("a learned limit still lowers a model's configured one", () => {
    const limits = new OutputLimits(8192, { big: 65536 });
    expect(limits.ceiling("big")).toBe(65536);
    limits.learn("big", 32768);
    expect(limits.ceiling("big")).toBe(32768);
  });

  it("on a provider that is not openai it stops loading, naming the field", () => {
    let caught: unknown;
    try {
      loadYaml(
        "providers:\n  - name: gem\n    type: gemini\n    models:\n      - {name: gemini-2.5-pro, maxOutputTokens: 100}\n" +
          "routes:\n  - {name: default, targets: [gem/gemini-2.5-pro]}\n",
      )();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toContain(
      "providers.0.models.0.maxOutputTokens: only openai providers use maxOutputTokens (remove it here)",
    );
  });
});

describe("limits learned from the upstream", () => {
  it("a stated limit is learned for that model only and clamps its later bodies", () => {
    const provider = createOpenAIProvider();
    const error = provider.decodeError(400, {}, OPENAI_TOO_LARGE);
    expect(provider.learnFromFailure(target, error)).toBe(true);
    expect(bodyJson(provider.buildBody(ctxOf(32000)))).toMatchObject({ max_completion_tokens: 16384 });
    expect(bodyJson(provider.buildBody(ctxOf(32000, "gpt-4.1")))).toMatchObject({
      max_completion_tokens: 32000,
    });
  });

  it("buildRequest lowers a body built before the lesson (the retry of the same request)", () => {
    const provider = createOpenAIProvider();
    const body = provider.buildBody(ctxOf(32000));
    expect(bodyJson(provider.buildRequest(ctxOf(32000), body).body)).toMatchObject({
      max_completion_tokens: 32000,
    });
    provider.learnFromFailure(target, provider.decodeError(400, {}, OPENAI_TOO_LARGE));
    const retried = bodyJson(provider.buildRequest(ctxOf(32000), body).body);
    expect(retried).toEqual({ ...(bodyJson(body) as object), max_completion_tokens: 16384 });
  });

  it("also when another request taught it first: this body still asks for more", () => {
    const provider = createOpenAIProvider();
    const error = provider.decodeError(400, {}, OPENAI_TOO_LARGE);
    expect(provider.learnFromFailure(target, error)).toBe(true);
    expect(provider.learnFromFailure(target, error)).toBe(true);
  });

  it("other failures teach nothing", () => {
    const provider = createOpenAIProvider();
    for (const [status, body] of [
      [400, JSON.stringify({ error: { message: "Invalid 'messages'", type: "invalid_request_error" } })],
      [429, JSON.stringify({ error: { message: "Rate limit reached", type: "requests" } })],
      [500, OPENAI_TOO_LARGE],
    ] as const)
      expect(provider.learnFromFailure(target, provider.decodeError(status, {}, body))).toBe(false);
    expect(bodyJson(provider.buildBody(ctxOf(32000)))).toMatchObject({ max_completion_tokens: 32000 });
  });

  it("the configured ceiling and a learned one: the lower wins", () => {
    const limits = new OutputLimits(20000);
    expect(limits.ceiling("m")).toBe(20000);
    expect(limits.learn("m", 30000)).toBe(false);
    expect(limits.ceiling("m")).toBe(20000);
    expect(limits.learn("m", 16384)).toBe(true);
    expect(limits.ceiling("m")).toBe(16384);
    expect(limits.learn("m", 16384)).toBe(false);
    expect(limits.learn("m", 8192)).toBe(true);
    expect(limits.ceiling("m")).toBe(8192);
    expect(new OutputLimits(undefined).ceiling("m")).toBeUndefined();
  });

  it("keeps at most 1024 models (the oldest is forgotten)", () => {
    const limits = new OutputLimits(undefined);
    for (let i = 0; i <= 1024; i++) limits.learn(`m${i}`, 1000);
    expect(limits.ceiling("m0")).toBeUndefined();
    expect(limits.ceiling("m1")).toBe(1000);
    expect(limits.ceiling("m1024")).toBe(1000);
  });
});

describe("clampBodyMaxTokens", () => {
  const body = Buffer.from('{"max_completion_tokens":32000,"model":"m","messages":[]}');

  it("lowers the leading value, keeps every other byte", () => {
    expect(Buffer.from(clampBodyMaxTokens(body, "max_completion_tokens", 16384)).toString()).toBe(
      '{"max_completion_tokens":16384,"model":"m","messages":[]}',
    );
    expect(clampBodyMaxTokens('{"max_tokens":9000,"model":"m"}', "max_tokens", 8192).toString()).toBe(
      '{"max_tokens":8192,"model":"m"}',
    );
  });

  it("returns the same body when it is within the ceiling or not of that shape", () => {
    expect(clampBodyMaxTokens(body, "max_completion_tokens", 32000)).toBe(body);
    expect(clampBodyMaxTokens(body, "max_tokens", 100)).toBe(body);
    const other = '{"model":"m","max_completion_tokens":32000}';
    expect(clampBodyMaxTokens(other, "max_completion_tokens", 100)).toBe(other);
  });

  it("works on a view into a larger buffer", () => {
    const pool = Buffer.concat([Buffer.from("xxxx"), body, Buffer.from("yyyy")]);
    const view = new Uint8Array(pool.buffer, pool.byteOffset + 4, body.length);
    expect(Buffer.from(clampBodyMaxTokens(view, "max_completion_tokens", 5)).toString()).toBe(
      '{"max_completion_tokens":5,"model":"m","messages":[]}',
    );
  });
});
