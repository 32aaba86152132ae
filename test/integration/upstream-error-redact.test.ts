/**
 * Credentials an upstream echoes back in its error message must reach neither the client nor
 * the log. Over real HTTP: the fake OpenAI on 127.0.0.1 answering with the key it was sent, the
 * gateway (with a client token) on an ephemeral port, the official SDK and raw SSE as clients,
 * and the gateway's log lines captured from its logger.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import { type RunningGateway, startGateway } from "../../src/server.js";
import {
  contextLengthExceeded,
  errorAfter,
  httpError,
  rateLimited,
  startFakeOpenAI,
  textStream,
} from "../fakes/openai.js";
import { FAKE_OPENAI_KEY } from "../helpers/fake-credentials.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";

/** Shaped like no known token format: only an exact match on the configured key can catch it. */
const PLAIN_KEY = "team-upstream-0123456789abcdef";
/** The reviewer's reproduction. */
const SK_KEY = FAKE_OPENAI_KEY;
const CLIENT_TOKEN = "ccgate-client-token-4242";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  gateway: RunningGateway;
  client: Anthropic;
  fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  /** Every log line the gateway wrote, as written. */
  logs: string[];
}

/** A gateway with client auth and one openai provider using `key`, logging at info into `logs`. */
async function setup(key: string): Promise<Setup> {
  const fake = await startFakeOpenAI();
  cleanups.push(() => fake.close());
  const cwd = mkdtempSync(join(tmpdir(), "ccgate-redact-"));
  const { config } = loadConfig({ cwd, env: { CCGATE_PORT: "0", CCGATE_AUTH_TOKEN: CLIENT_TOKEN } });
  config.resilience.probe.enabled = false;
  config.telemetry.requestLog.path = ":memory:";
  config.providers = [
    providerSchema.parse({ name: "oai", type: "openai", baseUrl: `${fake.url}/v1`, apiKeys: [key] }),
  ];
  config.routes = [routeSchema.parse({ name: "default", targets: ["oai/gpt-4o"] })];
  const logs: string[] = [];
  const gateway = await startGateway(config, {
    logger: { level: "info", stream: { write: (line: string) => void logs.push(line) } },
  });
  cleanups.push(() => gateway.close());
  return { gateway, client: sdkClient(gateway, CLIENT_TOKEN), fake, logs };
}

async function apiErrorOf(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const caught = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(caught).toBeInstanceOf(Anthropic.APIError);
  return caught as InstanceType<typeof Anthropic.APIError>;
}

/** The request tracker's line for the one request made, once it is written. */
async function trackerLine(logs: string[]): Promise<{ errorMessage?: string }> {
  await vi.waitFor(() => expect(logs.some((l) => l.includes('"errorMessage"'))).toBe(true));
  return JSON.parse(logs.find((l) => l.includes('"errorMessage"')) ?? "{}") as { errorMessage?: string };
}

const request = {
  model: "claude-sonnet-4-6",
  max_tokens: 256,
  messages: [{ role: "user" as const, content: "hi" }],
};

