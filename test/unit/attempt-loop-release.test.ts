/**
 * Past the commit point the attempt loop lets go of the client request: a stream that runs on
 * for minutes must not keep a large conversation alive. Checked with a WeakRef and a forced GC
 * while a real upstream stream (a local Gemini-shaped SSE server) is still open.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { type AttemptGuard, runAttempts } from "../../src/core/attempt-loop.js";
import { Transport } from "../../src/core/transport.js";
import type { Attempt } from "../../src/core/upstream.js";
import type { MessagesRequest } from "../../src/protocol/anthropic/request-schema.js";
import { createGeminiProvider } from "../../src/providers/gemini/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const chunk = (text: string, finish?: string) =>
  `data: ${JSON.stringify({
    candidates: [
      { content: { role: "model", parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}) },
    ],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 2 },
  })}\r\n\r\n`;

const guard: AttemptGuard = {
  admit: () => ({ probe: false, release: () => {}, startedAt: Date.now() }),
  waitForRoom: async () => undefined,
  onSuccess: () => {},
  onFailure: () => ({ action: "stop" }),
};

let server: Server | undefined;
let transport: Transport | undefined;
afterEach(async () => {
  await transport?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe("attempt loop and the request's lifetime", () => {
  it("no longer holds the request once the first content has committed the stream", async () => {
    let upstream: ServerResponse | undefined;
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(chunk("first"));
        upstream = res;
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    transport = new Transport({ connectMs: 2_000, firstByteMs: 5_000, idleMs: 5_000 });
    const attempt: Attempt = {
      upstream: {
        name: "gemini",
        type: "gemini",
        provider: createGeminiProvider(),
        transport,
        baseUrl: `http://127.0.0.1:${port}`,
        headers: {},
        keys: [],
        requiresKey: false,
      },
      model: "gemini-2.5-flash",
      key: undefined,
    };

    let request: MessagesRequest | undefined = {
      model: "claude-sonnet-4-6",
      max_tokens: 100,
      messages: [{ role: "user", content: "x".repeat(200_000) }],
    };
    const released = new WeakRef(request);
    const batches = runAttempts({
      request,
      requestedModel: "claude-sonnet-4-6",
      attempts: [attempt],
      signal: new AbortController().signal,
      guard,
      maxAttempts: 1,
      budgetMs: 10_000,
      transientRetries: 0,
      retryBaseMs: 10,
    });
    request = undefined;

    const first = await batches.next();
    expect(first.done).toBe(false);
    expect(JSON.stringify(first.value)).toContain("first");
    // The upstream stream is still open here: only the loop could be holding the request.
    for (let i = 0; i < 3 && released.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(released.deref()).toBeUndefined();

    upstream?.end(chunk(" second", "STOP"));
    const rest: string[] = [];
    for await (const batch of batches) rest.push(JSON.stringify(batch));
    expect(rest.join("")).toContain("second");
    expect(rest.join("")).toContain("message_stop");
  });
});
