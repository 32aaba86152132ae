/**
 * A fake OpenAI Chat Completions API on 127.0.0.1 (ephemeral port) for adapter and gateway tests.
 *
 * It reproduces the wire format (protocol.md G.2: `data: <chunk>` frames, usage in a final
 * `choices: []` chunk when `stream_options.include_usage`, `data: [DONE]`) and OpenAI's strictness,
 * with OpenAI's wording: valid roles and content part types, `arguments` as a string, tool-call ids
 * ≤ 40 chars, every assistant `tool_calls[].id` answered by a `role:"tool"` message right after it,
 * `tool_choice` / `parallel_tool_calls` only with `tools`, `stream_options` only with `stream`, and
 * Bearer keys. Answers are scripted FIFO with `enqueue`; builders below make the usual ones (text,
 * reasoning then text, tool calls split in fragments, interleaved parallel calls, Gemini-compat
 * whole calls without index, usage, with/without `[DONE]`, HTTP errors, mid-stream error, cut,
 * stall, reset, first-byte delay). Every delay is clamped by `maxDelayMs`, every stall by
 * `maxStallMs`, so a test can never hang on the fake. The fake shares no code with the gateway.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import {
  fakeId,
  listenLocal,
  readBodyCapped,
  sendJson,
  sleep,
  splitPieces,
  writeChunk,
} from "./http-stream.js";

export { splitPieces } from "./http-stream.js";

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Scripts

export type FakeOpenAIStep =
  /** One `data: <json>` frame. */
  | { kind: "chunk"; data: Json }
  /** Bytes written as they are (malformed chunks, comments). */
  | { kind: "raw"; text: string }
  | { kind: "delay"; ms: number };

/** After the steps: end the body, destroy the socket (reset), or hold the connection open. */
export type FakeOpenAIStreamEnd = "end" | "reset" | "stall";

export interface FakeOpenAIStream {
  kind: "stream";
  steps: FakeOpenAIStep[];
  /** Send `data: [DONE]` after the steps (only when `end` is "end"). */
  done: boolean;
  end: FakeOpenAIStreamEnd;
  firstByteDelayMs?: number;
  headers?: Record<string, string>;
}

export interface FakeOpenAIHttpError {
  kind: "http_error";
  status: number;
  body: string;
  headers?: Record<string, string>;
  firstByteDelayMs?: number;
}

/** The socket is destroyed before any answer (a TCP reset). */
export interface FakeOpenAIReset {
  kind: "reset";
  firstByteDelayMs?: number;
}

export type FakeOpenAIScript = FakeOpenAIStream | FakeOpenAIHttpError | FakeOpenAIReset;

/** `model` with this value is replaced by the request's `model`. */
export const ECHO_MODEL = "$request.model";

export interface FakeUsage {
  prompt: number;
  completion: number;
  cached?: number;
  reasoning?: number;
}

export interface FakeStreamOptions {
  finishReason?: string | null;
  /** The final usage chunk (sent only when the request asked for it); `false`: never. */
  usage?: FakeUsage | false;
  /** Default true. */
  done?: boolean;
}

/** A `chat.completion.chunk` for choice 0. */
export function chunk(delta: Json, finishReason: string | null = null): FakeOpenAIStep {
  return {
    kind: "chunk",
    data: {
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      created: 1_760_000_000,
      model: ECHO_MODEL,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    },
  };
}

/** The final usage chunk (`choices: []`, protocol.md G.2). Marked so the fake drops it when not asked. */
export function usageChunk(usage: FakeUsage): FakeOpenAIStep {
  const data: Json = {
    id: "chatcmpl-fake",
    object: "chat.completion.chunk",
    created: 1_760_000_000,
    model: ECHO_MODEL,
    choices: [],
    usage: {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
      prompt_tokens_details: { cached_tokens: usage.cached ?? 0 },
      completion_tokens_details: { reasoning_tokens: usage.reasoning ?? 0 },
    },
  };
  return { kind: "chunk", data };
}

