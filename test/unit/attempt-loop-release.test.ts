/**
 * How long the attempt loop holds the client request. A request waits seconds for its first
 * token and then streams for minutes; holding a large conversation all that time costs memory,
 * and at high concurrency the garbage collector's time. One upstream body serves every key and
 * retry of a target, so the loop lets go of the request once every planned target has its body —
 * with one target, before the upstream has answered — and at the latest at the commit point.
 * Checked with a WeakRef and a forced GC against a real local Gemini-shaped SSE server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { type AttemptGuard, runAttempts } from "../../src/core/attempt-loop.js";
import { Transport } from "../../src/core/transport.js";
import type { Attempt, UpstreamKey } from "../../src/core/upstream.js";
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

const RATE_LIMITED = JSON.stringify({
  error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" },
});

/** What the fake received: the model (from the path), the key header and the body bytes. */
interface Received {
  model: string;
  key: string | undefined;
  body: string;
  res: ServerResponse;
}

let server: Server | undefined;
let transport: Transport | undefined;
afterEach(async () => {
  await transport?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A local upstream that hands every request to the test, which answers it when it likes. */
async function upstream(): Promise<{ baseUrl: string; next: () => Promise<Received> }> {
  const waiting: ((r: Received) => void)[] = [];
  const arrived: Received[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const received: Received = {
        model: /models\/([^:]+):/.exec(req.url ?? "")?.[1] ?? "",
        key: req.headers["x-goog-api-key"] as string | undefined,
        body: Buffer.concat(parts).toString("utf8"),
        res,
      };
      const taker = waiting.shift();
      if (taker) taker(received);
      else arrived.push(received);
    });
  });
  server = s;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  transport = new Transport({ connectMs: 2_000, firstByteMs: 5_000, idleMs: 5_000 });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    next: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

function attemptsOf(baseUrl: string, targets: { name: string; model: string; key?: string }[]): Attempt[] {
  const provider = createGeminiProvider();
  const upstreams = new Map<string, Attempt["upstream"]>();
  return targets.map(({ name, model, key }) => {
    let u = upstreams.get(name);
    if (u === undefined) {
      u = {
        name,
        type: "gemini",
        provider,
        transport: transport as Transport,
        baseUrl,
        headers: {},
        keys: [],
        requiresKey: false,
      };
      upstreams.set(name, u);
    }
    const upstreamKey: UpstreamKey | undefined =
      key === undefined ? undefined : { id: `${name}#${key}`, label: key, secret: key };
    return { upstream: u, model, key: upstreamKey };
  });
}

const guard = (onFailure: ReturnType<AttemptGuard["onFailure"]>["action"]): AttemptGuard => ({
  admit: () => ({ probe: false, release: () => {}, startedAt: Date.now() }),
  waitForRoom: async () => undefined,
  onSuccess: () => {},
  probeCommitted: () => {},
  onFailure: () => ({ action: onFailure }),
});

/** Starts the loop on a large request that nothing but the loop references; returns a WeakRef to it. */
function start(attempts: Attempt[], onFailure: Parameters<typeof guard>[0] = "stop") {
  let request: MessagesRequest | undefined = {
    model: "claude-sonnet-4-6",
    max_tokens: 100,
    messages: [{ role: "user", content: "x".repeat(200_000) }],
  };
  const ref = new WeakRef(request);
  const batches = runAttempts({
    request,
    requestedModel: "claude-sonnet-4-6",
    attempts,
    signal: new AbortController().signal,
    guard: guard(onFailure),
    maxAttempts: attempts.length,
    budgetMs: 10_000,
    transientRetries: 0,
    retryBaseMs: 10,
  });
  request = undefined;
  return { ref, batches };
}

/** Whether the request is still alive after a few forced collections. */
async function alive(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 3 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() !== undefined;
}

/** Answer a held upstream request: a JSON error, or a whole one-chunk SSE answer. */
function answer(got: Received, status: number, body: string): void {
  got.res.writeHead(status, { "content-type": status === 200 ? "text/event-stream" : "application/json" });
  got.res.end(status === 200 ? chunk(body, "STOP") : body);
}

async function text(batches: AsyncIterable<unknown>): Promise<string> {
  const out: string[] = [];
  for await (const batch of batches) out.push(JSON.stringify(batch));
  return out.join("");
}

describe("attempt loop and the request's lifetime", () => {
  it("no longer holds the request once the first content has committed the stream", async () => {
    const fake = await upstream();
    const { ref, batches } = start(attemptsOf(fake.baseUrl, [{ name: "g", model: "gemini-2.5-flash" }]));
    const first = batches.next();
    const got = await fake.next();
    got.res.writeHead(200, { "content-type": "text/event-stream" });
    got.res.write(chunk("first"));
    const committed = await first;
    expect(committed.done).toBe(false);
    expect(JSON.stringify(committed.value)).toContain("first");
    // The upstream stream is still open here: only the loop could be holding the request.
    expect(await alive(ref)).toBe(false);

    got.res.end(chunk(" second", "STOP"));
    const rest = await text(batches);
    expect(rest).toContain("second");
    expect(rest).toContain("message_stop");
  });

  it("with one target, lets go of the request before the upstream has answered", async () => {
    const fake = await upstream();
    const { ref, batches } = start(attemptsOf(fake.baseUrl, [{ name: "g", model: "gemini-2.5-flash" }]));
    const first = batches.next();
    const got = await fake.next();
    expect(got.body).toContain("x".repeat(1000));
    // The upstream has the request and is silent, as during a long time to first token.
    expect(await alive(ref)).toBe(false);
    answer(got, 200, "answer");
    expect((await first).done).toBe(false);
    expect(await text(batches)).toContain("message_stop");
  });

  it("fails over to the next key of the target with the same body, the request already released", async () => {
    const fake = await upstream();
    const { ref, batches } = start(
      attemptsOf(fake.baseUrl, [
        { name: "g", model: "gemini-2.5-flash", key: "key-a" },
        { name: "g", model: "gemini-2.5-flash", key: "key-b" },
      ]),
      "next_key",
    );
    const first = batches.next();
    const a = await fake.next();
    expect(a.key).toBe("key-a");
    expect(await alive(ref)).toBe(false);
    answer(a, 429, RATE_LIMITED);

    const b = await fake.next();
    expect(b.key).toBe("key-b");
    expect(b.body).toBe(a.body);
    answer(b, 200, "from b");
    const all = JSON.stringify((await first).value) + (await text(batches));
    expect(all).toContain("from b");
    expect(all).toContain("message_stop");
  });

  it("keeps the request while a fallback target may still need its own body, then lets go", async () => {
    const fake = await upstream();
    const { ref, batches } = start(
      attemptsOf(fake.baseUrl, [
        { name: "primary", model: "gemini-2.5-pro" },
        { name: "fallback", model: "gemini-2.5-flash" },
      ]),
      "next_target",
    );
    const first = batches.next();
    const a = await fake.next();
    expect(a.model).toBe("gemini-2.5-pro");
    expect(await alive(ref)).toBe(true);
    answer(a, 503, JSON.stringify({ error: { code: 503, message: "overloaded", status: "UNAVAILABLE" } }));

    const b = await fake.next();
    expect(b.model).toBe("gemini-2.5-flash");
    expect(b.body).toContain("x".repeat(1000));
    // Every planned target has its body now.
    expect(await alive(ref)).toBe(false);
    answer(b, 200, "from the fallback");
    const all = JSON.stringify((await first).value) + (await text(batches));
    expect(all).toContain("from the fallback");
  });
});
