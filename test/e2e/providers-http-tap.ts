/**
 * A transparent HTTP tap on 127.0.0.1 (ephemeral port): forwards every request byte for byte to
 * `target` and records its method, path, request headers and the status the target answered.
 *
 * The fakes answer validation and auth failures themselves and do not keep the status, so a tap in
 * front of a fake is how an e2e test proves "no request was answered with a 4xx"; a tap in front
 * of the gateway shows which headers the real Claude Code CLI sent. Bodies stream through
 * unbuffered (SSE keeps its timing) and a client that goes away aborts the forwarded request.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export interface TappedExchange {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The target's status; undefined while waiting for it, or when the target never answered. */
  status: number | undefined;
  /** Set when forwarding failed (connection refused, reset before headers). */
  error?: string;
}

export interface HttpTap {
  /** Origin without a path, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly exchanges: TappedExchange[];
  close(): Promise<void>;
}

function forward(target: URL, req: IncomingMessage, res: ServerResponse, seen: TappedExchange): void {
  const headers = { ...req.headers, host: target.host };
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (answer) => {
      seen.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    },
  );
  upstream.on("error", (err) => {
    seen.error = err.message;
    if (res.headersSent) res.destroy();
    else res.writeHead(502, { "content-type": "text/plain" }).end(`tap: ${err.message}`);
  });
  // The client hung up before the body ended: drop the forwarded request too.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Start a tap forwarding to `targetUrl` (only its origin is used; the path comes from each request). */
export async function startHttpTap(targetUrl: string): Promise<HttpTap> {
  const target = new URL(targetUrl);
  const exchanges: TappedExchange[] = [];
  const server = createServer((req, res) => {
    const seen: TappedExchange = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      status: undefined,
    };
    exchanges.push(seen);
    forward(target, req, res, seen);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      }),
  };
}
