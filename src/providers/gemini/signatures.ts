/**
 * Stateless carriage of Gemini thought signatures through Claude Code (protocol.md F.6).
 *
 * Claude Code echoes every `tool_use` id and every `thinking.signature` byte for byte, so the
 * gateway stores what Gemini needs back *inside* those strings — nothing is kept server-side,
 * so it survives a restart and works across instances:
 * - a `functionCall` part → `tool_use.id = "toolu_gm" + base64url(JSON{s?, i?, m, n})` with the
 *   part's `thoughtSignature` (s), Gemini's own call id (i), the model (m) that issued it and a
 *   nonce (n) that keeps ids unique;
 * - a thought part → `thinking.signature = "gm1." + base64url(JSON{s?, m})`.
 * Signatures are bound to the model that issued them: replayed into another model they are
 * replaced by Google's documented skip value.
 */
import { randomId } from "../../core/ids.js";

const TOOL_ID_PREFIX = "toolu_gm";
const THINKING_PREFIX = "gm1.";

/** Google's documented placeholder for function calls whose signature is unknown. */
export const SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator";

export interface CallInfo {
  /** Gemini `thoughtSignature` of the functionCall part, if it had one. */
  signature?: string;
  /** Gemini `functionCall.id`, if the model returned one. */
  geminiId?: string;
  /** The Gemini model that issued the call. */
  model: string;
}

interface CallPayload {
  s?: string;
  i?: string;
  m: string;
  n: string;
}

export function encodeToolUseId(info: CallInfo): string {
  const payload: CallPayload = { m: info.model, n: randomId(6) };
  if (info.signature !== undefined) payload.s = info.signature;
  if (info.geminiId !== undefined) payload.i = info.geminiId;
  return TOOL_ID_PREFIX + Buffer.from(JSON.stringify(payload)).toString("base64url");
}

/** The call info carried by an id this gateway issued; undefined for any other id. */
export function decodeToolUseId(id: string): CallInfo | undefined {
  if (!id.startsWith(TOOL_ID_PREFIX)) return undefined;
  const payload = parseJson(Buffer.from(id.slice(TOOL_ID_PREFIX.length), "base64url").toString("utf8"));
  if (payload === undefined || typeof payload.m !== "string") return undefined;
  const info: CallInfo = { model: payload.m };
  if (typeof payload.s === "string") info.signature = payload.s;
  if (typeof payload.i === "string") info.geminiId = payload.i;
  return info;
}

export function encodeThinkingSignature(model: string, signature: string | undefined): string {
  const payload: { m: string; s?: string } = { m: model };
  if (signature !== undefined) payload.s = signature;
  return THINKING_PREFIX + Buffer.from(JSON.stringify(payload)).toString("base64url");
}

/** `{model, signature}` for a thinking signature this gateway issued; undefined otherwise. */
export function decodeThinkingSignature(
  signature: string,
): { model: string; signature?: string } | undefined {
  if (!signature.startsWith(THINKING_PREFIX)) return undefined;
  const payload = parseJson(
    Buffer.from(signature.slice(THINKING_PREFIX.length), "base64url").toString("utf8"),
  );
  if (payload === undefined || typeof payload.m !== "string") return undefined;
  return typeof payload.s === "string" ? { model: payload.m, signature: payload.s } : { model: payload.m };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
