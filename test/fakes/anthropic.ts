/**
 * A fake Anthropic Messages API on 127.0.0.1 (ephemeral port) for relay tests.
 *
 * It reproduces the wire format (protocol.md B.2–B.4) and the strictness the gateway must cope
 * with: credential check (401 `authentication_error`), `anthropic-version` required, `model`,
 * `max_tokens`, `messages` required, and the tool pairing rule (A.3) with Anthropic's exact
 * wording. Answers are scripted FIFO with `enqueue`; builders below make the usual ones (text,
 * thinking + signature, tool use with split input, parallel tools, pings, in-band error, cut,
 * stall, HTTP errors, first-byte delay). Every delay is clamped by `maxDelayMs`, every stall by
 * `maxStallMs`, so a test can never hang on the fake. The fake shares no code with the gateway.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { fakeId, listenLocal, splitPieces, writeChunk } from "./http-stream.js";

export { splitPieces } from "./http-stream.js";

// ---------------------------------------------------------------------------------------------
// Scripts

export interface FakeSseEvent {
  event: string;
  data: Record<string, unknown>;
}

export type FakeStep =
  | { kind: "event"; event: FakeSseEvent }
  /** Bytes written as they are (malformed chunks). */
  | { kind: "raw"; text: string }
  | { kind: "delay"; ms: number };

/** After the steps: end the body cleanly, destroy the socket, or hold the connection open. */
export type FakeStreamEnd = "end" | "cut" | "stall";

export interface FakeStreamScript {
  kind: "stream";
  steps: FakeStep[];
  end: FakeStreamEnd;
  firstByteDelayMs?: number;
  headers?: Record<string, string>;
}

export interface FakeHttpErrorScript {
  kind: "http_error";
  status: number;
  body: string;
  headers?: Record<string, string>;
  firstByteDelayMs?: number;
}

export type FakeScript = FakeStreamScript | FakeHttpErrorScript;

/** `message_start.message.model` with this value is replaced by the request's `model`. */
export const ECHO_MODEL = "$request.model";

export type FakeBlock =
  | { type: "text"; text: string; chunks?: number }
  | { type: "thinking"; thinking: string; signature: string; chunks?: number }
  | { type: "redacted_thinking"; data: string }
  | { type: "tool_use"; id?: string; name: string; input: Record<string, unknown>; pieces?: number };

export interface FakeReplyOptions {
  stopReason?: string;
  inputTokens?: number;
  outputTokens?: number;
  messageId?: string;
}

function ev(event: string, data: Record<string, unknown>): FakeStep {
  return { kind: "event", event: { event, data: { type: event, ...data } } };
}

function blockSteps(block: FakeBlock, index: number): FakeStep[] {
  const delta = (d: Record<string, unknown>) => ev("content_block_delta", { index, delta: d });
  switch (block.type) {
    case "text":
      return [
        ev("content_block_start", { index, content_block: { type: "text", text: "" } }),
        ...splitPieces(block.text, block.chunks ?? 2).map((text) => delta({ type: "text_delta", text })),
        ev("content_block_stop", { index }),
      ];
    case "thinking":
      return [
        ev("content_block_start", {
          index,
          content_block: { type: "thinking", thinking: "", signature: "" },
        }),
        ...splitPieces(block.thinking, block.chunks ?? 2).map((thinking) =>
          delta({ type: "thinking_delta", thinking }),
        ),
        delta({ type: "signature_delta", signature: block.signature }),
        ev("content_block_stop", { index }),
      ];
    case "redacted_thinking":
      return [
        ev("content_block_start", { index, content_block: { type: "redacted_thinking", data: block.data } }),
        ev("content_block_stop", { index }),
      ];
    case "tool_use": {
      const id = block.id ?? fakeId("toolu_01");
      return [
        ev("content_block_start", {
          index,
          content_block: { type: "tool_use", id, name: block.name, input: {} },
        }),
        // The real API often opens with an empty piece (protocol.md B.4).
        delta({ type: "input_json_delta", partial_json: "" }),
        ...splitPieces(JSON.stringify(block.input), block.pieces ?? 3).map((partial_json) =>
          delta({ type: "input_json_delta", partial_json }),
        ),
        ev("content_block_stop", { index }),
      ];
    }
    default: {
      const unknown: never = block;
      throw new Error(`unknown fake block ${JSON.stringify(unknown)}`);
    }
  }
}

