/**
 * The undici transport against real local HTTP servers: backpressure reaches the upstream, error
 * bodies are read (and capped) for the provider, aborts and early closes release the request.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import type { Provider } from "../../src/core/provider.js";
import { Transport } from "../../src/core/transport.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => handler(res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
}

const seen: { status: number; body: string }[] = [];
const provider = {
  decodeError(status: number, _headers: unknown, body: string) {
    seen.push({ status, body });
    return new GatewayError({
      code: "UPSTREAM",
      message: `upstream ${status}`,
      status,
      type: "api_error",
      class: "transient",
    });
  },
} as unknown as Provider;

const transport = () => new Transport({ connectMs: 2_000, firstByteMs: 5_000, idleMs: 5_000 });
const post = (url: string) => ({
  url,
  method: "POST" as const,
  headers: { "content-type": "application/json" },
  body: "{}",
});

describe("Transport", () => {
  it("a slow consumer holds the upstream back instead of buffering its whole answer", async () => {
    const chunk = Buffer.alloc(64 * 1024, 97);
    const total = 16 * 1024 * 1024;
    let written = 0;
    const url = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
    const t = transport();
    try {
      const response = await t.send(post(url), provider, new AbortController().signal);
      const iterator = response.body[Symbol.asyncIterator]();
      let received = (await iterator.next()).value?.length ?? 0;
      await new Promise((r) => setTimeout(r, 300));
      // Paused: the server is stuck well short of the end (socket buffers and one queue high-water).
      expect(written).toBeLessThan(total / 2);
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        received += next.value.length;
      }
      expect(received).toBe(total);
    } finally {
      await t.close();
    }
  });

  it("hands an error answer's body to the provider, capped for a huge one", async () => {
    seen.length = 0;
    const small = await serve((res) => {
      res.writeHead(429, { "content-type": "application/json" });
      res.end('{"error":{"message":"slow down é"}}');
    });
    const huge = await serve((res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end(Buffer.alloc(2 * 1024 * 1024, 120));
    });
    const t = transport();
    try {
      await expect(t.send(post(small), provider, new AbortController().signal)).rejects.toMatchObject({
        status: 429,
      });
      await expect(t.send(post(huge), provider, new AbortController().signal)).rejects.toMatchObject({
        status: 502,
      });
    } finally {
      await t.close();
    }
    expect(seen[0]).toEqual({ status: 429, body: '{"error":{"message":"slow down é"}}' });
    expect(seen[1]?.status).toBe(502);
    expect(seen[1]?.body.length).toBeGreaterThan(0);
    expect(seen[1]?.body.length).toBeLessThan(1024 * 1024);
  });

  it("an abort before or during the answer ends the request with the signal's reason", async () => {
    let closed = 0;
    const url = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: {}\n\n");
      res.on("close", () => closed++);
    });
    const t = transport();
    try {
      const reason = new GatewayError({
        code: "SHUTTING_DOWN",
        message: "bye",
        status: 529,
        type: "overloaded_error",
        class: "transient",
      });
      const early = new AbortController();
      early.abort(reason);
      await expect(t.send(post(url), provider, early.signal)).rejects.toBe(reason);

      const during = new AbortController();
      const response = await t.send(post(url), provider, during.signal);
      const iterator = response.body[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      const pending = iterator.next();
      during.abort(reason);
      await expect(pending).rejects.toBe(reason);
      await expect.poll(() => closed, { timeout: 2_000 }).toBe(1);

      // Closing early (the consumer stops) releases the upstream too.
      const response2 = await t.send(post(url), provider, new AbortController().signal);
      await response2.body[Symbol.asyncIterator]().next();
      response2.close();
      await expect.poll(() => closed, { timeout: 2_000 }).toBe(2);
    } finally {
      await t.close();
    }
  });
  it("sends the body with its own length and does not keep it while the answer streams", async () => {
    let received = "";
    let length: string | undefined;
    let upstream: ServerResponse | undefined;
    const server = createServer((req, res) => {
      length = req.headers["content-length"];
      req.setEncoding("utf8");
      req.on("data", (d: string) => (received += d));
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: first\n\n");
        upstream = res;
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const t = transport();
    try {
      let body: Uint8Array | undefined = Buffer.from(`{"text":"${"é".repeat(100_000)}"}`);
      const bytes = new WeakRef(body);
      // A configured length must not contradict the real one.
      const headers = { ...post(url).headers, "Content-Length": "3" };
      const response = await t.send({ ...post(url), headers, body }, provider, new AbortController().signal);
      body = undefined;
      const iterator = response.body[Symbol.asyncIterator]();
      expect(Buffer.from((await iterator.next()).value ?? []).toString()).toContain("first");
      expect(length).toBe(String(2 * 100_000 + 11));
      expect(JSON.parse(received)).toEqual({ text: "é".repeat(100_000) });
      // The answer is still streaming: nothing should be holding the request body any more.
      for (let i = 0; i < 3 && bytes.deref() !== undefined; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      expect(bytes.deref()).toBeUndefined();
      upstream?.end("data: last\n\n");
      let rest = "";
      for (let next = await iterator.next(); !next.done; next = await iterator.next())
        rest += Buffer.from(next.value).toString();
      expect(rest).toContain("last");
    } finally {
      await t.close();
    }
  });
});