function finishSteps(defaultReason: string, options: FakeStreamOptions): FakeOpenAIStep[] {
  const steps: FakeOpenAIStep[] = [];
  const reason = options.finishReason === undefined ? defaultReason : options.finishReason;
  if (reason !== null) steps.push(chunk({}, reason));
  const usage = options.usage ?? { prompt: 20, completion: 10 };
  if (usage !== false) steps.push(usageChunk(usage));
  return steps;
}

function stream(steps: FakeOpenAIStep[], options: FakeStreamOptions): FakeOpenAIStream {
  return { kind: "stream", steps, done: options.done ?? true, end: "end" };
}

/** Text in `pieces` (a string is split in 3). */
export function textStream(text: string | string[], options: FakeStreamOptions = {}): FakeOpenAIStream {
  const pieces = typeof text === "string" ? splitPieces(text, 3) : text;
  return stream(
    [
      chunk({ role: "assistant", content: "" }),
      ...pieces.map((content) => chunk({ content })),
      ...finishSteps("stop", options),
    ],
    options,
  );
}

/** Reasoning (DeepSeek `reasoning_content`, or OpenRouter/Ollama `reasoning`) then text. */
export function reasoningStream(
  reasoning: string,
  text: string,
  options: FakeStreamOptions & { field?: "reasoning_content" | "reasoning" } = {},
): FakeOpenAIStream {
  const field = options.field ?? "reasoning_content";
  return stream(
    [
      chunk({ role: "assistant", content: null }),
      ...splitPieces(reasoning, 2).map((piece) => chunk({ [field]: piece })),
      ...splitPieces(text, 2).map((content) => chunk({ content })),
      ...finishSteps("stop", options),
    ],
    options,
  );
}

export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown> | string;
  id?: string;
  /** Gemini OpenAI-compat `extra_content.google.thought_signature`. */
  signature?: string;
}

export interface FakeToolStreamOptions extends FakeStreamOptions {
  /** Argument fragments per call (default 3). */
  fragments?: number;
  /** Text before the calls. */
  preamble?: string;
  /** Round-robin the calls' fragments (parallel calls interleaving). */
  interleave?: boolean;
  /** Gemini OpenAI-compat style: each call whole in one chunk, no `index`. */
  geminiCompat?: boolean;
}

function argumentsText(call: FakeToolCall): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
}

function callHead(call: FakeToolCall, index: number | undefined, args: string): Json {
  const head: Json = {
    id: call.id ?? fakeId("call_"),
    type: "function",
    function: { name: call.name, arguments: args },
  };
  if (index !== undefined) head.index = index;
  if (call.signature !== undefined) head.extra_content = { google: { thought_signature: call.signature } };
  return head;
}

/** Tool calls with `index`, arguments split in fragments (the first fragment carries id + name). */
export function toolCallStream(calls: FakeToolCall[], options: FakeToolStreamOptions = {}): FakeOpenAIStream {
  const steps: FakeOpenAIStep[] = [
    chunk({ role: "assistant", content: options.preamble === undefined ? null : "" }),
  ];
  if (options.preamble !== undefined) steps.push(chunk({ content: options.preamble }));
  if (options.geminiCompat === true) {
    for (const call of calls)
      steps.push(chunk({ tool_calls: [callHead(call, undefined, argumentsText(call))] }));
    return stream([...steps, ...finishSteps("stop", options)], options);
  }
  const perCall = calls.map((call, index) => {
    const pieces = splitPieces(argumentsText(call), options.fragments ?? 3);
    return [
      chunk({ tool_calls: [callHead(call, index, "")] }),
      ...pieces.map((piece) => chunk({ tool_calls: [{ index, function: { arguments: piece } }] })),
    ];
  });
  if (options.interleave === true) {
    const longest = Math.max(0, ...perCall.map((s) => s.length));
    for (let i = 0; i < longest; i++)
      for (const s of perCall) if (s[i] !== undefined) steps.push(s[i] as FakeOpenAIStep);
  } else {
    for (const s of perCall) steps.push(...s);
  }
  return stream([...steps, ...finishSteps("tool_calls", options)], options);
}

