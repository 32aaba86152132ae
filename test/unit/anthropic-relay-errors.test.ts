import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { UpstreamHeaders } from "../../src/core/provider.js";
import { parseRetryAfter } from "../../src/providers/anthropic/errors.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/index.js";

const provider = createAnthropicProvider();

function anthropicBody(type: string, message: string): string {
  return JSON.stringify({
    type: "error",
    error: { type, message },
    request_id: "req_011CSHoEeqs5C35K2UUqR7Fy",
  });
}

describe("anthropic relay decodeError: mapping table", () => {
  it.each([
    [400, "invalid_request_error", "max_tokens: Field required", "permanent"],
    [401, "authentication_error", "invalid x-api-key", "auth"],
    [402, "billing_error", "Your credit balance is too low", "auth"],
    [403, "permission_error", "Your API key does not have permission to use the specified resource.", "auth"],
    [404, "not_found_error", "model: claude-nope", "permanent"],
    [408, "api_error", "Request timeout", "transient"],
    [409, "api_error", "Conflict", "transient"],
    [413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", "permanent"],
    [
      429,
      "rate_limit_error",
      "Number of request tokens has exceeded your per-minute rate limit",
      "rate_limit",
    ],
    [500, "api_error", "Internal server error", "transient"],
    [502, "api_error", "Bad gateway", "transient"],
    [503, "api_error", "Service unavailable", "transient"],
    [504, "timeout_error", "Request timed out", "transient"],
    [529, "overloaded_error", "Overloaded", "transient"],
  ])("HTTP %i %s → same status, type and message, class %s", (status, type, message, klass) => {
    const error = provider.decodeError(status, {}, anthropicBody(type, message));
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      status,
      upstreamStatus: status,
      type,
      message,
      class: klass,
      code: `UPSTREAM_${type.toUpperCase()}`,
    });
  });

  it("keeps Claude Code's recovery wording byte for byte (protocol.md C.4)", () => {
    for (const message of [
      "prompt is too long: 210118 tokens > 200000 maximum",
      "input length and `max_tokens` exceed context limit: 187254 + 20000 > 204798, decrease input length or `max_tokens` and try again",
    ]) {
      const error = provider.decodeError(400, {}, anthropicBody("invalid_request_error", message));
      expect(error.message).toBe(message);
      expect(error).toMatchObject({ type: "invalid_request_error", class: "permanent", status: 400 });
    }
  });

  it("529 stays 529 and is retryable", () => {
    expect(provider.decodeError(529, {}, anthropicBody("overloaded_error", "Overloaded"))).toMatchObject({
      status: 529,
      type: "overloaded_error",
      class: "transient",
    });
  });

  it.each([
    [502, "api_error", "transient"],
    [503, "api_error", "transient"],
    [404, "not_found_error", "permanent"],
    [401, "authentication_error", "auth"],
    [429, "rate_limit_error", "rate_limit"],
    [529, "overloaded_error", "transient"],
    [422, "invalid_request_error", "permanent"],
  ])("an HTML page with HTTP %i → generic %s, class %s", (status, type, klass) => {
    const html =
      "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>";
    const error = provider.decodeError(status, { "content-type": "text/html" }, html);
    expect(error).toMatchObject({ status, type, class: klass, message: `Upstream returned HTTP ${status}` });
    expect(error.cause).toEqual({ upstreamStatus: status, body: html });
  });

  it("an empty body → generic by status", () => {
    expect(provider.decodeError(503, {}, "")).toMatchObject({
      status: 503,
      type: "api_error",
      class: "transient",
      message: "Upstream returned HTTP 503",
    });
  });

  it("a relay's OpenAI-style error keeps its message, type by status", () => {
    const body = JSON.stringify({
      error: { message: "quota exhausted for this token", type: "new_api_error" },
    });
    expect(provider.decodeError(429, {}, body)).toMatchObject({
      status: 429,
      type: "rate_limit_error",
      class: "rate_limit",
      message: "quota exhausted for this token",
    });
  });

  it("an unknown Anthropic error type is typed by status, message kept", () => {
    expect(
      provider.decodeError(409, {}, anthropicBody("conflict_error", "Resource is locked")),
    ).toMatchObject({
      status: 409,
      type: "api_error",
      class: "transient",
      message: "Resource is locked",
    });
  });

  it("keeps the parsed upstream body as cause", () => {
    const body = anthropicBody("api_error", "boom");
    expect(provider.decodeError(500, {}, body).cause).toEqual(JSON.parse(body));
  });
});

describe("anthropic relay decodeError: Retry-After", () => {
  it("429 with retry-after seconds", () => {
    const error = provider.decodeError(
      429,
      { "retry-after": "17" },
      anthropicBody("rate_limit_error", "slow"),
    );
    expect(error).toMatchObject({ class: "rate_limit", retryAfterSeconds: 17 });
  });

  it("retry-after-ms wins and is rounded up to whole seconds", () => {
    const headers: UpstreamHeaders = { "retry-after-ms": "1500.5", "retry-after": "30" };
    expect(
      provider.decodeError(429, headers, anthropicBody("rate_limit_error", "slow")).retryAfterSeconds,
    ).toBe(2);
  });

  it("529 with retry-after keeps it too", () => {
    expect(provider.decodeError(529, { "retry-after": "3" }, "").retryAfterSeconds).toBe(3);
  });

  it.each<[UpstreamHeaders, number | undefined]>([
    [{}, undefined],
    [{ "retry-after": "0" }, undefined],
    [{ "retry-after": "-4" }, undefined],
    [{ "retry-after": "soon" }, undefined],
    [{ "retry-after": " 2.2 " }, 3],
    [{ "Retry-After": "5" }, 5],
    [{ "retry-after": ["7", "9"] }, 7],
    [{ "retry-after-ms": "0", "retry-after": "4" }, 4],
    [{ "retry-after-ms": "abc", "retry-after": "4" }, 4],
    [{ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" }, 30],
    [{ "retry-after": "Wed, 21 Oct 2015 07:27:00 GMT" }, undefined],
  ])("parseRetryAfter(%j) = %s", (headers, expected) => {
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(parseRetryAfter(headers, now)).toBe(expected);
  });
});