/** A complete streamed message made of `blocks`, in order. */
export function reply(blocks: FakeBlock[], options: FakeReplyOptions = {}): FakeStreamScript {
  const inputTokens = options.inputTokens ?? 25;
  const chars = blocks.reduce((n, b) => n + JSON.stringify(b).length, 0);
  const outputTokens = options.outputTokens ?? Math.max(1, Math.ceil(chars / 4));
  const stopReason =
    options.stopReason ?? (blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
  const usage = { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const steps: FakeStep[] = [
    ev("message_start", {
      message: {
        id: options.messageId ?? fakeId("msg_01"),
        type: "message",
        role: "assistant",
        model: ECHO_MODEL,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
    ...blocks.flatMap((block, index) => blockSteps(block, index)),
    ev("message_delta", {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { ...usage, output_tokens: outputTokens },
    }),
    ev("message_stop", {}),
  ];
  return { kind: "stream", steps, end: "end" };
}

export function textReply(
  text: string,
  options: FakeReplyOptions & { chunks?: number } = {},
): FakeStreamScript {
  const block: FakeBlock = { type: "text", text };
  if (options.chunks !== undefined) block.chunks = options.chunks;
  return reply([block], options);
}

export function thinkingReply(
  thinking: string,
  signature: string,
  text: string,
  options: FakeReplyOptions = {},
): FakeStreamScript {
  return reply(
    [
      { type: "thinking", thinking, signature },
      { type: "text", text },
    ],
    options,
  );
}

export interface FakeToolCall {
  name: string;
  input: Record<string, unknown>;
  id?: string;
  pieces?: number;
}

function toolBlock(call: FakeToolCall): FakeBlock {
  const block: FakeBlock = { type: "tool_use", name: call.name, input: call.input };
  if (call.id !== undefined) block.id = call.id;
  if (call.pieces !== undefined) block.pieces = call.pieces;
  return block;
}

/** One tool call whose input JSON arrives in `pieces` `input_json_delta`s (default 3). */
export function toolUseReply(
  call: FakeToolCall,
  options: FakeReplyOptions & { preamble?: string } = {},
): FakeStreamScript {
  const blocks: FakeBlock[] =
    options.preamble === undefined ? [] : [{ type: "text", text: options.preamble }];
  return reply([...blocks, toolBlock(call)], options);
}

/** Several tool calls in one turn (parallel tool use). */
export function parallelToolUseReply(
  calls: FakeToolCall[],
  options: FakeReplyOptions = {},
): FakeStreamScript {
  return reply(calls.map(toolBlock), options);
}

function countEvents(steps: FakeStep[], n: number): number {
  let seen = 0;
  for (let i = 0; i < steps.length; i++) {
    if (steps[i]?.kind === "event" && ++seen === n) return i + 1;
  }
  return steps.length;
}

/** Keep only the first `events` events (delays and raw chunks before them stay). */
function firstEvents(script: FakeStreamScript, events: number): FakeStep[] {
  return script.steps.slice(0, countEvents(script.steps, events));
}

/** A `ping` after every `every` events (the real API interleaves them anywhere, B.2). */
export function withPings(script: FakeStreamScript, every = 1): FakeStreamScript {
  const steps: FakeStep[] = [];
  let seen = 0;
  for (const step of script.steps) {
    steps.push(step);
    if (step.kind === "event" && step.event.event !== "message_stop" && ++seen % every === 0) {
      steps.push(ev("ping", {}));
    }
  }
  return { ...script, steps };
}

/** After `events` events, an in-band `event: error` replaces the rest (protocol.md B.6). */
export function withInBandError(
  script: FakeStreamScript,
  events: number,
  type = "overloaded_error",
  message = "Overloaded",
): FakeStreamScript {
  const error = ev("error", { error: { type, message }, request_id: fakeId("req_011") });
  return { ...script, steps: [...firstEvents(script, events), error], end: "end" };
}

/** After `events` events the socket is destroyed (a TCP reset mid-body). */
export function cutAfter(script: FakeStreamScript, events: number): FakeStreamScript {
  return { ...script, steps: firstEvents(script, events), end: "cut" };
}

/** After `events` events the body ends cleanly, without `message_stop`. */
export function endAfter(script: FakeStreamScript, events: number): FakeStreamScript {
  return { ...script, steps: firstEvents(script, events), end: "end" };
}

/** After `events` events nothing more is sent; the connection stays open (until `maxStallMs`). */
export function stallAfter(script: FakeStreamScript, events: number): FakeStreamScript {
  return { ...script, steps: firstEvents(script, events), end: "stall" };
}

/** After `events` events, a chunk whose data is not JSON. */
export function malformedAfter(script: FakeStreamScript, events: number): FakeStreamScript {
  const raw: FakeStep = {
    kind: "raw",
    text: 'event: content_block_delta\ndata: {"type":"content_block_delta",\n\n',
  };
  return { ...script, steps: [...firstEvents(script, events), raw], end: "end" };
}

/** A pause of `ms` between consecutive events. */
export function withEventDelay(script: FakeStreamScript, ms: number): FakeStreamScript {
  return { ...script, steps: script.steps.flatMap((s, i) => (i === 0 ? [s] : [{ kind: "delay", ms }, s])) };
}

/** Wait `ms` before the status line and headers. */
export function withFirstByteDelay<S extends FakeScript>(script: S, ms: number): S {
  return { ...script, firstByteDelayMs: ms };
}

/** An HTTP error with Anthropic's body shape (protocol.md C.1). */
export function httpError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): FakeHttpErrorScript {
  const body = JSON.stringify({ type: "error", error: { type, message }, request_id: fakeId("req_011") });
  return { kind: "http_error", status, body, headers };
}

export function rateLimited(retryAfterSeconds = 1): FakeHttpErrorScript {
  return httpError(
    429,
    "rate_limit_error",
    "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later.",
    { "retry-after": String(retryAfterSeconds) },
  );
}

export function overloaded(): FakeHttpErrorScript {
  return httpError(529, "overloaded_error", "Overloaded");
}

export function apiError(): FakeHttpErrorScript {
  return httpError(500, "api_error", "Internal server error");
}

/** Context overflow in the exact wording Claude Code matches on (protocol.md C.4). */
export function promptTooLong(tokens = 210118, max = 200000): FakeHttpErrorScript {
  return httpError(400, "invalid_request_error", `prompt is too long: ${tokens} tokens > ${max} maximum`);
}

// ---------------------------------------------------------------------------------------------
// The server

export interface FakeAnthropicOptions {
  /** Accepted keys (x-api-key or Bearer). Absent: any non-empty key is accepted. */
  validKeys?: readonly string[];
  /** Upper bound of every scripted delay (default 5000 ms). */
  maxDelayMs?: number;
  /** A stalled stream is destroyed after this long (default 30000 ms). */
  maxStallMs?: number;
  /** Answer when the queue is empty (default: a short text reply). */
  defaultScript?: () => FakeScript;
  /** `input_tokens` for count_tokens (default: a chars/4 estimate). */
  countTokens?: (body: Record<string, unknown>) => number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, undefined when it was not JSON. */
  body: unknown;
  /** The credential presented (x-api-key, else the Bearer token). */
  key: string | undefined;
}

export interface FakeAnthropic {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  enqueue(...scripts: FakeScript[]): void;
  /** Scripts not yet consumed. */
  pending(): number;
  /** Requests seen in total, or presenting `key`. */
  hits(key?: string): number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

const STATUS_FOR_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function credential(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = header(headers, "x-api-key");
  if (apiKey !== undefined && apiKey !== "") return apiKey;
  const auth = header(headers, "authorization");
  const match = auth === undefined ? null : /^Bearer\s+(.+)$/i.exec(auth);
  return match?.[1];
}

function blocksOf(message: unknown): Json[] {
  if (!isRecord(message) || !Array.isArray(message.content)) return [];
  return message.content.filter(isRecord);
}

function idsOf(blocks: Json[], type: string, field: string): string[] {
  return blocks.filter((b) => b.type === type && typeof b[field] === "string").map((b) => String(b[field]));
}

/** The tool pairing rule of protocol.md A.3, with the real API's wording. */
function checkToolPairing(messages: unknown[]): string | undefined {
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    const role = isRecord(message) ? message.role : undefined;
    const blocks = blocksOf(message);
    if (role === "assistant") {
      const ids = idsOf(blocks, "tool_use", "id");
      if (ids.length === 0) continue;
      const next = messages[i + 1];
      const answered = new Set(
        isRecord(next) && next.role === "user" ? idsOf(blocksOf(next), "tool_result", "tool_use_id") : [],
      );
      const missing = ids.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    } else if (role === "user") {
      const previous = messages[i - 1];
      const asked = new Set(
        isRecord(previous) && previous.role === "assistant"
          ? idsOf(blocksOf(previous), "tool_use", "id")
          : [],
      );
      for (let k = 0; k < blocks.length; k++) {
        const block = blocks[k];
        if (block?.type !== "tool_result" || asked.has(String(block.tool_use_id))) continue;
        return `messages.${i}.content.${k}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
  }
  return undefined;
}

function checkBody(body: Json, requireMaxTokens: boolean): string | undefined {
  if (typeof body.model !== "string" || body.model === "") return "model: Field required";
  if (requireMaxTokens && typeof body.max_tokens !== "number") return "max_tokens: Field required";
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (body.messages.length === 0) return "messages: at least one message is required";
  return checkToolPairing(body.messages);
}

/** The non-streaming Message a stream script adds up to (what the real API returns for stream:false). */
function accumulate(events: FakeSseEvent[]): Json {
  const start = events.find((e) => e.event === "message_start")?.data.message;
  const message: Json = isRecord(start) ? { ...start } : {};
  const content: Json[] = [];
  const json = new Map<number, string>();
  for (const { data } of events) {
    const index = typeof data.index === "number" ? data.index : -1;
    const block = content[index];
    if (data.type === "content_block_start" && isRecord(data.content_block)) {
      content[index] = structuredClone(data.content_block);
    } else if (data.type === "content_block_delta" && isRecord(data.delta) && block !== undefined) {
      const d = data.delta;
      if (d.type === "text_delta") block.text = String(block.text ?? "") + String(d.text);
      else if (d.type === "thinking_delta")
        block.thinking = String(block.thinking ?? "") + String(d.thinking);
      else if (d.type === "signature_delta") block.signature = d.signature;
      else if (d.type === "input_json_delta")
        json.set(index, (json.get(index) ?? "") + String(d.partial_json));
    } else if (data.type === "content_block_stop" && block !== undefined && json.has(index)) {
      const text = json.get(index) ?? "";
      if (text !== "") block.input = JSON.parse(text);
    } else if (data.type === "message_delta" && isRecord(data.delta)) {
      message.stop_reason = data.delta.stop_reason;
      message.stop_sequence = data.delta.stop_sequence;
      if (isRecord(data.usage))
        message.usage = { ...(isRecord(message.usage) ? message.usage : {}), ...data.usage };
    }
  }
  message.content = content;
  return message;
}

/** Start the fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const maxStallMs = options.maxStallMs ?? 30_000;
  const queue: FakeScript[] = [];
  const requests: RecordedRequest[] = [];
  const hitsByKey = new Map<string, number>();
  const closing = new AbortController();

  /** Resolves after `ms` (clamped), or at once when the request or the fake is done. */
  function sleep(ms: number, signal: AbortSignal, cap = maxDelayMs): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(Math.max(0, ms), cap));
      signal.addEventListener("abort", done, { once: true });
    });
  }

  function sendJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "request-id": fakeId("req_011"),
      ...headers,
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, status: number, type: string, message: string) {
    sendJson(res, status, { type: "error", error: { type, message }, request_id: fakeId("req_011") });
  }

  async function playStream(
    res: ServerResponse,
    script: FakeStreamScript,
    model: string,
    signal: AbortSignal,
  ) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "request-id": fakeId("req_011"),
      ...script.headers,
    });
    res.flushHeaders();
    for (const step of script.steps) {
      if (signal.aborted || res.destroyed) return;
      if (step.kind === "delay") {
        await sleep(step.ms, signal);
        continue;
      }
      if (step.kind === "raw") {
        await writeChunk(res, step.text, signal);
        continue;
      }
      let data = step.event.data;
      if (data.type === "message_start" && isRecord(data.message) && data.message.model === ECHO_MODEL) {
        data = { ...data, message: { ...data.message, model } };
      }
      // Wait for each frame to reach the socket, so a scripted cut never drops what was "sent".
      await writeChunk(res, `event: ${step.event.event}\ndata: ${JSON.stringify(data)}\n\n`, signal);
    }
    await finish(res, script.end, signal);
  }

  async function finish(res: ServerResponse, end: FakeStreamEnd, signal: AbortSignal) {
    if (end === "end") res.end();
    else if (end === "cut") res.destroy();
    else {
      await sleep(maxStallMs, signal, maxStallMs);
      res.destroy();
    }
  }

  async function playJson(res: ServerResponse, script: FakeStreamScript, model: string, signal: AbortSignal) {
    const events = script.steps.flatMap((s) => (s.kind === "event" ? [s.event] : []));
    const error = events.find((e) => e.event === "error");
    if (error !== undefined && isRecord(error.data.error)) {
      const type = String(error.data.error.type);
      return sendJson(res, STATUS_FOR_TYPE[type] ?? 500, error.data);
    }
    const complete = events.some((e) => e.event === "message_stop");
    if (script.end !== "end" || !complete)
      return finish(res, script.end === "stall" ? "stall" : "cut", signal);
    const message = accumulate(events);
    if (message.model === ECHO_MODEL) message.model = model;
    sendJson(res, 200, message, script.headers);
  }

  async function handleMessages(res: ServerResponse, body: Json, signal: AbortSignal) {
    const invalid = checkBody(body, true);
    if (invalid !== undefined) return sendError(res, 400, "invalid_request_error", invalid);
    const script = queue.shift() ?? options.defaultScript?.() ?? textReply("Hello from the fake Anthropic.");
    await sleep(script.firstByteDelayMs ?? 0, signal);
    if (signal.aborted) return;
    if (script.kind === "http_error") return sendJson(res, script.status, script.body, script.headers);
    const model = String(body.model);
    if (body.stream === true) await playStream(res, script, model, signal);
    else await playJson(res, script, model, signal);
  }

  function handleCountTokens(res: ServerResponse, body: Json) {
    const invalid = checkBody(body, false);
    if (invalid !== undefined) return sendError(res, 400, "invalid_request_error", invalid);
    const estimate = Math.max(
      1,
      Math.ceil(JSON.stringify([body.system ?? "", body.messages, body.tools ?? []]).length / 4),
    );
    sendJson(res, 200, { input_tokens: options.countTokens?.(body) ?? estimate });
  }

  async function readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const requestDone = new AbortController();
    res.on("close", () => requestDone.abort());
    const signal = AbortSignal.any([requestDone.signal, closing.signal]);
    const [path = "", query = ""] = (req.url ?? "").split("?", 2);
    const rawBody = await readBody(req);
    let body: unknown;
    try {
      body = rawBody === undefined || rawBody === "" ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const key = credential(req.headers);
    const known = req.method === "POST" && (path === "/v1/messages" || path === "/v1/messages/count_tokens");
    if (!known) return sendError(res, 404, "not_found_error", "Not Found");
    requests.push({
      method: req.method ?? "",
      path,
      query,
      headers: req.headers,
      rawBody: rawBody ?? "",
      body,
      key,
    });
    hitsByKey.set(key ?? "", (hitsByKey.get(key ?? "") ?? 0) + 1);

    if (rawBody === undefined) {
      return sendError(res, 413, "request_too_large", "Request exceeds the maximum allowed number of bytes.");
    }
    if (key === undefined) return sendError(res, 401, "authentication_error", "x-api-key header is required");
    if (options.validKeys !== undefined && !options.validKeys.includes(key)) {
      const bearer = header(req.headers, "x-api-key") === undefined;
      return sendError(
        res,
        401,
        "authentication_error",
        bearer ? "Invalid bearer token" : "invalid x-api-key",
      );
    }
    if (header(req.headers, "anthropic-version") === undefined) {
      return sendError(res, 400, "invalid_request_error", "anthropic-version: header is required");
    }
    if (!isRecord(body)) {
      return sendError(
        res,
        400,
        "invalid_request_error",
        "There was an error parsing the body: not a JSON object",
      );
    }
    if (path === "/v1/messages") await handleMessages(res, body, signal);
    else handleCountTokens(res, body);
  }

  const server = await listenLocal(handle, closing);
  return {
    url: server.url,
    requests,
    enqueue: (...scripts) => {
      queue.push(...scripts);
    },
    pending: () => queue.length,
    hits: (key) => (key === undefined ? requests.length : (hitsByKey.get(key) ?? 0)),
    close: server.close,
  };
}