function countChunks(steps: FakeOpenAIStep[], n: number): number {
  let seen = 0;
  for (let i = 0; i < steps.length; i++) if (steps[i]?.kind === "chunk" && ++seen === n) return i + 1;
  return steps.length;
}

/** After `chunks` chunks the body ends cleanly: no finish_reason, no `[DONE]`. */
export function endAfter(script: FakeOpenAIStream, chunks: number): FakeOpenAIStream {
  return {
    ...script,
    steps: script.steps.slice(0, countChunks(script.steps, chunks)),
    done: false,
    end: "end",
  };
}

/** After `chunks` chunks the socket is destroyed (a TCP reset mid-body). */
export function resetAfter(script: FakeOpenAIStream, chunks: number): FakeOpenAIStream {
  return { ...script, steps: script.steps.slice(0, countChunks(script.steps, chunks)), end: "reset" };
}

/** After `chunks` chunks nothing more is sent; the connection stays open (until `maxStallMs`). */
export function stallAfter(script: FakeOpenAIStream, chunks: number): FakeOpenAIStream {
  return { ...script, steps: script.steps.slice(0, countChunks(script.steps, chunks)), end: "stall" };
}

/** After `chunks` chunks, `data: {"error":{...}}` and the end of the body (OpenRouter style). */
export function errorAfter(
  script: FakeOpenAIStream,
  chunks: number,
  message = "Upstream provider error",
): FakeOpenAIStream {
  const error: FakeOpenAIStep = {
    kind: "chunk",
    data: { error: { message, type: "server_error", code: "server_error" } },
  };
  return {
    ...script,
    steps: [...script.steps.slice(0, countChunks(script.steps, chunks)), error],
    done: false,
  };
}

/** After `chunks` chunks, a frame whose data is not JSON. */
export function malformedAfter(script: FakeOpenAIStream, chunks: number): FakeOpenAIStream {
  const raw: FakeOpenAIStep = { kind: "raw", text: 'data: {"id":"chatcmpl-fake","choices":[{\n\n' };
  return { ...script, steps: [...script.steps.slice(0, countChunks(script.steps, chunks)), raw] };
}

export function withoutDone(script: FakeOpenAIStream): FakeOpenAIStream {
  return { ...script, done: false };
}

/** A pause of `ms` between consecutive frames. */
export function withChunkDelay(script: FakeOpenAIStream, ms: number): FakeOpenAIStream {
  return {
    ...script,
    steps: script.steps.flatMap((s, i) => (i === 0 ? [s] : [{ kind: "delay", ms } as const, s])),
  };
}

/** Wait `ms` before the status line and headers. */
export function withFirstByteDelay<S extends FakeOpenAIScript>(script: S, ms: number): S {
  return { ...script, firstByteDelayMs: ms };
}

export function reset(): FakeOpenAIReset {
  return { kind: "reset" };
}

/** An HTTP error with OpenAI's body shape. */
export function httpError(
  status: number,
  message: string,
  fields: {
    type?: string;
    code?: string | null;
    param?: string | null;
    headers?: Record<string, string>;
  } = {},
): FakeOpenAIHttpError {
  const error = {
    message,
    type: fields.type ?? "invalid_request_error",
    param: fields.param ?? null,
    code: fields.code ?? null,
  };
  return { kind: "http_error", status, body: JSON.stringify({ error }), headers: fields.headers ?? {} };
}

export function rateLimited(retryAfterSeconds = 1): FakeOpenAIHttpError {
  return httpError(429, "Rate limit reached for requests. Please try again in 1s.", {
    type: "requests",
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(retryAfterSeconds) },
  });
}

export function insufficientQuota(): FakeOpenAIHttpError {
  return httpError(429, "You exceeded your current quota, please check your plan and billing details.", {
    type: "insufficient_quota",
    code: "insufficient_quota",
  });
}

export function contextLengthExceeded(max = 128000, got = 130000): FakeOpenAIHttpError {
  return httpError(
    400,
    `This model's maximum context length is ${max} tokens. However, your messages resulted in ${got} tokens. Please reduce the length of the messages.`,
    { param: "messages", code: "context_length_exceeded" },
  );
}

