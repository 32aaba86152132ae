import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { CountTokensContext } from "../../src/core/provider.js";
import {
  countTokensRequestSchema,
  type MessagesRequest,
  messagesRequestSchema,
} from "../../src/protocol/anthropic/request-schema.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/index.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";
import { bodyJson, buildUpstream, type RequestContext } from "../helpers/upstream-body.js";

interface CapturedRequest {
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function loadCaptured(name: string): CapturedRequest {
  return JSON.parse(readFileSync(`${CLAUDE_CODE_FIXTURES}/${name}.json`, "utf8")) as CapturedRequest;
}

function ctxFor(request: MessagesRequest, extra: Partial<RequestContext> = {}): RequestContext {
  return {
    request,
    requestedModel: "claude-opus-5-5",
    upstreamModel: "claude-sonnet-4-6-upstream",
    baseUrl: "https://relay.example.com",
    apiKey: "sk-relay-123",
    ...extra,
  };
}

const minimal: MessagesRequest = messagesRequestSchema.parse({
  model: "claude-opus-5-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: "hi" }],
});

describe("anthropic relay buildRequest", () => {
  const provider = createAnthropicProvider();

  it("forwards a real Claude Code request with only model and stream changed", () => {
    const fixture = loadCaptured("tool-bash-2");
    const request = messagesRequestSchema.parse(fixture.body);
    const before = JSON.stringify(request);
    const upstream = buildUpstream(provider, ctxFor(request));

    expect(upstream.method).toBe("POST");
    expect(upstream.url).toBe("https://relay.example.com/v1/messages");
    const body = bodyJson(upstream.body) as Record<string, unknown>;
    expect(body).toEqual({ ...fixture.body, model: "claude-sonnet-4-6-upstream", stream: true });
    // Unknown / newer fields the schema does not model pass through untouched.
    expect(body.context_management).toEqual(fixture.body.context_management);
    expect(body.output_config).toEqual(fixture.body.output_config);
    // Field order is the validated request's (model keeps its slot): a shallow copy, not a rebuild.
    expect(Object.keys(body)).toEqual(Object.keys(request));
    // Pure: the client's request is not modified.
    expect(JSON.stringify(request)).toBe(before);
  });

  it("keeps thinking blocks and signatures byte-identical", () => {
    const request = messagesRequestSchema.parse({
      model: "m",
      max_tokens: 10,
      future_field: { nested: [1, "two", null] },
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: 'é 🎉 \u2028 "q"', signature: "EqQB+/==" },
            { type: "redacted_thinking", data: "opaque/+=" },
            { type: "tool_use", id: "toolu_01A", name: "Bash", input: { command: "ls" } },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01A", content: "a.ts" }] },
      ],
    });
    const body = bodyJson(buildUpstream(provider, ctxFor(request)).body) as Record<string, unknown>;
    expect(body.messages).toEqual(request.messages);
    expect(body.future_field).toEqual({ nested: [1, "two", null] });
  });

  it("forces stream: true whatever the client sent", () => {
    for (const stream of [false, true, undefined, null]) {
      const request = messagesRequestSchema.parse({
        ...minimal,
        ...(stream === undefined ? {} : { stream }),
      });
      const body = bodyJson(buildUpstream(provider, ctxFor(request)).body) as Record<string, unknown>;
      expect(body.stream).toBe(true);
    }
  });

  it("sends x-api-key, anthropic-version and content-type by default, no anthropic-beta", () => {
    expect(buildUpstream(provider, ctxFor(minimal)).headers).toEqual({
      "anthropic-version": "2023-06-01",
      "x-api-key": "sk-relay-123",
      "content-type": "application/json",
    });
  });

  it("sends Authorization: Bearer when configured", () => {
    const bearer = createAnthropicProvider({ authHeader: "bearer" });
    expect(buildUpstream(bearer, ctxFor(minimal)).headers).toEqual({
      "anthropic-version": "2023-06-01",
      authorization: "Bearer sk-relay-123",
      "content-type": "application/json",
    });
  });

