/**
 * The one filter every outgoing and logged error message goes through (core/redact.ts): exact
 * configured secrets, common token shapes, and the promise that nothing else changes — Claude
 * Code reacts to the wording of some messages, so a masked message must keep it byte for byte.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { GatewayError, invalidRequest } from "../../src/core/errors.js";
import { redactSecrets, registerSecrets } from "../../src/core/redact.js";
import { errorBody, sendError } from "../../src/http/errors.js";
import {
  FAKE_ANTHROPIC_KEY,
  FAKE_GOOGLE_KEY,
  FAKE_GOOGLE_TOKEN,
  FAKE_OPENAI_KEY,
} from "../helpers/fake-credentials.js";

/** Registered once for the file (the registry is process-wide, like the gateway's keys). */
const CONFIGURED = "plainconfiguredsecret0042";
/** Too short to match exactly: masking it would mangle the word "maximum" in every message. */
const SHORT = "maximum";
registerSecrets([CONFIGURED, SHORT, undefined, ""]);

/** Messages Claude Code acts on by their wording (protocol.md C.4, E.6). */
const CLAUDE_CODE_WORDINGS = [
  "prompt is too long: 211321 tokens > 200000 maximum",
  "input length and `max_tokens` exceed context limit: 188059 + 20000 > 200000, decrease input length or `max_tokens` and try again",
  "max_tokens: 128000 > 16384, which is the maximum allowed number of output tokens for this model; set options.maxOutputTokens: 16384 on this openai provider to clamp it (upstream: max_tokens is too large: 128000. This model supports at most 16384 completion tokens, whereas you provided 128000.)",
  "Overloaded",
  "Every upstream key is rate limited: Rate limit reached for requests. Please try again in 1s.",
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.",
];

describe("redactSecrets", () => {
  it("masks a registered secret of any shape wherever it appears, and a per-call one", () => {
    expect(redactSecrets(`bad key ${CONFIGURED}; header x=${CONFIGURED}.`)).toBe(
      "bad key [redacted]; header x=[redacted].",
    );
    expect(redactSecrets("client sent clienttoken-xyz-9", ["clienttoken-xyz-9"])).toBe(
      "client sent [redacted]",
    );
    // A secret containing another is masked whole.
    expect(redactSecrets(`${CONFIGURED}-suffix`, [`${CONFIGURED}-suffix`])).toBe("[redacted]");
  });

  it("masks common token shapes", () => {
    expect(redactSecrets(`Invalid token: Bearer ${FAKE_OPENAI_KEY}`)).toBe(
      "Invalid token: Bearer [redacted]",
    );
    expect(redactSecrets("Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.abc123")).toBe(
      "Authorization: Bearer [redacted]",
    );
    expect(redactSecrets(`key ${FAKE_ANTHROPIC_KEY} is invalid`)).toBe("key [redacted] is invalid");
    expect(redactSecrets(`API key ${FAKE_GOOGLE_KEY} not valid`)).toBe("API key [redacted] not valid");
    expect(redactSecrets(`token ${FAKE_GOOGLE_TOKEN} expired`)).toBe("token [redacted] expired");
    expect(redactSecrets("x-goog-api-key: abc123def456 rejected")).toBe(
      "x-goog-api-key: [redacted] rejected",
    );
    expect(redactSecrets('{"x-goog-api-key":"abc123def456"}')).toBe('{"x-goog-api-key":"[redacted]"}');
    expect(redactSecrets("https://x/v1?key=secret123&alt=sse")).toBe("https://x/v1?key=[redacted]&alt=sse");
    expect(redactSecrets(`https://x/v1?key=${CONFIGURED}`)).toBe("https://x/v1?key=[redacted]");
    expect(redactSecrets(`x-goog-api-key: ${CONFIGURED}`)).toBe("x-goog-api-key: [redacted]");
  });

  it("leaves Claude Code's wordings byte for byte, alone or next to a masked secret", () => {
    for (const wording of CLAUDE_CODE_WORDINGS) {
      expect(redactSecrets(wording)).toBe(wording);
      expect(redactSecrets(wording, ["tokens", "200000"])).toBe(wording);
      expect(redactSecrets(`${wording} (key ${CONFIGURED})`)).toBe(`${wording} (key [redacted])`);
    }
  });
});

describe("client error bodies", () => {
  it("errorBody (the SSE `event: error` path) masks configured secrets, keeps type and id", () => {
    const error = new GatewayError({
      code: "UPSTREAM_SERVER_ERROR",
      message: `upstream saw ${CONFIGURED}`,
      status: 500,
      type: "api_error",
      class: "transient",
    });
    expect(errorBody(error, "req_1")).toEqual({
      type: "error",
      error: { type: "api_error", message: "upstream saw [redacted]" },
      request_id: "req_1",
    });
  });

  it("sendError masks the token the client presented (x-api-key or Bearer)", async () => {
    const app = Fastify({ logger: false });
    app.post("/echo", async (req, reply) =>
      sendError(reply, invalidRequest(`unexpected ${String(req.headers["x-api-key"])}`), "req_2"),
    );
    app.post("/bearer", async (req, reply) =>
      sendError(reply, invalidRequest(`unexpected ${String(req.headers.authorization)}`), "req_3"),
    );
    try {
      const viaKey = await app.inject({
        method: "POST",
        url: "/echo",
        headers: { "x-api-key": "team-client-77" },
      });
      expect(viaKey.statusCode).toBe(400);
      expect(viaKey.body).not.toContain("team-client-77");
      expect(viaKey.json()).toMatchObject({ error: { message: "unexpected [redacted]" } });
      const viaBearer = await app.inject({
        method: "POST",
        url: "/bearer",
        headers: { authorization: "Bearer teamclienttoken" },
      });
      expect(viaBearer.body).not.toContain("teamclienttoken");
      expect(viaBearer.json()).toMatchObject({ error: { message: "unexpected Bearer [redacted]" } });
    } finally {
      await app.close();
    }
  });
});
