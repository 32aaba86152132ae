import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { createOpenAIProvider } from "../../src/providers/openai/index.js";
import { retryAfterSeconds } from "../../src/providers/openai/retry-after.js";

const provider = createOpenAIProvider();

const openaiBody = (
  message: string,
  type = "invalid_request_error",
  code: string | null = null,
  param: string | null = null,
) => JSON.stringify({ error: { message, type, param, code } });

describe("decodeError: status mapping", () => {
  it.each([
    [401, "authentication_error", 401, "auth", "UPSTREAM_AUTH"],
    [403, "permission_error", 403, "auth", "UPSTREAM_PERMISSION"],
    [404, "not_found_error", 404, "permanent", "UPSTREAM_NOT_FOUND"],
    [400, "invalid_request_error", 400, "permanent", "UPSTREAM_INVALID_REQUEST"],
    [422, "invalid_request_error", 400, "permanent", "UPSTREAM_INVALID_REQUEST"],
    [413, "request_too_large", 413, "permanent", "UPSTREAM_REQUEST_TOO_LARGE"],
    [408, "timeout_error", 504, "transient", "UPSTREAM_TIMEOUT"],
    [409, "api_error", 500, "transient", "UPSTREAM_SERVER_ERROR"],
    [500, "api_error", 500, "transient", "UPSTREAM_SERVER_ERROR"],
    [501, "api_error", 500, "transient", "UPSTREAM_SERVER_ERROR"],
    [502, "overloaded_error", 529, "transient", "UPSTREAM_OVERLOADED"],
    [503, "overloaded_error", 529, "transient", "UPSTREAM_OVERLOADED"],
    [504, "timeout_error", 504, "transient", "UPSTREAM_TIMEOUT"],
    [402, "billing_error", 402, "rate_limit", "UPSTREAM_BILLING"],
  ] as const)("%i → %s (%i, %s)", (status, type, clientStatus, cls, code) => {
    const err = provider.decodeError(status, {}, openaiBody("something went wrong"));
    expect(err).toBeInstanceOf(GatewayError);
    expect({ type: err.type, status: err.status, class: err.class, code: err.code }).toEqual({
      type,
      status: clientStatus,
      class: cls,
      code,
    });
    expect(err.upstreamStatus).toBe(status);
    expect(err.message).toBe("something went wrong");
  });
});

describe("decodeError: rate limits and quota", () => {
  it("429 with retry-after → rate_limit class and seconds", () => {
    const err = provider.decodeError(
      429,
      { "retry-after": "7" },
      openaiBody("Rate limit reached", "requests", "rate_limit_exceeded"),
    );
    expect({ type: err.type, status: err.status, class: err.class, retry: err.retryAfterSeconds }).toEqual({
      type: "rate_limit_error",
      status: 429,
      class: "rate_limit",
      retry: 7,
    });
  });

  it("retry-after-ms wins and is rounded up to whole seconds", () => {
    const err = provider.decodeError(
      429,
      { "retry-after-ms": "1500", "retry-after": "9" },
      openaiBody("slow down"),
    );
    expect(err.retryAfterSeconds).toBe(2);
  });

  it("falls back to OpenAI's 'Please try again in …' hint", () => {
    expect(retryAfterSeconds({}, "Limit reached. Please try again in 20s.")).toBe(20);
    expect(retryAfterSeconds({}, "Please try again in 120ms.")).toBe(1);
    expect(retryAfterSeconds({}, "no hint")).toBeUndefined();
    expect(retryAfterSeconds({ "Retry-After": ["3"] }, "")).toBe(3);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, "", now)).toBe(30);
  });

  it("insufficient_quota → rate_limit with a long cooldown and a message saying so", () => {
    const err = provider.decodeError(
      429,
      { "retry-after": "1" },
      openaiBody(
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
      ),
    );
    expect(err.class).toBe("rate_limit");
    expect(err.type).toBe("rate_limit_error");
    expect(err.retryAfterSeconds).toBe(3600);
    expect(err.code).toBe("UPSTREAM_QUOTA_EXHAUSTED");
    expect(err.message).toMatch(/quota exhausted/);
    expect(err.message).toMatch(/check your plan/);
  });
});

describe("decodeError: context overflow → Anthropic wording", () => {
  it.each([
    [
      "OpenAI",
      openaiBody(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
      ),
      "prompt is too long: 130512 tokens > 128000 maximum",
    ],
    [
      "vLLM / DeepSeek, prompt alone too long",
      JSON.stringify({
        object: "error",
        message:
          "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens (39000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
        type: "BadRequestError",
        param: null,
        code: 400,
      }),
      "prompt is too long: 39000 tokens > 32768 maximum",
    ],
    [
      "prompt fits but not with max_tokens",
      openaiBody(
        "This model's maximum context length is 65536 tokens. However, you requested 70000 tokens (60000 in the messages, 10000 in the completion). Please reduce the length of the messages or completion.",
      ),
      "input length and `max_tokens` exceed context limit: 60000 + 10000 > 65536, decrease input length or `max_tokens` and try again",
    ],
    [
      "llama.cpp / LM Studio",
      JSON.stringify({
        error: {
          code: 400,
          message: "the request exceeds the available context size, try increasing it",
          type: "exceed_context_size_error",
          n_prompt_tokens: 9000,
          n_ctx: 8192,
        },
      }),
      "prompt is too long: 9000 tokens > 8192 maximum",
    ],
    [
      "Gemini OpenAI-compat",
      JSON.stringify([
        {
          error: {
            code: 400,
            message:
              "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            status: "INVALID_ARGUMENT",
          },
        },
      ]),
      "prompt is too long: 1200000 tokens > 1048576 maximum",
    ],
    [
      "code without numbers",
      openaiBody("Too many tokens.", "invalid_request_error", "context_length_exceeded"),
      "prompt is too long: Too many tokens.",
    ],
  ])("%s", (_name, body, message) => {
    const err = provider.decodeError(400, {}, body);
    expect(err.message).toBe(message);
    expect(err.type).toBe("invalid_request_error");
    expect(err.status).toBe(400);
    expect(err.class).toBe("permanent");
    expect(err.code).toBe("UPSTREAM_CONTEXT_LENGTH");
  });
});

describe("decodeError: body shapes", () => {
  it.each([
    ["Ollama bare string", JSON.stringify({ error: "model 'llama9' not found" }), "model 'llama9' not found"],
    [
      "plain text",
      "upstream connect error or disconnect/reset before headers",
      "upstream connect error or disconnect/reset before headers",
    ],
    ["array", JSON.stringify([{ error: { message: "in an array" } }]), "in an array"],
    ["empty", "", "Upstream answered HTTP 404"],
  ])("%s", (_name, body, message) => {
    expect(provider.decodeError(404, {}, body).message).toBe(message);
  });

  it("cuts very long bodies", () => {
    const err = provider.decodeError(502, {}, `<html>${"x".repeat(10_000)}</html>`);
    expect(err.message.length).toBeLessThanOrEqual(2001);
  });

  it("keeps the parsed upstream error as cause", () => {
    const err = provider.decodeError(400, {}, openaiBody("bad", "invalid_request_error", "x", "messages"));
    expect(err.cause).toMatchObject({ message: "bad", code: "x" });
  });
});
