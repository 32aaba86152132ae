import { describe, expect, it } from "vitest";
import { decodeGeminiError, secondsUntilPacificMidnight } from "../../src/providers/gemini/errors.js";

const body = (error: Record<string, unknown>): string => JSON.stringify({ error });
const TYPE = "type.googleapis.com/google.rpc.";

const INVALID_KEY = {
  code: 400,
  message: "API key not valid. Please pass a valid API key.",
  status: "INVALID_ARGUMENT",
  details: [
    {
      "@type": `${TYPE}ErrorInfo`,
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: "generativelanguage.googleapis.com" },
    },
    {
      "@type": `${TYPE}LocalizedMessage`,
      locale: "en-US",
      message: "API key not valid. Please pass a valid API key.",
    },
  ],
};

function quota429(quotaId: string, retryDelay?: string): string {
  const details: Record<string, unknown>[] = [
    {
      "@type": `${TYPE}QuotaFailure`,
      violations: [
        {
          quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
          quotaId,
          quotaDimensions: { location: "global", model: "gemini-2.5-pro" },
          quotaValue: "10",
        },
      ],
    },
    {
      "@type": `${TYPE}Help`,
      links: [{ description: "Learn more", url: "https://ai.google.dev/gemini-api/docs/rate-limits" }],
    },
  ];
  if (retryDelay !== undefined) details.push({ "@type": `${TYPE}RetryInfo`, retryDelay });
  return body({
    code: 429,
    message:
      "You exceeded your current quota, please check your plan and billing details.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10",
    status: "RESOURCE_EXHAUSTED",
    details,
  });
}

describe("decodeGeminiError: keys and permissions", () => {
  it("400 API_KEY_INVALID → 401 authentication_error, class auth", () => {
    const err = decodeGeminiError(400, {}, body(INVALID_KEY));
    expect(err).toMatchObject({
      status: 401,
      type: "authentication_error",
      class: "auth",
      upstreamStatus: 400,
      message: "Gemini: API key not valid. Please pass a valid API key.",
    });
  });

  it("the array-wrapped body is parsed too", () => {
    const err = decodeGeminiError(400, {}, JSON.stringify([{ error: INVALID_KEY }]));
    expect(err).toMatchObject({ status: 401, type: "authentication_error", class: "auth" });
  });

  it("the ErrorInfo reason alone is enough; the message alone is enough", () => {
    const reasonOnly = { ...INVALID_KEY, message: "Request had invalid credentials." };
    expect(decodeGeminiError(400, {}, body(reasonOnly))).toMatchObject({ status: 401, class: "auth" });
    const messageOnly = {
      code: 400,
      message: "API key not valid. Please pass a valid API key.",
      status: "INVALID_ARGUMENT",
    };
    expect(decodeGeminiError(400, {}, body(messageOnly))).toMatchObject({ status: 401, class: "auth" });
  });

  it("401 → authentication_error, 403 → permission_error, both class auth", () => {
    expect(
      decodeGeminiError(
        401,
        {},
        body({ code: 401, message: "Request is missing credentials", status: "UNAUTHENTICATED" }),
      ),
    ).toMatchObject({ status: 401, type: "authentication_error", class: "auth", upstreamStatus: 401 });
    expect(
      decodeGeminiError(
        403,
        {},
        body({
          code: 403,
          message: "Method doesn't allow unregistered callers",
          status: "PERMISSION_DENIED",
        }),
      ),
    ).toMatchObject({ status: 403, type: "permission_error", class: "auth", upstreamStatus: 403 });
  });

  it("400 FAILED_PRECONDITION (region/billing) → 403 permission_error, class auth (another key or provider may work)", () => {
    const err = decodeGeminiError(
      400,
      {},
      body({
        code: 400,
        message: "User location is not supported for the API use.",
        status: "FAILED_PRECONDITION",
      }),
    );
    expect(err).toMatchObject({ status: 403, type: "permission_error", class: "auth", upstreamStatus: 400 });
    expect(err.message).toBe("Gemini: User location is not supported for the API use.");
  });
});

