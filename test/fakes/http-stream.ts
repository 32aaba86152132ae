/**
 * Small node:http helpers shared by the fake upstreams: a size-capped body reader, abortable
 * sleeps, SSE framing and backpressure-aware writes. Every wait here ends when its signal aborts,
 * so a fake never keeps a test (or the process) alive after it is closed.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The body of a request, or how large it was when it went over the cap. */
export type CappedBody = { tooLarge: false; bytes: Buffer } | { tooLarge: true; size: number };

/**
 * Reads a request body, keeping at most `maxBytes`. Past the cap the rest is still drained (so the
 * client can read our answer) but not kept.
 */
export async function readBodyCapped(req: IncomingMessage, maxBytes: number): Promise<CappedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size <= maxBytes) chunks.push(buf);
  }
  return size > maxBytes ? { tooLarge: true, size } : { tooLarge: false, bytes: Buffer.concat(chunks) };
}

/** Resolves `true` after `ms`, or `false` as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** One SSE event the way Google frames them: `data: <json>` and a `\r\n\r\n` blank line (protocol.md F.3). */
export function sseFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

/**
 * Writes `chunk` and resolves once Node handed it to the socket (so a following destroy cannot
 * drop it, and a full buffer applies backpressure). Resolves `false` when the response closed
 * (client gone, or the fake destroyed the socket) or `signal` aborted first.
 */
export function writeChunk(res: ServerResponse, chunk: string, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (ok: boolean): void => {
      res.off("close", onClose);
      signal.removeEventListener("abort", onClose);
      resolve(ok);
    };
    const onClose = (): void => finish(false);
    res.on("close", onClose);
    signal.addEventListener("abort", onClose, { once: true });
    res.write(chunk, (error) => finish(error == null));
  });
}

/** Sends a complete JSON response (Google answers `application/json; charset=UTF-8`). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * A fake upstream's server on 127.0.0.1 (ephemeral port). A handler that throws destroys its
 * response (the client sees a reset, like a crashing upstream). `close` aborts `closing` first so
 * scripted delays and stalls end, then closes every connection.
 */
export async function listenLocal(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  closing: AbortController,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      res.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      }),
  };
}

/** A random id with a provider-style prefix (`msg_`, `toolu_`, `call_`, `chatcmpl-`…). */
export function fakeId(prefix: string): string {
  return prefix + randomBytes(12).toString("base64url").replace(/[-_]/g, "x");
}

/** Split on code points (never inside a surrogate pair) into `n` nearly equal pieces. */
export function splitPieces(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(n, chars.length));
  const size = Math.ceil(chars.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(""));
  return pieces.length > 0 ? pieces : [""];
}
