/**
 * The scenarios (request bodies) and, for each, the three targets: the fake directly and the bare
 * proxy with the Gemini request, the gateway with the equivalent Anthropic request.
 */
import { chunkCountOf } from "./answer.mjs";
import { claudeCodeAnthropicBody, smallAnthropicBody } from "./bodies.mjs";
import { toGeminiBody } from "./gemini-body.mjs";

/** Small non-stream, small stream, Claude-Code-size stream. */
export function scenarios() {
  const small = smallAnthropicBody();
  const claudeCode = claudeCodeAnthropicBody();
  return [
    { key: "small-json", label: "small non-stream", anthropic: { ...small, stream: false }, query: "" },
    { key: "small-sse", label: "small stream", anthropic: small, query: "" },
    // Claude Code calls /v1/messages?beta=true with its beta headers (protocol.md E).
    {
      key: "cc-sse",
      label: "Claude-Code 57KB stream",
      anthropic: claudeCode,
      query: "?beta=true",
      claudeCode: true,
    },
  ];
}

/** `{direct, proxy, gateway}` request descriptions (gateway undefined when it is not running). */
export function targetsFor(scenario, urls) {
  const stream = scenario.anthropic.stream === true;
  const model = scenario.anthropic.model;
  const chunks = chunkCountOf(model);
  const geminiBody = Buffer.from(JSON.stringify(toGeminiBody(scenario.anthropic)));
  const geminiPath = `/v1beta/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`;
  const geminiHeaders = { "content-type": "application/json", "x-goog-api-key": "bench-key" };
  const anthropicHeaders = {
    "content-type": "application/json",
    accept: "application/json",
    "anthropic-version": "2023-06-01",
    "x-api-key": "bench-client-key",
    ...(scenario.claudeCode
      ? {
          "user-agent": "claude-cli/2.1.0 (external, cli)",
          "anthropic-beta":
            "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27",
          "x-app": "cli",
          "x-stainless-lang": "js",
          "x-stainless-retry-count": "0",
          "x-stainless-timeout": "600",
        }
      : {}),
  };
  const gemini = (origin) => ({
    origin,
    path: geminiPath,
    headers: geminiHeaders,
    body: geminiBody,
    dialect: "gemini",
    stream,
    chunks,
  });
  return {
    direct: gemini(urls.fake),
    proxy: gemini(urls.proxy),
    gateway:
      urls.gateway === undefined
        ? undefined
        : {
            origin: urls.gateway,
            path: `/v1/messages${scenario.query}`,
            headers: anthropicHeaders,
            body: Buffer.from(JSON.stringify(scenario.anthropic)),
            dialect: "anthropic",
            stream,
            chunks,
          },
  };
}
