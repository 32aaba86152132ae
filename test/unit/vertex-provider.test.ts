/**
 * The Vertex AI adapter: options, URLs (regional and global), bearer auth, the Gemini body
 * unchanged, Vertex's countTokens body, the probe and error labels.
 */
import { describe, expect, it } from "vitest";
import type { CountTokensContext } from "../../src/core/provider.js";
import {
  countTokensRequestSchema,
  type MessagesRequest,
  messagesRequestSchema,
} from "../../src/protocol/anthropic/request-schema.js";
import { buildGeminiBody } from "../../src/providers/gemini/request.js";
import {
  createVertexProvider,
  parseVertexOptions,
  type VertexOptions,
  vertexBaseUrl,
} from "../../src/providers/vertex/index.js";
import { bodyJson, buildUpstream, type RequestContext } from "../helpers/upstream-body.js";

const OPTIONS: VertexOptions = { project: "my-proj", location: "europe-west4", toolSchema: "json-schema" };

function request(fields: Record<string, unknown> = {}): MessagesRequest {
  return messagesRequestSchema.parse({
    model: "claude-sonnet-4-6",
    max_tokens: 2000,
    messages: [{ role: "user", content: "hi" }],
    ...fields,
  });
}

function ctx(overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    request: request(),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gemini-2.5-pro",
    baseUrl: "https://europe-west4-aiplatform.googleapis.com",
    apiKey: "ya29.token",
    ...overrides,
  };
}

const READ_TOOL = {
  name: "Read",
  description: "read a file",
  input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"] },
};