describe("decodeGeminiError: rate limits", () => {
  it("429 with RetryInfo 43s → rate_limit, retryAfterSeconds 43", () => {
    const err = decodeGeminiError(
      429,
      { "retry-after": "5" },
      quota429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "43s"),
    );
    expect(err).toMatchObject({
      status: 429,
      type: "rate_limit_error",
      class: "rate_limit",
      retryAfterSeconds: 43,
      upstreamStatus: 429,
    });
    expect(err.message).toMatch(/^Gemini: You exceeded your current quota/);
  });

  it("fractional retryDelay is rounded up", () => {
    const err = decodeGeminiError(429, {}, quota429("GenerateRequestsPerMinutePerProjectPerModel", "1.5s"));
    expect(err.retryAfterSeconds).toBe(2);
    expect(decodeGeminiError(429, {}, quota429("X", "0.2s")).retryAfterSeconds).toBe(1);
  });

  it("without RetryInfo the retry-after header is used (seconds or HTTP date, any case)", () => {
    expect(decodeGeminiError(429, { "Retry-After": "7" }, quota429("X")).retryAfterSeconds).toBe(7);
    expect(decodeGeminiError(429, { "retry-after": ["12"] }, quota429("X")).retryAfterSeconds).toBe(12);
    const now = new Date("2026-11-21T12:00:00Z");
    const date = new Date(now.getTime() + 30_000).toUTCString();
    expect(decodeGeminiError(429, { "retry-after": date }, quota429("X"), now).retryAfterSeconds).toBe(30);
    expect(decodeGeminiError(429, {}, quota429("X")).retryAfterSeconds).toBeUndefined();
  });

  it("a per-day quota waits until the next midnight Pacific time, even when RetryInfo says less", () => {
    // 2026-11-21 20:00 UTC = 12:00 PST (UTC-8): 12 hours to midnight.
    const now = new Date("2026-11-21T20:00:00Z");
    const err = decodeGeminiError(
      429,
      {},
      quota429("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "43s"),
      now,
    );
    expect(err).toMatchObject({
      class: "rate_limit",
      status: 429,
      type: "rate_limit_error",
      retryAfterSeconds: 43_200,
    });
  });

  it("secondsUntilPacificMidnight follows daylight saving time", () => {
    expect(secondsUntilPacificMidnight(new Date("2026-11-21T20:00:00Z"))).toBe(12 * 3600); // PST
    expect(secondsUntilPacificMidnight(new Date("2026-07-01T06:59:30Z"))).toBe(30); // 23:59:30 PDT
    expect(secondsUntilPacificMidnight(new Date("2026-07-01T07:00:00Z"))).toBe(86_400); // 00:00 PDT
  });

  it("a mid-stream error chunk (HTTP 200) uses the error's own code", () => {
    const err = decodeGeminiError(200, {}, quota429("X", "3s"));
    expect(err).toMatchObject({
      class: "rate_limit",
      status: 429,
      retryAfterSeconds: 3,
      upstreamStatus: 429,
    });
  });
});

describe("decodeGeminiError: server errors", () => {
  it.each([
    [500, "INTERNAL", "An internal error has occurred.", 500, "api_error"],
    [503, "UNAVAILABLE", "The model is overloaded. Please try again later.", 529, "overloaded_error"],
    [504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", 504, "timeout_error"],
    [502, "UNKNOWN", "Bad gateway", 500, "api_error"],
  ] as const)("%i %s → %i %s, transient", (status, grpc, message, outStatus, type) => {
    const err = decodeGeminiError(status, {}, body({ code: status, message, status: grpc }));
    expect(err).toMatchObject({ status: outStatus, type, class: "transient", upstreamStatus: status });
    expect(err.message).toBe(`Gemini: ${message}`);
  });

  it("an error chunk without a numeric code maps by its gRPC status", () => {
    const err = decodeGeminiError(
      200,
      {},
      body({ message: "The model is overloaded.", status: "UNAVAILABLE" }),
    );
    expect(err).toMatchObject({
      status: 529,
      type: "overloaded_error",
      class: "transient",
      upstreamStatus: 503,
    });
  });

  it("a non-JSON body → generic error by status", () => {
    const html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    const err = decodeGeminiError(502, { "content-type": "text/html" }, html);
    expect(err).toMatchObject({ status: 500, type: "api_error", class: "transient", upstreamStatus: 502 });
    expect(err.message).toContain("502 Bad Gateway");
    expect(decodeGeminiError(503, {}, "")).toMatchObject({
      status: 529,
      type: "overloaded_error",
      class: "transient",
    });
    expect(decodeGeminiError(400, {}, "oops")).toMatchObject({ status: 400, class: "permanent" });
  });
});

describe("decodeGeminiError: request errors", () => {
  it("context overflow → 400 with Anthropic's exact wording", () => {
    const err = decodeGeminiError(
      400,
      {},
      body({
        code: 400,
        message: "The input token count (1234567) exceeds the maximum number of tokens allowed (1048576).",
        status: "INVALID_ARGUMENT",
      }),
    );
    expect(err).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      class: "permanent",
      upstreamStatus: 400,
      message: "prompt is too long: 1234567 tokens > 1048576 maximum",
    });
  });

  it("other 400 keeps Google's message, prefixed", () => {
    const message =
      "Invalid JSON payload received. Unknown name \"additionalProperties\" at 'tools[0].function_declarations[3].parameters': Cannot find field.";
    const err = decodeGeminiError(400, {}, body({ code: 400, message, status: "INVALID_ARGUMENT" }));
    expect(err).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      class: "permanent",
      upstreamStatus: 400,
    });
    expect(err.message).toBe(`Gemini: ${message}`);
  });

  it("404 → not_found_error, permanent", () => {
    const message =
      "models/gemini-9-ultra is not found for API version v1beta, or is not supported for generateContent.";
    const err = decodeGeminiError(404, {}, body({ code: 404, message, status: "NOT_FOUND" }));
    expect(err).toMatchObject({
      status: 404,
      type: "not_found_error",
      class: "permanent",
      message: `Gemini: ${message}`,
    });
  });

  it("never echoes an API key", () => {
    // Shaped like a Google key (built at run time so no key-shaped literal sits in the repo).
    const key = ["AIza", "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"].join("");
    const message = `Request to https://generativelanguage.googleapis.com/v1beta/models/x?alt=sse&key=${key} failed; key ${key}`;
    const err = decodeGeminiError(400, {}, body({ code: 400, message, status: "INVALID_ARGUMENT" }));
    expect(err.message).not.toContain(key);
    expect(err.message).toContain("key=[redacted]");
    const plain = decodeGeminiError(502, {}, `upstream https://x/y?key=${key} down`);
    expect(plain.message).not.toContain(key);
  });
});
