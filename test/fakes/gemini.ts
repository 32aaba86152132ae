/**
 * A fake Gemini API (v1beta, protocol.md F.1–F.10) on node:http for integration and e2e tests.
 *
 * It is as strict as the real API (see ./gemini-validate.ts): an invalid request gets Google's
 * 400 before any script runs, and the script stays queued. Valid generate requests are answered
 * from `options.handler`, else from the FIFO queue filled by `enqueue()`, else with a default
 * "Hello from fake Gemini." answer. Scripts can also cut, stall, reset or hang the connection.
 * Thought signatures the fake hands out are remembered per model, so replaying one into another
 * model, or sending an invented one, fails like on Google (F.6). A request with the Google Search
 * tool (`tools: [{googleSearch: {}}]`) is answered, by default, like the grounded real API: text,
 * then `groundingMetadata` on the last chunk (see `groundedAnswer`); mixing it with function
 * declarations is Google's 400.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  FAKE_GEMINI_MODELS,
  type FakeModelInfo,
  findModel,
  type GoogleError,
  modelNotFound,
  validateCountTokens,
  validateGenerateContent,
} from "./gemini-validate.js";
import { readBodyCapped, sendJson, sleep, sseFrame, writeChunk } from "./http-stream.js";

export {
  FAKE_GEMINI_MODELS,
  type FakeModelInfo,
  type GoogleError,
  SKIP_THOUGHT_SIGNATURES,
} from "./gemini-validate.js";

/** A raw GenerateContentResponse (one SSE chunk), as Google sends it. */
export interface GeminiChunkSpec {
  candidates?: Array<{ content?: { role: string; parts: GeminiPartSpec[] }; [key: string]: unknown }>;
  usageMetadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface GeminiPartSpec {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: { id?: string; name: string; args: Record<string, unknown> };
  [key: string]: unknown;
}

/** A streamed (or, for generateContent, merged) answer. */
export interface ChunkScript {
  chunks: GeminiChunkSpec[];
  firstByteDelayMs?: number;
  chunkDelayMs?: number;
  /** Destroy the socket after this many chunks (a mid-stream cut). */
  cutAfterChunks?: number;
  /** Stop writing after this many chunks but keep the socket open. */
  stallAfterChunks?: number;
  /** Strip every finishReason (a stream that just ends). */
  omitFinish?: boolean;
}
/** An HTTP error answer. */
export interface ErrorScript {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}
export interface ResetScript {
  reset: true;
}
export interface HangScript {
  hang: true;
}
/** Raw SSE bytes, for malformed-chunk tests. */
export interface RawSseScript {
  status: 200;
  rawSse: string;
}
export type ScriptedResponse = ChunkScript | ErrorScript | ResetScript | HangScript | RawSseScript;

export type FakeGeminiAction =
  | "generateContent"
  | "streamGenerateContent"
  | "countTokens"
  | "listModels"
  | "getModel"
  | "unknown";

/** One request the fake received. */
export interface FakeGeminiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  action: FakeGeminiAction;
  model: string | undefined;
  apiKey: string | undefined;
  /** Parsed JSON body; undefined for GETs, unparsable or oversized bodies. */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** HTTP status sent; undefined while pending or when the fake never answered (reset, hang). */
  status: number | undefined;
  /** The client closed the connection before the fake finished its answer. */
  aborted: boolean;
}

export interface FakeGeminiOptions {
  /** Accepted API keys; default: any non-empty key. */
  validKeys?: readonly string[];
  /** Dynamic answers; return undefined to fall back to the queue. Runs after validation. */
  handler?: (req: FakeGeminiRequest) => ScriptedResponse | undefined;
  /** `false` strips `functionCall.id` from served chunks (older models without call ids). */
  functionCallIds?: boolean;
  /** Request body cap, default 20 MiB (Google's inline request limit, protocol.md F.2). */
  maxBodyBytes?: number;
  models?: readonly FakeModelInfo[];
  /** Upper bound for hang/stall scripts before the fake drops the socket itself (default 120 s). */
  hangMaxMs?: number;
}