export function serverError(status = 500): FakeOpenAIHttpError {
  return httpError(status, "The server had an error while processing your request. Sorry about that!", {
    type: "server_error",
  });
}

// ---------------------------------------------------------------------------------------------
// Strictness (OpenAI's rules and wording)

const ROLES = ["system", "developer", "user", "assistant", "tool", "function"];
const USER_PART_TYPES = ["text", "image_url", "input_audio", "file"];
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_TOOL_CALL_ID = 40;

export interface FakeOpenAIRules {
  /** Answer 400 on `stream_options` (servers that do not know the field). */
  rejectStreamOptions?: boolean;
  /** Answer 400 on `max_tokens` (OpenAI reasoning models). */
  rejectMaxTokens?: boolean;
  /**
   * Completion-token limit per model: a larger `max_completion_tokens` / `max_tokens` gets
   * OpenAI's 400 "… is too large: N. This model supports at most L completion tokens …".
   */
  outputLimits?: Readonly<Record<string, number>>;
}

interface Invalid {
  message: string;
  param: string | null;
  code?: string;
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function checkContent(message: Json, i: number): Invalid | undefined {
  const content = message.content;
  if (message.role === "assistant" && (content === null || content === undefined)) {
    if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) return undefined;
    return {
      message: "Invalid value for 'content': expected a string, got null.",
      param: `messages.[${i}].content`,
    };
  }
  if (typeof content === "string") return undefined;
  if (!Array.isArray(content)) {
    return {
      message: `Invalid type for 'messages[${i}].content': expected one of a string or array of objects, but got ${typeName(content)} instead.`,
      param: `messages[${i}].content`,
    };
  }
  const allowed = message.role === "user" ? USER_PART_TYPES : ["text"];
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    const type = isRecord(part) ? part.type : undefined;
    if (typeof type !== "string" || !allowed.includes(type)) {
      return {
        message: `Invalid value: '${String(type)}'. Supported values are: ${allowed.map((t) => `'${t}'`).join(", ")}.`,
        param: `messages[${i}].content[${j}].type`,
      };
    }
  }
  return undefined;
}

function checkToolCalls(calls: unknown, i: number): Invalid | undefined {
  if (!Array.isArray(calls))
    return {
      message: `Invalid type for 'messages[${i}].tool_calls': expected an array.`,
      param: `messages[${i}].tool_calls`,
    };
  for (let k = 0; k < calls.length; k++) {
    const call: unknown = calls[k];
    const at = `messages[${i}].tool_calls[${k}]`;
    if (!isRecord(call) || !isRecord(call.function))
      return { message: `Missing required parameter: '${at}.function'.`, param: `${at}.function` };
    if (typeof call.id !== "string")
      return { message: `Missing required parameter: '${at}.id'.`, param: `${at}.id` };
    if (call.id.length > MAX_TOOL_CALL_ID) {
      return {
        message: `Invalid '${at}.id': string too long. Expected a string with maximum length ${MAX_TOOL_CALL_ID}, but got a string with length ${call.id.length} instead.`,
        param: `${at}.id`,
        code: "string_above_max_length",
      };
    }
    if (call.type !== "function")
      return {
        message: `Invalid value: '${String(call.type)}'. Supported values are: 'function'.`,
        param: `${at}.type`,
      };
    if (typeof call.function.name !== "string")
      return { message: `Missing required parameter: '${at}.function.name'.`, param: `${at}.function.name` };
    if (typeof call.function.arguments !== "string") {
      return {
        message: `Invalid type for '${at}.function.arguments': expected a string, but got ${typeName(call.function.arguments)} instead.`,
        param: `${at}.function.arguments`,
        code: "invalid_type",
      };
    }
  }
  return undefined;
}