describe("an upstream error message that echoes the key", () => {
  it("the reviewer's case: `Bearer sk-…` is masked in the client's error body and the log line", async () => {
    const { client, fake, logs } = await setup(SK_KEY);
    fake.enqueue(httpError(400, `Invalid token: Bearer ${SK_KEY}`));
    const error = await apiErrorOf(client.messages.create(request));
    // The fake really was sent this key: what it echoed is the gateway's own secret.
    expect(fake.requests[0]?.key).toBe(SK_KEY);
    expect(error.status).toBe(400);
    expect(JSON.stringify(error.error)).not.toContain("secretSECRETsecret1234");
    expect((error.error as { error?: { message?: string } }).error?.message).toBe(
      "Invalid token: Bearer [redacted]",
    );
    const line = await trackerLine(logs);
    expect(line.errorMessage).toBe("Invalid token: Bearer [redacted]");
    expect(logs.join("")).not.toContain("secretSECRETsecret1234");
  });

  it("a configured key of no known shape is masked by exact match, wherever it appears", async () => {
    const { client, fake, logs } = await setup(PLAIN_KEY);
    fake.enqueue(
      httpError(
        401,
        `Incorrect API key provided: ${PLAIN_KEY}. You sent Authorization: Bearer ${PLAIN_KEY} to /v1/chat/completions?api_key=${PLAIN_KEY}`,
      ),
    );
    const error = await apiErrorOf(client.messages.create(request));
    expect(fake.requests[0]?.key).toBe(PLAIN_KEY);
    expect(error.status).toBe(401);
    expect(JSON.stringify(error.error)).not.toContain(PLAIN_KEY);
    expect((error.error as { error?: { message?: string } }).error?.message).toBe(
      "Incorrect API key provided: [redacted]. You sent Authorization: Bearer [redacted] to /v1/chat/completions?api_key=[redacted]",
    );
    await trackerLine(logs);
    expect(logs.join("")).not.toContain(PLAIN_KEY);
    expect(logs.join("")).not.toContain(CLIENT_TOKEN);
  });

  it("a streaming request refused before the commit point gets a JSON body without the key", async () => {
    const { gateway, fake, logs } = await setup(PLAIN_KEY);
    const limited = rateLimited(1);
    const body = JSON.parse(limited.body) as { error: { message: string } };
    body.error.message = `Rate limit reached for key ${PLAIN_KEY}`;
    fake.enqueue({ ...limited, body: JSON.stringify(body) });
    const res = await postRaw(gateway, { ...request, stream: true }, { "x-api-key": CLIENT_TOKEN });
    expect(res.status).toBe(429);
    expect(res.text).not.toContain(PLAIN_KEY);
    expect(JSON.parse(res.text)).toMatchObject({
      error: {
        type: "rate_limit_error",
        message: "Every upstream key is rate limited: Rate limit reached for key [redacted]",
      },
    });
    await trackerLine(logs);
    expect(logs.join("")).not.toContain(PLAIN_KEY);
  });

  it("a mid-stream upstream error: the SSE `event: error` and the log line carry no key", async () => {
    const { gateway, fake, logs } = await setup(PLAIN_KEY);
    fake.enqueue(
      errorAfter(textStream(["Hello", " there", " again"]), 3, `key ${PLAIN_KEY} was revoked mid-request`),
    );
    const res = await postRaw(
      gateway,
      { ...request, stream: true },
      { authorization: `Bearer ${CLIENT_TOKEN}` },
    );
    expect(res.status).toBe(200);
    const errors = res.events.filter((e) => e.event === "error");
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0]?.data)).not.toContain(PLAIN_KEY);
    expect(errors[0]?.data).toMatchObject({ error: { message: "key [redacted] was revoked mid-request" } });
    expect(res.text).not.toContain(PLAIN_KEY);
    const line = await trackerLine(logs);
    expect(line.errorMessage).toBe("key [redacted] was revoked mid-request");
    expect(logs.join("")).not.toContain(PLAIN_KEY);
  });

  it("with the key registered, Claude Code's overflow wording still arrives byte for byte — and the next echo is masked", async () => {
    const { client, fake, logs } = await setup(PLAIN_KEY);
    fake.enqueue(contextLengthExceeded(128000, 130000));
    const overflow = await apiErrorOf(client.messages.create(request));
    expect((overflow.error as { error?: { message?: string } }).error?.message).toBe(
      "prompt is too long: 130000 tokens > 128000 maximum",
    );
    fake.enqueue(httpError(400, `bad request from ${PLAIN_KEY}`));
    const echoed = await apiErrorOf(client.messages.create(request));
    expect((echoed.error as { error?: { message?: string } }).error?.message).toBe(
      "bad request from [redacted]",
    );
    await vi.waitFor(() => expect(logs.filter((l) => l.includes('"errorMessage"'))).toHaveLength(2));
    const messages = logs
      .filter((l) => l.includes('"errorMessage"'))
      .map((l) => (JSON.parse(l) as { errorMessage: string }).errorMessage);
    expect(messages).toEqual([
      "prompt is too long: 130000 tokens > 128000 maximum",
      "bad request from [redacted]",
    ]);
  });
});
