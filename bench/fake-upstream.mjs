/**
 * Child process: a minimal, fast fake Gemini on 127.0.0.1 (ephemeral port). No validation and no
 * delay: it drains the request body and answers
 *   POST /v1beta/models/<m>:streamGenerateContent?alt=sse  → N SSE frames written back to back
 *   POST /v1beta/models/<m>:generateContent                 → the same answer as one JSON body
 * where N comes from the model name (see answer.mjs). Answers are built once per model and cached,
 * so the fake spends its time on I/O only.
 */
import { createServer } from "node:http";
import { chunkCountOf, geminiJson, geminiSseFrames } from "./answer.mjs";
import { failChild, serveChild } from "./child-ipc.mjs";

const PATH = /^\/v1beta\/models\/([^/:?]+):(streamGenerateContent|generateContent)(?:\?|$)/;
const PROMPT_TOKENS = 12_000;

const streamCache = new Map();
const jsonCache = new Map();

function cached(cache, model, build) {
  let value = cache.get(model);
  if (value === undefined) {
    value = build(chunkCountOf(model), model, PROMPT_TOKENS);
    cache.set(model, value);
  }
  return value;
}

function answer(req, res) {
  const match = req.method === "POST" ? PATH.exec(req.url ?? "") : null;
  if (match === null) {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        error: { code: 404, message: `fake: no route for ${req.method} ${req.url}`, status: "NOT_FOUND" },
      }),
    );
    return;
  }
  const model = decodeURIComponent(match[1]);
  if (match[2] === "generateContent") {
    const body = cached(jsonCache, model, geminiJson);
    res.writeHead(200, { "content-type": "application/json; charset=UTF-8", "content-length": body.length });
    res.end(body);
    return;
  }
  const frames = cached(streamCache, model, geminiSseFrames);
  res.writeHead(200, { "content-type": "text/event-stream" });
  // Back to back, no awaiting drain: answers are small (≤ ~40 KB) and socket buffers absorb them.
  for (const frame of frames) res.write(frame);
  res.end();
}

const server = createServer((req, res) => {
  req.on("error", () => res.destroy());
  req.on("end", () => answer(req, res));
  req.resume();
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 70_000;
server.requestTimeout = 0;

server.on("error", failChild);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  serveChild(
    `http://127.0.0.1:${address.port}`,
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
});