/** Every assistant tool call answered by a tool message right after it; no stray tool message. */
function checkToolPairing(messages: Json[]): Invalid | undefined {
  let open: string[] = [];
  let openAt = -1;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Json;
    if (message.role === "tool") {
      const id = message.tool_call_id;
      if (typeof id !== "string")
        return {
          message: `Missing required parameter: 'messages[${i}].tool_call_id'.`,
          param: `messages[${i}].tool_call_id`,
        };
      if (openAt < 0 || !open.includes(id)) {
        return {
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          param: `messages.[${i}].role`,
        };
      }
      open = open.filter((x) => x !== id);
      continue;
    }
    if (open.length > 0) {
      return {
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${open.join(", ")}`,
        param: `messages.[${openAt}].role`,
      };
    }
    openAt = -1;
    if (message.role === "assistant" && Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
      open = message.tool_calls.filter(isRecord).map((c) => String(c.id));
      openAt = i;
    }
  }
  if (open.length > 0) {
    return {
      message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${open.join(", ")}`,
      param: `messages.[${openAt}].role`,
    };
  }
  return undefined;
}

function checkTools(body: Json): Invalid | undefined {
  const tools = body.tools;
  const hasTools = Array.isArray(tools) && tools.length > 0;
  if (body.tool_choice !== undefined && !hasTools) {
    return {
      message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      param: "tool_choice",
    };
  }
  if (body.parallel_tool_calls !== undefined && !hasTools) {
    return {
      message:
        "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
      param: "parallel_tool_calls",
    };
  }
  if (!Array.isArray(tools)) return undefined;
  for (let k = 0; k < tools.length; k++) {
    const tool: unknown = tools[k];
    if (!isRecord(tool) || tool.type !== "function" || !isRecord(tool.function)) {
      return {
        message: `Missing required parameter: 'tools[${k}].function'.`,
        param: `tools[${k}].function`,
      };
    }
    if (typeof tool.function.name !== "string" || !TOOL_NAME.test(tool.function.name)) {
      return {
        message: `Invalid 'tools[${k}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        param: `tools[${k}].function.name`,
      };
    }
    if (tool.function.parameters !== undefined && !isRecord(tool.function.parameters)) {
      return {
        message: `Invalid type for 'tools[${k}].function.parameters': expected an object.`,
        param: `tools[${k}].function.parameters`,
      };
    }
  }
  return undefined;
}

/** OpenAI's answer to more completion tokens than the model's limit (`param` names the field). */
function checkOutputLimit(body: Json, limits: FakeOpenAIRules["outputLimits"]): Invalid | undefined {
  const limit = limits?.[String(body.model)];
  const field = body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens";
  const asked = body[field];
  if (limit === undefined || typeof asked !== "number" || asked <= limit) return undefined;
  return {
    message: `${field} is too large: ${asked}. This model supports at most ${limit} completion tokens, whereas you provided ${asked}.`,
    param: field,
  };
}

/** OpenAI's checks on a chat completion request; undefined when the body is accepted. */
export function validateChatRequest(body: Json, rules: FakeOpenAIRules = {}): Invalid | undefined {
  if (typeof body.model !== "string" || body.model === "")
    return { message: "you must provide a model parameter", param: null };
  if (rules.rejectStreamOptions === true && body.stream_options !== undefined) {
    return { message: "Unrecognized request argument supplied: stream_options", param: null };
  }
  if (body.stream_options !== undefined && body.stream !== true) {
    return {
      message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      param: "stream_options",
    };
  }
  if (rules.rejectMaxTokens === true && body.max_tokens !== undefined) {
    return {
      message:
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      param: "max_tokens",
      code: "unsupported_parameter",
    };
  }
  const tooMany = checkOutputLimit(body, rules.outputLimits);
  if (tooMany !== undefined) return tooMany;
  const messages = body.messages;
  if (!Array.isArray(messages))
    return { message: "Missing required parameter: 'messages'.", param: "messages" };
  if (messages.length === 0) {
    return {
      message:
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      param: "messages",
      code: "empty_array",
    };
  }
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (!isRecord(message))
      return {
        message: `Invalid type for 'messages[${i}]': expected an object, but got ${typeName(message)} instead.`,
        param: `messages[${i}]`,
      };
    if (typeof message.role !== "string" || !ROLES.includes(message.role)) {
      return {
        message: `Invalid value: '${String(message.role)}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'function'.`,
        param: `messages[${i}].role`,
        code: "invalid_value",
      };
    }
    const content = checkContent(message, i);
    if (content !== undefined) return content;
    if (message.tool_calls !== undefined) {
      if (message.role !== "assistant")
        return {
          message: `Unrecognized parameter: 'messages[${i}].tool_calls'.`,
          param: `messages[${i}].tool_calls`,
        };
      const calls = checkToolCalls(message.tool_calls, i);
      if (calls !== undefined) return calls;
    }
  }
  return checkToolPairing(messages as Json[]) ?? checkTools(body);
}

