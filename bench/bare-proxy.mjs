/**
 * Child process: the baseline — a bare pass-through proxy. node:http in front, undici `request` on
 * a keep-alive Agent (the same pool settings as the gateway's Transport) behind; method, path,
 * headers and body go to the upstream unchanged, and the response bytes are piped back. No parsing,
 * no translation: whatever the gateway costs beyond this is the price of what it does.
 *
 * Upstream: env BENCH_UPSTREAM_URL.
 */
import { createServer } from "node:http";
import { pipeline } from "node:stream/promises";
import { Agent } from "undici";
import { failChild, serveChild } from "./child-ipc.mjs";

const upstream = process.env.BENCH_UPSTREAM_URL ?? "";
const origin = URL.canParse(upstream) ? new URL(upstream).origin : undefined;

const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 256 });

/** RFC 9110 §7.6.1 hop-by-hop headers, plus host (undici sets its own). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

function endToEnd(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

async function forward(req, res) {
  let upstreamRes;
  try {
    upstreamRes = await agent.request({
      origin,
      path: req.url ?? "/",
      method: req.method ?? "GET",
      headers: endToEnd(req.headers),
      body: req.method === "GET" || req.method === "HEAD" ? null : req,
    });
  } catch (err) {
    res.writeHead(502, { "content-type": "text/plain" });
    res.end(`bare proxy: upstream failed: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  res.writeHead(upstreamRes.statusCode, endToEnd(upstreamRes.headers));
  try {
    await pipeline(upstreamRes.body, res);
  } catch {
    // The client or the upstream went away mid-body: the socket is already torn down by pipeline.
    res.destroy();
  }
}

const server = createServer((req, res) => void forward(req, res));
server.keepAliveTimeout = 65_000;
server.headersTimeout = 70_000;
server.requestTimeout = 0;

server.on("error", failChild);
if (origin === undefined) failChild(new Error(`BENCH_UPSTREAM_URL is not a URL: "${upstream}"`));
else
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    serveChild(`http://127.0.0.1:${address.port}`, async () => {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.close();
    });
  });