export interface FakeGemini {
  /** Base URL, no trailing slash (e.g. `http://127.0.0.1:40123`). */
  readonly url: string;
  readonly requests: readonly FakeGeminiRequest[];
  readonly openConnections: number;
  /** Scripts still queued. */
  readonly pending: number;
  /** Exceptions thrown inside the fake (answered as 500); tests can assert it stays empty. */
  readonly errors: readonly unknown[];
  enqueue(...responses: ScriptedResponse[]): void;
  /** Requests per API key (all requests when no key is given). */
  hits(key?: string): number;
  /** A new signature valid for `model`, for building history by hand. */
  issueSignature(model: string): string;
  isIssuedSignature(model: string, signature: string): boolean;
  /** Resolves with the next request whose client disconnected before its answer finished. */
  waitForClientClose(timeoutMs?: number): Promise<FakeGeminiRequest>;
  /** Clears the queue, the request log and pending close events (issued signatures stay valid). */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TEXT = "Hello from fake Gemini.";
/** Placeholder a builder puts in `thoughtSignature`; replaced by a freshly issued one when served. */
export const FRESH_SIGNATURE = "$FRESH_THOUGHT_SIGNATURE$";

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const models = options.models ?? FAKE_GEMINI_MODELS;
  const maxBodyBytes = options.maxBodyBytes ?? 20 * 1024 * 1024;
  const hangMaxMs = options.hangMaxMs ?? 120_000;
  const queue: ScriptedResponse[] = [];
  const requests: FakeGeminiRequest[] = [];
  const errors: unknown[] = [];
  const sockets = new Set<Socket>();
  const issued = new Map<string, Set<string>>();
  const closing = new AbortController();
  let closedClients: FakeGeminiRequest[] = [];
  let closeWaiters: Array<(r: FakeGeminiRequest) => void> = [];

  const remember = (model: string, signature: string): void => {
    const set = issued.get(model) ?? new Set<string>();
    set.add(normalizeSignature(signature));
    issued.set(model, set);
  };
  const issueSignature = (model: string): string => {
    const signature = randomBytes(48).toString("base64");
    remember(model, signature);
    return signature;
  };
  const isIssuedSignature = (model: string, signature: string): boolean =>
    issued.get(model)?.has(normalizeSignature(signature)) ?? false;