// ---------------------------------------------------------------------------------------------
// The server

export interface FakeOpenAIOptions extends FakeOpenAIRules {
  /** Accepted Bearer keys. Absent: no key is required (like a local server). */
  validKeys?: readonly string[];
  /** Ids listed by GET /v1/models. */
  models?: readonly string[];
  /** Upper bound of every scripted delay (default 5000 ms). */
  maxDelayMs?: number;
  /** A stalled stream is destroyed after this long (default 30000 ms). */
  maxStallMs?: number;
  /** Answer when the queue is empty (default: a short text stream). */
  defaultScript?: () => FakeOpenAIScript;
}

export interface RecordedOpenAIRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, undefined when it was not JSON. */
  body: unknown;
  /** The Bearer token presented. */
  key: string | undefined;
}

export interface FakeOpenAI {
  /** Origin without a path, e.g. `http://127.0.0.1:40123` (`/v1/chat/completions` is appended). */
  readonly url: string;
  readonly requests: RecordedOpenAIRequest[];
  enqueue(...scripts: FakeOpenAIScript[]): void;
  /** Scripts not yet consumed. */
  pending(): number;
  /** Requests seen in total, or presenting `key`. */
  hits(key?: string): number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  const match = auth === undefined ? null : /^Bearer\s+(.+)$/i.exec(auth);
  return match?.[1];
}

function openaiError(res: ServerResponse, status: number, error: Invalid & { type?: string }): void {
  sendJson(res, status, {
    error: {
      message: error.message,
      type: error.type ?? "invalid_request_error",
      param: error.param,
      code: error.code ?? null,
    },
  });
}

function withModel(data: Json, model: string): Json {
  return data.model === ECHO_MODEL ? { ...data, model } : data;
}

/** The non-streaming `chat.completion` a stream script adds up to. */
function accumulate(steps: FakeOpenAIStep[], model: string): Json {
  let content: string | null = null;
  let reasoning: string | undefined;
  let finishReason: unknown = null;
  let usage: unknown;
  const calls: Json[] = [];
  for (const step of steps) {
    if (step.kind !== "chunk") continue;
    if (step.data.usage !== undefined) usage = step.data.usage;
    const choice: unknown = Array.isArray(step.data.choices) ? step.data.choices[0] : undefined;
    if (!isRecord(choice) || !isRecord(choice.delta)) continue;
    const d = choice.delta;
    if (typeof d.content === "string" && d.content !== "") content = (content ?? "") + d.content;
    const r = d.reasoning_content ?? d.reasoning;
    if (typeof r === "string") reasoning = (reasoning ?? "") + r;
    for (const call of Array.isArray(d.tool_calls) ? d.tool_calls.filter(isRecord) : []) {
      const fn = isRecord(call.function) ? call.function : {};
      const index = typeof call.index === "number" ? call.index : calls.length;
      const existing = calls[index];
      if (existing === undefined || call.id !== undefined) {
        calls[index] = {
          id: call.id,
          type: "function",
          function: { name: fn.name, arguments: String(fn.arguments ?? "") },
        };
      } else if (isRecord(existing.function)) {
        existing.function.arguments = String(existing.function.arguments ?? "") + String(fn.arguments ?? "");
      }
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined)
      finishReason = choice.finish_reason;
  }
  const message: Json = { role: "assistant", content };
  if (reasoning !== undefined) message.reasoning_content = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_760_000_000,
    model,
    choices: [{ index: 0, message, finish_reason: finishReason }],
    usage: usage ?? null,
  };
}