  it("merges ctx.headers: anthropic-beta forwarded, version overridable, credentials and framing protected", () => {
    const fixture = loadCaptured("tool-bash-2");
    const headers = buildUpstream(
      provider,
      ctxFor(minimal, {
        headers: {
          "Anthropic-Beta": fixture.headers["anthropic-beta"] ?? "",
          "anthropic-version": "2026-10-21",
          "X-Custom": "1",
          authorization: "Bearer client-key",
          "x-api-key": "client-key",
          "content-length": "12",
          "Content-Type": "text/plain",
          "accept-encoding": "gzip",
          host: "localhost:8787",
        },
      }),
    ).headers;
    expect(headers).toEqual({
      "anthropic-version": "2026-10-21",
      "anthropic-beta": fixture.headers["anthropic-beta"],
      "x-custom": "1",
      "x-api-key": "sk-relay-123",
      "content-type": "application/json",
    });
  });

  it("without an api key, a credential configured in ctx.headers is used as is", () => {
    const headers = buildUpstream(
      provider,
      ctxFor(minimal, { apiKey: undefined, headers: { Authorization: "Bearer from-config" } }),
    ).headers;
    expect(headers).toEqual({
      "anthropic-version": "2023-06-01",
      authorization: "Bearer from-config",
      "content-type": "application/json",
    });
  });

  it("tolerates a trailing slash on baseUrl and keeps a path prefix", () => {
    expect(buildUpstream(provider, ctxFor(minimal, { baseUrl: "https://relay.example.com/" })).url).toBe(
      "https://relay.example.com/v1/messages",
    );
    expect(
      buildUpstream(provider, ctxFor(minimal, { baseUrl: "https://gw.example.com/api/anthropic" })).url,
    ).toBe("https://gw.example.com/api/anthropic/v1/messages");
  });
});

describe("anthropic relay count_tokens", () => {
  const provider = createAnthropicProvider({ authHeader: "bearer" });
  const countTokens = provider.countTokens;
  if (countTokens === undefined) throw new Error("countTokens must be implemented");

  const request = countTokensRequestSchema.parse({
    model: "claude-opus-5-5",
    system: [{ type: "text", text: "sys" }],
    messages: [{ role: "user", content: "hello" }],
    tools: [{ name: "Bash", input_schema: { type: "object" } }],
    context_management: { edits: [] },
  });
  const ctx: CountTokensContext = {
    request,
    requestedModel: "claude-opus-5-5",
    upstreamModel: "claude-haiku-upstream",
    baseUrl: "http://127.0.0.1:9999",
    apiKey: "k",
  };

  it("posts the request with the model rewritten and no stream field", () => {
    const upstream = countTokens.buildRequest(ctx);
    expect(upstream.url).toBe("http://127.0.0.1:9999/v1/messages/count_tokens");
    expect(upstream.method).toBe("POST");
    expect(upstream.headers.authorization).toBe("Bearer k");
    expect(bodyJson(upstream.body)).toEqual({ ...request, model: "claude-haiku-upstream" });
    expect(bodyJson(upstream.body)).not.toHaveProperty("stream");
  });

  it("reads input_tokens", () => {
    expect(countTokens.decodeResponse({ input_tokens: 2095 })).toBe(2095);
    expect(
      countTokens.decodeResponse({ input_tokens: 0, context_management: { original_input_tokens: 9 } }),
    ).toBe(0);
  });

  it.each([[null], [{}], [{ input_tokens: "12" }], [{ input_tokens: -1 }], [{ input_tokens: 1.5 }], ["12"]])(
    "rejects a malformed answer %j",
    (json) => {
      let thrown: unknown;
      try {
        countTokens.decodeResponse(json);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GatewayError);
      expect(thrown).toMatchObject({ code: "UPSTREAM_MALFORMED", class: "transient" });
    },
  );
});