  const onClientClose = (record: FakeGeminiRequest): void => {
    record.aborted = true;
    const waiter = closeWaiters.shift();
    if (waiter !== undefined) waiter(record);
    else closedClients.push(record);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      errors.push(error);
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, googleBody(500, "INTERNAL", String(error)));
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const route = parseRoute(req.method ?? "GET", url.pathname);
    const headerKey = req.headers["x-goog-api-key"];
    const apiKey =
      (typeof headerKey === "string" ? headerKey : undefined) ?? url.searchParams.get("key") ?? undefined;
    const record: FakeGeminiRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      action: route.action,
      model: route.model,
      apiKey,
      body: undefined,
      headers: req.headers,
      status: undefined,
      aborted: false,
    };
    requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      sendJson(res, status, body, headers);
    };
    const fail = (error: GoogleError): void => reply(error.code, { error });

    const body = req.method === "POST" ? await readBodyCapped(req, maxBodyBytes) : undefined;
    if (route.action === "unknown") return reply(404, googleBody(404, "NOT_FOUND", "Method not found."));
    if (apiKey === undefined || apiKey === "") return fail(MISSING_KEY);
    if (options.validKeys !== undefined && !options.validKeys.includes(apiKey)) return fail(INVALID_KEY);
    const model = route.model ?? "";
    if (route.action === "listModels") return reply(200, { models: models.map(modelJson) });
    const info = findModel(model, models);
    if (route.action === "getModel") {
      return info === undefined ? fail(modelNotFound(model, "generateContent")) : reply(200, modelJson(info));
    }
    if (body?.tooLarge === true) {
      return fail(invalidArgument(`Request payload size exceeds the limit: ${maxBodyBytes} bytes.`));
    }
    const parsed = parseJson(body?.bytes.toString("utf8") ?? "");
    if (!parsed.ok) return fail(invalidArgument("Invalid JSON payload received. Unexpected token."));
    record.body = parsed.value;
    const validateOptions = { models, isIssuedSignature };
    if (route.action === "countTokens") {
      const error = validateCountTokens(parsed.value, model, validateOptions);
      if (error !== undefined) return fail(error);
      const totalTokens = countTokensOf(parsed.value);
      return reply(200, {
        totalTokens,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: totalTokens }],
      });
    }
    const error = validateGenerateContent(parsed.value, model, validateOptions) ?? checkToolMix(parsed.value);
    if (error !== undefined) return fail(error);

    const script = options.handler?.(record) ?? queue.shift() ?? defaultAnswer(parsed.value);
    await serve(script, record, req, res, model);
  }

  async function serve(
    script: ScriptedResponse,
    record: FakeGeminiRequest,
    req: IncomingMessage,
    res: ServerResponse,
    model: string,
  ): Promise<void> {
    const gone = new AbortController();
    const signal = AbortSignal.any([gone.signal, closing.signal]);
    let fakeClosed = false;
    res.on("close", () => {
      if (!res.writableFinished && !fakeClosed && !closing.signal.aborted) onClientClose(record);
      gone.abort();
    });
    const drop = (reset: boolean): void => {
      fakeClosed = true;
      if (reset) req.socket.resetAndDestroy();
      else req.socket.destroy();
    };
    const holdThenDrop = async (): Promise<void> => {
      if (await sleep(hangMaxMs, signal)) drop(false);
    };

    if ("reset" in script) return drop(true);
    if ("hang" in script) return holdThenDrop();
    if ("rawSse" in script) {
      record.status = script.status;
      res.writeHead(script.status, SSE_HEADERS);
      res.end(script.rawSse);
      return;
    }
    if (!("chunks" in script)) {
      record.status = script.status;
      sendJson(res, script.status, script.body, script.headers);
      return;
    }
    const promptTokens = countTokensOf(record.body);
    const responseId = randomBytes(9).toString("base64url");
    const chunks = script.chunks.map((c) => prepareChunk(c, { model, promptTokens, responseId, script }));
    if (!(await sleep(script.firstByteDelayMs ?? 0, signal))) return;
    record.status = 200;

    if (record.action === "generateContent") {
      // One JSON answer: a cut or stall happens halfway through its bytes.
      const merged = mergeChunks(chunks);
      if (script.cutAfterChunks === undefined && script.stallAfterChunks === undefined) {
        return sendJson(res, 200, merged);
      }
      const text = JSON.stringify(merged);
      res.writeHead(200, {
        "content-type": "application/json; charset=UTF-8",
        "content-length": String(Buffer.byteLength(text)),
      });
      await writeChunk(res, text.slice(0, Math.floor(text.length / 2)), signal);
      return script.cutAfterChunks !== undefined ? drop(false) : holdThenDrop();
    }

    // Without alt=sse Google streams one JSON array (protocol.md F.1).
    const sse = record.query.alt === "sse";
    res.writeHead(200, sse ? SSE_HEADERS : { "content-type": "application/json; charset=UTF-8" });
    res.flushHeaders();
    for (let i = 0; i <= chunks.length; i++) {
      if (script.cutAfterChunks === i) return drop(false);
      if (script.stallAfterChunks === i) return holdThenDrop();
      const chunk = chunks[i];
      if (chunk === undefined) break;
      if (i > 0 && !(await sleep(script.chunkDelayMs ?? 0, signal))) return;
      const frame = sse ? sseFrame(chunk) : `${i === 0 ? "[" : ",\r\n"}${JSON.stringify(chunk)}`;
      if (!(await writeChunk(res, frame, signal))) return;
    }
    res.end(sse ? "" : chunks.length === 0 ? "[]" : "]");
  }

  interface PrepareContext {
    model: string;
    promptTokens: number;
    responseId: string;
    script: ChunkScript;
  }

  /** Fills what only the serving moment knows: fresh signatures, prompt usage, model version. */
  function prepareChunk(spec: GeminiChunkSpec, ctx: PrepareContext): Record<string, unknown> {
    const chunk = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
    for (const candidate of asArray(chunk.candidates)) {
      const c = asRecord(candidate);
      if (c === undefined) continue;
      if (ctx.script.omitFinish === true) delete c.finishReason;
      for (const rawPart of asArray(asRecord(c.content)?.parts)) {
        const part = asRecord(rawPart);
        if (part === undefined) continue;
        if (part.thoughtSignature === FRESH_SIGNATURE) part.thoughtSignature = issueSignature(ctx.model);
        else if (typeof part.thoughtSignature === "string") remember(ctx.model, part.thoughtSignature);
        const call = asRecord(part.functionCall);
        if (call !== undefined && options.functionCallIds === false) delete call.id;
      }
    }
    const usage = asRecord(chunk.usageMetadata);
    if (usage !== undefined && usage.promptTokenCount === undefined) {
      usage.promptTokenCount = ctx.promptTokens;
      usage.totalTokenCount = [
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "toolUsePromptTokenCount",
      ]
        .map((k) => (typeof usage[k] === "number" ? (usage[k] as number) : 0))
        .reduce((a, b) => a + b, 0);
    }
    if (chunk.error === undefined) {
      chunk.modelVersion ??= ctx.model;
      chunk.responseId ??= ctx.responseId;
    }
    return chunk;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get openConnections() {
      return sockets.size;
    },
    get pending() {
      return queue.length;
    },
    get errors() {
      return errors;
    },
    enqueue(...responses) {
      queue.push(...responses);
    },
    hits(key) {
      return key === undefined ? requests.length : requests.filter((r) => r.apiKey === key).length;
    },
    issueSignature,
    isIssuedSignature,
    waitForClientClose(timeoutMs = 5_000) {
      const ready = closedClients.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const waiter = (r: FakeGeminiRequest): void => {
          clearTimeout(timer);
          resolve(r);
        };
        const timer = setTimeout(() => {
          closeWaiters = closeWaiters.filter((w) => w !== waiter);
          reject(new Error(`fake Gemini: no client disconnected within ${timeoutMs} ms`));
        }, timeoutMs);
        closeWaiters.push(waiter);
      });
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      closedClients = [];
    },
    async close() {
      closing.abort();
      for (const socket of sockets) socket.destroy();
      await Promise.race([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref()),
      ]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Routing, auth and small JSON helpers.

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

const MISSING_KEY: GoogleError = {
  code: 403,
  status: "PERMISSION_DENIED",
  message:
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
};

const INVALID_KEY: GoogleError = {
  code: 400,
  status: "INVALID_ARGUMENT",
  message: "API key not valid. Please pass a valid API key.",
  details: [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
    },
  ],
};