/** Start the fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const maxStallMs = options.maxStallMs ?? 30_000;
  const queue: FakeOpenAIScript[] = [];
  const requests: RecordedOpenAIRequest[] = [];
  const hitsByKey = new Map<string, number>();
  const closing = new AbortController();
  const wait = (ms: number, signal: AbortSignal, cap = maxDelayMs) =>
    sleep(Math.min(Math.max(0, ms), cap), signal);

  async function playStream(res: ServerResponse, script: FakeOpenAIStream, body: Json, signal: AbortSignal) {
    const model = String(body.model);
    const wantsUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...script.headers,
    });
    res.flushHeaders();
    for (const step of script.steps) {
      if (signal.aborted || res.destroyed) return;
      if (step.kind === "delay") {
        await wait(step.ms, signal);
        continue;
      }
      // Like OpenAI: the usage chunk exists only when the request asked for it.
      if (
        step.kind === "chunk" &&
        Array.isArray(step.data.choices) &&
        step.data.choices.length === 0 &&
        !wantsUsage
      )
        continue;
      const text =
        step.kind === "raw" ? step.text : `data: ${JSON.stringify(withModel(step.data, model))}\n\n`;
      if (!(await writeChunk(res, text, signal))) return;
    }
    if (script.end === "reset") return void res.destroy();
    if (script.end === "stall") {
      await wait(maxStallMs, signal, maxStallMs);
      return void res.destroy();
    }
    if (script.done) await writeChunk(res, "data: [DONE]\n\n", signal);
    res.end();
  }

  async function handleCompletions(res: ServerResponse, body: Json, signal: AbortSignal) {
    const invalid = validateChatRequest(body, options);
    if (invalid !== undefined) return openaiError(res, 400, invalid);
    const script = queue.shift() ?? options.defaultScript?.() ?? textStream("Hello from the fake OpenAI.");
    await wait(script.firstByteDelayMs ?? 0, signal);
    if (signal.aborted) return;
    if (script.kind === "reset") return void res.socket?.destroy();
    if (script.kind === "http_error") {
      res.writeHead(script.status, { "content-type": "application/json", ...script.headers });
      return void res.end(script.body);
    }
    if (body.stream === true) return playStream(res, script, body, signal);
    if (script.end !== "end") return playStream(res, script, body, signal);
    sendJson(res, 200, accumulate(script.steps, String(body.model)), script.headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const requestDone = new AbortController();
    res.on("close", () => requestDone.abort());
    const signal = AbortSignal.any([requestDone.signal, closing.signal]);
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const read = await readBodyCapped(req, MAX_BODY_BYTES);
    const rawBody = read.tooLarge ? "" : read.bytes.toString("utf8");
    let body: unknown;
    try {
      body = rawBody === "" ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const key = bearer(req.headers);
    const completions =
      req.method === "POST" && (path === "/v1/chat/completions" || path === "/chat/completions");
    const models = req.method === "GET" && (path === "/v1/models" || path === "/models");
    if (!completions && !models) {
      return openaiError(res, 404, { message: `Invalid URL (${req.method ?? ""} ${path})`, param: null });
    }
    requests.push({ method: req.method ?? "", path, headers: req.headers, rawBody, body, key });
    hitsByKey.set(key ?? "", (hitsByKey.get(key ?? "") ?? 0) + 1);
    if (options.validKeys !== undefined) {
      if (key === undefined) {
        return openaiError(res, 401, {
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          param: null,
        });
      }
      if (!options.validKeys.includes(key)) {
        return openaiError(res, 401, {
          message: `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          param: null,
          code: "invalid_api_key",
        });
      }
    }
    if (models) {
      const data = (options.models ?? ["gpt-fake"]).map((id) => ({
        id,
        object: "model",
        created: 1_700_000_000,
        owned_by: "fake",
      }));
      return sendJson(res, 200, { object: "list", data });
    }
    if (read.tooLarge) return openaiError(res, 413, { message: "Request too large.", param: null });
    if (!isRecord(body)) {
      return openaiError(res, 400, {
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
        param: null,
      });
    }
    await handleCompletions(res, body, signal);
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
