/**
 * Reads the error an OpenAI-compatible server sent (protocol.md G.2): the OpenAI shape
 * `{"error":{"message","type","param","code"}}`, a bare `{"error":"text"}` (Ollama), vLLM's flat
 * `{"object":"error","message","type","code"}`, a JSON array around any of these, or plain text.
 */
import { isObject } from "./json.js";

export interface UpstreamErrorInfo {
  message: string;
  type: string | undefined;
  /** OpenAI uses strings (`insufficient_quota`); some servers put the HTTP status here. */
  code: string | number | undefined;
  /** The whole error object, for server-specific fields (llama.cpp `n_ctx`, `n_prompt_tokens`). */
  fields: Record<string, unknown>;
}

/** Long HTML error pages from proxies are cut: the message reaches logs and the client. */
const MAX_MESSAGE_LENGTH = 2000;

export function parseErrorBody(body: string): UpstreamErrorInfo {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return info(body.trim(), {});
  }
  return readErrorValue(value) ?? info(body.trim(), {});
}

/** The error carried by an already-parsed JSON value, or undefined when it holds none. */
export function readErrorValue(value: unknown): UpstreamErrorInfo | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof first === "string") return info(first, {});
  if (!isObject(first)) return undefined;
  const error = first.error;
  if (typeof error === "string") return info(error, first);
  if (isObject(error))
    return info(typeof error.message === "string" ? error.message : JSON.stringify(error), error);
  if (typeof first.message === "string") return info(first.message, first);
  return undefined;
}

function info(message: string, fields: Record<string, unknown>): UpstreamErrorInfo {
  const code = fields.code;
  return {
    message: message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message,
    type: typeof fields.type === "string" ? fields.type : undefined,
    code: typeof code === "string" || typeof code === "number" ? code : undefined,
    fields,
  };
}

/** The `error` field of a stream chunk (any shape) as error info; undefined when absent. */
export function errorField(error: unknown): UpstreamErrorInfo | undefined {
  if (error === undefined || error === null) return undefined;
  return readErrorValue({ error }) ?? info(JSON.stringify(error), {});
}