function parseRoute(method: string, path: string): { action: FakeGeminiAction; model?: string } {
  if (path === "/v1beta/models" || path === "/v1beta/models/") {
    return { action: method === "GET" ? "listModels" : "unknown" };
  }
  const match = /^\/v1beta\/models\/([^/:]+)(?::([A-Za-z]+))?$/.exec(path);
  if (match === null) return { action: "unknown" };
  const model = decodeURIComponent(match[1] ?? "");
  const verb = match[2];
  if (verb === undefined) return method === "GET" ? { action: "getModel", model } : { action: "unknown" };
  const actions: Record<string, FakeGeminiAction> = {
    generateContent: "generateContent",
    streamGenerateContent: "streamGenerateContent",
    countTokens: "countTokens",
  };
  const action = actions[verb];
  return action !== undefined && method === "POST" ? { action, model } : { action: "unknown" };
}

function modelJson(m: FakeModelInfo): Record<string, unknown> {
  return {
    name: `models/${m.name}`,
    version: m.name.replace(/^gemini-/, "").split("-")[0],
    displayName: m.displayName,
    description: `${m.displayName} (fake)`,
    inputTokenLimit: m.inputTokenLimit,
    outputTokenLimit: m.outputTokenLimit,
    supportedGenerationMethods: [
      "generateContent",
      "countTokens",
      "createCachedContent",
      "batchGenerateContent",
    ],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}

/** Deterministic token estimate: ceil(JSON chars / 4) of contents + systemInstruction + tools. */
function countTokensOf(body: unknown): number {
  const req = asRecord(body) ?? {};
  const inner = asRecord(req.generateContentRequest ?? req.generate_content_request) ?? req;
  const counted = {
    contents: inner.contents ?? req.contents,
    systemInstruction: inner.systemInstruction ?? inner.system_instruction,
    tools: inner.tools,
  };
  return Math.ceil(JSON.stringify(counted).length / 4);
}

/** Chunks → one GenerateContentResponse, the way generateContent answers (adjacent text merged). */
function mergeChunks(chunks: readonly Record<string, unknown>[]): Record<string, unknown> {
  const parts: Record<string, unknown>[] = [];
  let finishReason: unknown;
  let groundingMetadata: unknown;
  for (const chunk of chunks) {
    const candidate = asRecord(asArray(chunk.candidates)[0]);
    if (candidate?.finishReason !== undefined) finishReason = candidate.finishReason;
    if (candidate?.groundingMetadata !== undefined) groundingMetadata = candidate.groundingMetadata;
    for (const raw of asArray(asRecord(candidate?.content)?.parts)) {
      const part = { ...(asRecord(raw) ?? {}) };
      const last = parts[parts.length - 1];
      const mergeable =
        last !== undefined &&
        typeof last.text === "string" &&
        typeof part.text === "string" &&
        last.thought === part.thought &&
        last.thoughtSignature === undefined;
      if (mergeable) {
        last.text = `${last.text as string}${part.text as string}`;
        if (part.thoughtSignature !== undefined) last.thoughtSignature = part.thoughtSignature;
      } else {
        parts.push(part);
      }
    }
  }
  const last = chunks[chunks.length - 1] ?? {};
  const candidate: Record<string, unknown> = { content: { role: "model", parts }, index: 0 };
  if (finishReason !== undefined) candidate.finishReason = finishReason;
  if (groundingMetadata !== undefined) candidate.groundingMetadata = groundingMetadata;
  const merged: Record<string, unknown> = { candidates: [candidate] };
  for (const key of ["usageMetadata", "modelVersion", "responseId", "promptFeedback"]) {
    if (last[key] !== undefined) merged[key] = last[key];
  }
  return merged;
}

function normalizeSignature(signature: string): string {
  return signature.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function googleBody(code: number, status: string, message: string): { error: GoogleError } {
  return { error: { code, message, status } };
}

function invalidArgument(message: string): GoogleError {
  return { code: 400, status: "INVALID_ARGUMENT", message };
}

/** True when the body asks for Grounding with Google Search. */
function wantsSearch(body: unknown): boolean {
  return asArray(asRecord(body)?.tools).some((t) => asRecord(t)?.googleSearch !== undefined);
}

/**
 * Tool rules the field tables cannot express, in Google's words: Google Search next to function
 * declarations (generateContent on Gemini 2.x; Gemini 3 needs includeServerSideToolInvocations,
 * which the field tables do not accept either), and a function calling config without functions.
 */
function checkToolMix(body: unknown): GoogleError | undefined {
  const req = asRecord(body) ?? {};
  const functions = asArray(req.tools).some((t) => asArray(asRecord(t)?.functionDeclarations).length > 0);
  if (wantsSearch(req) && functions) return invalidArgument("Tool use with function calling is unsupported");
  if (asRecord(req.toolConfig)?.functionCallingConfig !== undefined && !functions) {
    return invalidArgument("Function calling config is set without function_declarations.");
  }
  return undefined;
}

/** The answer when no script is queued: grounded when Google Search was requested. */
function defaultAnswer(body: unknown): ChunkScript {
  if (!wantsSearch(body)) return { chunks: textChunks(DEFAULT_TEXT) };
  const contents = asArray(asRecord(body)?.contents);
  const lastUser = [...contents].reverse().find((c) => asRecord(c)?.role === "user");
  const question = asArray(asRecord(lastUser)?.parts)
    .map((p) => asRecord(p)?.text)
    .filter((t): t is string => typeof t === "string")
    .join(" ")
    .replace(/^Perform a web search for the query:\s*/i, "")
    .slice(0, 120);
  return {
    chunks: groundedAnswer(`${FAKE_SEARCH_FACTS[0]} ${FAKE_SEARCH_FACTS[1]}`, {
      queries: [question === "" ? "fake search" : question],
      sources: FAKE_SEARCH_SOURCES,
      supports: [
        { text: FAKE_SEARCH_FACTS[0], sources: [0] },
        { text: FAKE_SEARCH_FACTS[1], sources: [1, 0] },
      ],
      parts: 2,
    }),
  };
}

function asRecord(input: unknown): Record<string, unknown> | undefined {
  return typeof input === "object" && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : undefined;
}

function asArray(input: unknown): readonly unknown[] {
  return Array.isArray(input) ? input : [];
}

// ---------------------------------------------------------------------------------------------
// Script builders. Usage is a running total per chunk (protocol.md F.3); promptTokenCount is
// filled in when served (from the request), finishReason sits on the last chunk.

const tokens = (chars: number): number => Math.ceil(chars / 4);

function chunk(
  parts: GeminiPartSpec[],
  candidates: number,
  thoughts: number,
  finish?: string,
): GeminiChunkSpec {
  const candidate: Record<string, unknown> = { content: { role: "model", parts }, index: 0 };
  if (finish !== undefined) candidate.finishReason = finish;
  const usageMetadata: Record<string, unknown> = { candidatesTokenCount: candidates };
  if (thoughts > 0) usageMetadata.thoughtsTokenCount = thoughts;
  usageMetadata.totalTokenCount = candidates + thoughts;
  return { candidates: [candidate as { content: { role: string; parts: GeminiPartSpec[] } }], usageMetadata };
}

function split(text: string, pieces: number): string[] {
  const chars = Array.from(text); // code points: never split a surrogate pair
  const n = Math.max(1, Math.min(pieces, chars.length));
  const size = Math.ceil(chars.length / n);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(chars.slice(i * size, (i + 1) * size).join(""));
  return out.filter((p, i) => p !== "" || i === 0);
}

/** `text` split over `parts` chunks; `signature: true` puts a fresh signature on the last part. */
export function textChunks(
  text: string,
  opts: { parts?: number; finishReason?: string; signature?: boolean } = {},
): GeminiChunkSpec[] {
  return textTail(text, opts, 0);
}

function textTail(
  text: string,
  opts: { parts?: number; finishReason?: string; signature?: boolean },
  thoughts: number,
): GeminiChunkSpec[] {
  const pieces = split(text, opts.parts ?? 1);
  let sent = 0;
  return pieces.map((piece, i) => {
    sent += piece.length;
    const last = i === pieces.length - 1;
    const part: GeminiPartSpec = { text: piece };
    if (last && opts.signature === true) part.thoughtSignature = FRESH_SIGNATURE;
    return chunk([part], tokens(sent), thoughts, last ? (opts.finishReason ?? "STOP") : undefined);
  });
}

/** A thought summary chunk (`thought: true`), then the answer text. */
export function thinkingThenText(
  thought: string,
  text: string,
  opts: { parts?: number; signature?: boolean } = {},
): GeminiChunkSpec[] {
  const thoughts = tokens(thought.length);
  return [chunk([{ text: thought, thought: true }], 0, thoughts), ...textTail(text, opts, thoughts)];
}

export interface FakeCall {
  name: string;
  args?: Record<string, unknown>;
  id?: string;
}

/**
 * One model step that calls functions, Gemini-3 style: all calls in one chunk, only the first
 * carrying a fresh thoughtSignature (protocol.md F.6), `fc_…` ids unless `ids: false`.
 */
export function functionCalls(
  calls: readonly FakeCall[],
  opts: { signature?: boolean; ids?: boolean; thought?: string; text?: string } = {},
): GeminiChunkSpec[] {
  const thoughts = opts.thought === undefined ? 0 : tokens(opts.thought.length);
  const out: GeminiChunkSpec[] = [];
  let sent = 0;
  if (opts.thought !== undefined) out.push(chunk([{ text: opts.thought, thought: true }], 0, thoughts));
  if (opts.text !== undefined) {
    sent += opts.text.length;
    out.push(chunk([{ text: opts.text }], tokens(sent), thoughts));
  }
  const parts = calls.map((call, i): GeminiPartSpec => {
    const functionCall: NonNullable<GeminiPartSpec["functionCall"]> = {
      name: call.name,
      args: call.args ?? {},
    };
    if (opts.ids !== false) functionCall.id = call.id ?? `fc_${randomBytes(6).toString("hex")}`;
    sent += call.name.length + JSON.stringify(functionCall.args).length;
    const part: GeminiPartSpec = { functionCall };
    if (i === 0 && opts.signature !== false) part.thoughtSignature = FRESH_SIGNATURE;
    return part;
  });
  out.push(chunk(parts, tokens(sent), thoughts, "STOP"));
  return out;
}

/** A mid-stream error chunk (`data: {"error": ...}`, protocol.md F.9). */
export function streamErrorChunk(code: number, status: string, message: string): GeminiChunkSpec {
  return { error: { code, message, status } };
}

/** A Google-shaped HTTP error answer. */
export function googleError(code: number, status: string, message: string, details?: unknown[]): ErrorScript {
  const error: GoogleError = { code, message, status };
  if (details !== undefined) error.details = details;
  return { status: code, body: { error } };
}

/** 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo details like the real API. */
export function rateLimited(
  retryDelaySeconds = 30,
  opts: { model?: string; daily?: boolean } = {},
): ErrorScript {
  const model = opts.model ?? "gemini-2.5-pro";
  const quotaId =
    opts.daily === true
      ? "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
      : "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
  const metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests";
  return googleError(
    429,
    "RESOURCE_EXHAUSTED",
    `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: ${metric}, limit: 10, model: ${model}\nPlease retry in ${retryDelaySeconds}s.`,
    [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          { quotaMetric: metric, quotaId, quotaDimensions: { location: "global", model }, quotaValue: "10" },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [
          {
            description: "Learn more about Gemini API quotas",
            url: "https://ai.google.dev/gemini-api/docs/rate-limits",
          },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryDelaySeconds}s` },
    ],
  );
}

export function unavailable(): ErrorScript {
  return googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
}

export function internal(): ErrorScript {
  return googleError(
    500,
    "INTERNAL",
    "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  );
}

/** Context overflow, in Google's wording (protocol.md F.9). */
export function promptTooLong(inputTokens: number, maxTokens: number): ErrorScript {
  return googleError(
    400,
    "INVALID_ARGUMENT",
    `The input token count (${inputTokens}) exceeds the maximum number of tokens allowed (${maxTokens}).`,
  );
}

/** A web page Google Search found: Google reports a redirect link and, often, the domain as title. */
export interface FakeSearchSource {
  uri: string;
  title: string;
}

export interface FakeGrounding {
  /** `webSearchQueries`. */
  queries: string[];
  /** `groundingChunks[].web`. */
  sources: readonly FakeSearchSource[];
  /** Pieces of the answer text, each backed by `sources` indexes (`groundingSupports`). */
  supports?: readonly { text: string; sources: number[] }[];
  /** Text chunks (default 1). */
  parts?: number;
  /** A thought summary chunk first. */
  thought?: string;
}

export const FAKE_SEARCH_SOURCES: readonly FakeSearchSource[] = [
  {
    uri: "https://vertexaisearch.cloud.google.com/grounding-api-redirect/fake-result-one",
    title: "example.com",
  },
  {
    uri: "https://vertexaisearch.cloud.google.com/grounding-api-redirect/fake-result-two",
    title: "example.org",
  },
];
export const FAKE_SEARCH_FACTS = [
  "The fake search found a first fact.",
  "A second fact comes from two pages — ünïcödé included.",
] as const;

/**
 * A grounded answer as `streamGenerateContent` sends it with Google Search on: the text over
 * `parts` chunks, `groundingMetadata` on the last one (with the finish reason), segments as UTF-8
 * byte offsets (a 0 start omitted, as proto3 JSON does), and the search's prompt tokens in
 * `toolUsePromptTokenCount`.
 */
export function groundedAnswer(text: string, grounding: FakeGrounding): GeminiChunkSpec[] {
  const head = grounding.thought === undefined ? [] : thinkingThenText(grounding.thought, "").slice(0, 1);
  const chunks = [...head, ...textTail(text, { parts: grounding.parts ?? 1 }, 0)];
  const last = chunks[chunks.length - 1];
  const candidate = last?.candidates?.[0];
  if (last === undefined || candidate === undefined) return chunks;
  const supports = (grounding.supports ?? []).map((support) => {
    const at = text.indexOf(support.text);
    if (at === -1) throw new Error(`groundedAnswer: support text not in the answer: ${support.text}`);
    const startIndex = Buffer.byteLength(text.slice(0, at), "utf8");
    const endIndex = startIndex + Buffer.byteLength(support.text, "utf8");
    const segment: Record<string, unknown> = { endIndex, text: support.text };
    if (startIndex > 0) segment.startIndex = startIndex;
    return { segment, groundingChunkIndices: support.sources };
  });
  candidate.groundingMetadata = {
    searchEntryPoint: {
      renderedContent: `<style>.container{display:flex}</style><div class="container">${grounding.queries
        .map(
          (q) => `<a class="chip" href="https://www.google.com/search?q=${encodeURIComponent(q)}">${q}</a>`,
        )
        .join("")}</div>`,
    },
    groundingChunks: grounding.sources.map((web) => ({ web: { ...web } })),
    groundingSupports: supports,
    webSearchQueries: [...grounding.queries],
  };
  last.usageMetadata = { ...last.usageMetadata, toolUsePromptTokenCount: 120 };
  return chunks;
}
