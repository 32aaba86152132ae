import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { createOpenAIProvider } from "../../src/providers/openai/index.js";
import { outputLimitOf } from "../../src/providers/openai/output-limit.js";
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
      "vLLM: the input fits, max_tokens does not",
      JSON.stringify({
        object: "error",
        message:
          "'max_tokens' or 'max_completion_tokens' is too large: 64000. This model's maximum context length is 64001 tokens and your request has 24235 input tokens (64000 > 64001 - 24235). None",
        type: "BadRequestError",
        param: null,
        code: 400,
      }),
      "input length and `max_tokens` exceed context limit: 24235 + 64000 > 64001, decrease input length or `max_tokens` and try again",
    ],
    [
      "vLLM: the input alone is too long",
      JSON.stringify({
        object: "error",
        message:
          "This model's maximum context length is 1536 tokens. However, your request has 4176 input tokens. Please reduce the length of the input messages.",
        type: "BadRequestError",
        param: null,
        code: 400,
      }),
      "prompt is too long: 4176 tokens > 1536 maximum",
    ],
    [
      "vLLM behind LiteLLM (the message quoted inside LiteLLM's)",
      openaiBody(
        'litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: OpenAIException - {"object":"error","message":"This model\'s maximum context length is 262144 tokens. However, your request has 372027 input tokens. Please reduce the length of the input messages. None","type":"BadRequestError","code":400}',
        "invalid_request_error",
        "400",
      ),
      "prompt is too long: 372027 tokens > 262144 maximum",
    ],
    [
      "OpenRouter: the output share is the problem",
      JSON.stringify({
        error: {
          message:
            'This endpoint\'s maximum context length is 131072 tokens. However, you requested about 138956 tokens (7884 of text input, 131072 in the output). Please reduce the length of either one, or use the "middle-out" transform to compress your prompt automatically.',
          code: 400,
          metadata: { provider_name: "Chutes" },
        },
      }),
      "input length and `max_tokens` exceed context limit: 7884 + 131072 > 131072, decrease input length or `max_tokens` and try again",
    ],
    [
      "OpenRouter: text and tool input add up",
      openaiBody(
        "This endpoint's maximum context length is 204800 tokens. However, you requested about 205432 tokens (81684 of text input, 3748 of tool input, 120000 in the output). Please reduce the length of either one",
      ),
      "input length and `max_tokens` exceed context limit: 85432 + 120000 > 204800, decrease input length or `max_tokens` and try again",
    ],
    [
      "OpenRouter: input only",
      openaiBody(
        'This endpoint\'s maximum context length is 16384 tokens. However, you requested about 94307 tokens (94307 of text input). Please reduce the length of either one, or use the "middle-out" transform to compress your prompt automatically.',
      ),
      "prompt is too long: 94307 tokens > 16384 maximum",
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

describe("decodeError: max_tokens above the model's completion limit", () => {
  it.each([
    [
      "OpenAI",
      openaiBody(
        "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
        "invalid_request_error",
        null,
        "max_tokens",
      ),
      { limit: 16384, requested: 32000 },
    ],
    [
      "OpenAI, max_completion_tokens",
      openaiBody(
        "max_completion_tokens is too large: 128000. This model supports at most 100000 completion tokens, whereas you provided 128000.",
        "invalid_request_error",
        null,
        "max_completion_tokens",
      ),
      { limit: 100000, requested: 128000 },
    ],
    [
      "Groq",
      openaiBody(
        "max_completion_tokens must be less than or equal to 40960, the maximum value for max_completion_tokens is less than the context_window for this model",
      ),
      { limit: 40960, requested: undefined },
    ],
    [
      "Groq, older wording",
      openaiBody("max_tokens for `llama-3.1-8b-instant` must be less than or equal to 8000"),
      { limit: 8000, requested: undefined },
    ],
    [
      "DeepSeek",
      openaiBody(
        "Invalid max_tokens value, the valid range of max_tokens is [1, 8192]",
        "invalid_request_error",
        "invalid_request_error",
      ),
      { limit: 8192, requested: undefined },
    ],
    [
      "Volcengine Ark",
      JSON.stringify({
        error: {
          code: "InvalidParameter",
          message:
            "The parameter `max_completion_tokens` specified in the request are not valid: integer above maximum value, expected a value <= 12288, but got 32000 instead. Request id: 0217",
          param: "max_completion_tokens",
          type: "BadRequest",
        },
      }),
      { limit: 12288, requested: 32000 },
    ],
    [
      "a relay that moves OpenAI's text into param",
      JSON.stringify({
        error: {
          message: "Param Incorrect",
          type: "upstream_error",
          param:
            "max_tokens is too large: 1048576. This model supports at most 131072 completion tokens, whereas you provided 1048576.",
          code: "400",
        },
      }),
      { limit: 131072, requested: 1048576 },
    ],
  ])("%s", (_name, body, stated) => {
    const err = provider.decodeError(400, {}, body);
    expect({ code: err.code, class: err.class, status: err.status, type: err.type }).toEqual({
      code: "UPSTREAM_MAX_TOKENS_TOO_LARGE",
      class: "permanent",
      status: 400,
      type: "invalid_request_error",
    });
    const over =
      stated.requested === undefined
        ? `max_tokens above ${stated.limit}`
        : `max_tokens: ${stated.requested} > ${stated.limit}`;
    expect(err.message).toContain(
      `${over}, which is the maximum allowed number of output tokens for this model; set options.maxOutputTokens: ${stated.limit}`,
    );
    expect(outputLimitOf(err)).toEqual(stated);
  });

  it("vLLM's context wording is a context overflow, not an output limit", () => {
    const err = provider.decodeError(
      400,
      {},
      openaiBody(
        "'max_tokens' or 'max_completion_tokens' is too large: 64000. This model's maximum context length is 64001 tokens and your request has 24235 input tokens (64000 > 64001 - 24235).",
      ),
    );
    expect(err.code).toBe("UPSTREAM_CONTEXT_LENGTH");
    expect(outputLimitOf(err)).toBeUndefined();
  });

  it("only client-error statuses: a 500 quoting the same text stays a server error", () => {
    const err = provider.decodeError(
      500,
      {},
      openaiBody("max_tokens is too large: 32000. This model supports at most 16384 completion tokens."),
    );
    expect(err.code).toBe("UPSTREAM_SERVER_ERROR");
    expect(outputLimitOf(err)).toBeUndefined();
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