describe("parseVertexOptions", () => {
  it("fills defaults and keeps the given keys", () => {
    expect(parseVertexOptions({ project: "p-1" })).toEqual({
      project: "p-1",
      location: "us-central1",
      toolSchema: "json-schema",
    });
    expect(
      parseVertexOptions({
        project: "p-1",
        location: "global",
        credentialsFile: "/keys/sa.json",
        tokenUrl: "http://127.0.0.1:9/token",
        toolSchema: "openapi",
      }),
    ).toEqual({
      project: "p-1",
      location: "global",
      credentialsFile: "/keys/sa.json",
      tokenUrl: "http://127.0.0.1:9/token",
      toolSchema: "openapi",
    });
  });

  it.each([
    [{}, /^options\.project: .*project id/],
    [{ project: 42 }, /^options\.project must be/],
    [{ project: "a/b" }, /^options\.project must be/],
    [{ project: "p", location: "us central1" }, /^options\.location must be/],
    [{ project: "p", location: "evil.example.com/x" }, /^options\.location must be/],
    [{ project: "p", credentialsFile: "" }, /^options\.credentialsFile must be/],
    [{ project: "p", credentialsFile: 7 }, /^options\.credentialsFile must be/],
    [{ project: "p", tokenUrl: "ftp://x/token" }, /^options\.tokenUrl must be an http\(s\) URL/],
    [{ project: "p", tokenUrl: "not a url" }, /^options\.tokenUrl must be/],
    [{ project: "p", toolSchema: "yaml" }, /^options\.toolSchema must be/],
    [
      { project: "p", region: "us-central1" },
      /^options\.region: unknown option for a vertex provider \(known: project, location/,
    ],
  ])("rejects %j naming the key", (options, message) => {
    expect(() => parseVertexOptions(options)).toThrow(message);
  });
});

describe("URLs and auth", () => {
  it("uses the regional host, or the global one for location global", () => {
    expect(vertexBaseUrl("us-central1")).toBe("https://us-central1-aiplatform.googleapis.com");
    expect(vertexBaseUrl("global")).toBe("https://aiplatform.googleapis.com");
  });

  it("streams from the project's publisher model with a bearer token", () => {
    const built = buildUpstream(createVertexProvider(OPTIONS), ctx());
    expect(built.method).toBe("POST");
    expect(built.url).toBe(
      "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
    );
    expect(built.headers).toEqual({ "content-type": "application/json", authorization: "Bearer ya29.token" });
    expect(built.headers["x-goog-api-key"]).toBeUndefined();
  });

  it("falls back to the location's host when the config has no baseUrl, and honours a given one", () => {
    const global = createVertexProvider({ ...OPTIONS, location: "global" });
    expect(buildUpstream(global, ctx({ baseUrl: "" })).url).toBe(
      "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
    );
    const local = buildUpstream(createVertexProvider(OPTIONS), ctx({ baseUrl: "http://127.0.0.1:4000" }));
    expect(local.url.startsWith("http://127.0.0.1:4000/v1/projects/my-proj/locations/europe-west4/")).toBe(
      true,
    );
  });

  it("strips a models/ prefix and escapes path segments", () => {
    const provider = createVertexProvider({ ...OPTIONS, project: "example.com:proj" });
    const url = buildUpstream(provider, ctx({ upstreamModel: "models/gemini-2.5-flash" })).url;
    expect(url).toContain("/projects/example.com%3Aproj/");
    expect(url).toContain("/models/gemini-2.5-flash:streamGenerateContent");
  });

  it("adds configured headers after its own", () => {
    const built = buildUpstream(
      createVertexProvider(OPTIONS),
      ctx({ headers: { "x-goog-user-project": "billing-proj" } }),
    );
    expect(built.headers["x-goog-user-project"]).toBe("billing-proj");
    expect(built.headers.authorization).toBe("Bearer ya29.token");
  });
});

describe("request body", () => {
  it("is the Gemini body, thinking and tools included", () => {
    const req = request({
      system: "You are terse.",
      thinking: { type: "enabled", budget_tokens: 1024 },
      tools: [READ_TOOL],
      tool_choice: { type: "auto" },
    });
    const built = buildUpstream(createVertexProvider(OPTIONS), ctx({ request: req }));
    const body = bodyJson(built.body) as Record<string, unknown>;
    expect(body).toEqual(
      JSON.parse(JSON.stringify(buildGeminiBody(req, "gemini-2.5-pro", { toolSchema: "json-schema" }))),
    );
    expect(body.generationConfig).toMatchObject({ thinkingConfig: { includeThoughts: true } });
    expect(body.systemInstruction).toEqual({ parts: [{ text: "You are terse." }] });
  });

  it("sends OpenAPI schemas when toolSchema is openapi", () => {
    const req = request({ tools: [READ_TOOL] });
    const built = buildUpstream(
      createVertexProvider({ ...OPTIONS, toolSchema: "openapi" }),
      ctx({ request: req }),
    );
    const body = bodyJson(built.body) as {
      tools: [{ functionDeclarations: [Record<string, unknown>] }];
    };
    const declaration = body.tools[0].functionDeclarations[0];
    expect(declaration.parameters).toMatchObject({ type: "OBJECT" });
    expect(declaration.parametersJsonSchema).toBeUndefined();
  });
});

describe("countTokens and probe", () => {
  const countCtx = (): CountTokensContext => ({
    request: countTokensRequestSchema.parse({
      model: "claude-sonnet-4-6",
      system: "sys",
      tools: [READ_TOOL],
      messages: [{ role: "user", content: "count me" }],
    }),
    requestedModel: "claude-sonnet-4-6",
    upstreamModel: "gemini-2.5-pro",
    baseUrl: "https://europe-west4-aiplatform.googleapis.com",
    apiKey: "ya29.token",
  });

  it("puts contents, systemInstruction and tools at the top level", () => {
    const counter = createVertexProvider(OPTIONS).countTokens;
    const built = counter?.buildRequest(countCtx());
    expect(built?.url).toBe(
      "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:countTokens",
    );
    expect(built?.headers.authorization).toBe("Bearer ya29.token");
    const body = bodyJson(built?.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["contents", "systemInstruction", "tools"]);
    expect(body.contents).toEqual([{ role: "user", parts: [{ text: "count me" }] }]);
    expect(body.systemInstruction).toEqual({ parts: [{ text: "sys" }] });
    expect(counter?.decodeResponse({ totalTokens: 17, totalBillableCharacters: 60 })).toBe(17);
    expect(counter?.decodeResponse({})).toBe(0);
    expect(() => counter?.decodeResponse({ error: { code: 400 } })).toThrow(/unreadable/);
  });

  it("probes with a free countTokens call", () => {
    const probe = createVertexProvider(OPTIONS).probe?.({
      upstreamModel: "gemini-2.5-flash",
      baseUrl: "https://europe-west4-aiplatform.googleapis.com",
      apiKey: "ya29.token",
    });
    expect(probe?.method).toBe("POST");
    expect(probe?.url).toMatch(/\/models\/gemini-2\.5-flash:countTokens$/);
    expect(probe?.headers.authorization).toBe("Bearer ya29.token");
    expect(bodyJson(probe?.body)).toEqual({
      contents: [{ role: "user", parts: [{ text: "ping" }] }],
    });
  });
});

describe("errors", () => {
  const provider = createVertexProvider(OPTIONS);
  const body = (code: number, status: string, message: string) =>
    JSON.stringify({ error: { code, status, message } });

  it("an expired or revoked token is an auth failure", () => {
    const error = provider.decodeError(
      401,
      {},
      body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
    );
    expect(error).toMatchObject({ class: "auth", status: 401, type: "authentication_error" });
    expect(error.message).toBe("Vertex AI: Request had invalid authentication credentials.");
  });

  it("a missing IAM permission is an auth failure with 403", () => {
    const error = provider.decodeError(
      403,
      {},
      body(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied on resource"),
    );
    expect(error).toMatchObject({ class: "auth", status: 403, type: "permission_error" });
  });

  it("quota is a rate limit; overload is overloaded_error", () => {
    const quota = provider.decodeError(
      429,
      { "retry-after": "7" },
      body(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later."),
    );
    expect(quota).toMatchObject({ class: "rate_limit", status: 429, retryAfterSeconds: 7 });
    const overloaded = provider.decodeError(503, {}, body(503, "UNAVAILABLE", "The model is overloaded."));
    expect(overloaded).toMatchObject({ class: "transient", type: "overloaded_error" });
  });
});
