/**
 * Stateless carriage of upstream tool-call facts through Claude Code's `tool_use` ids.
 *
 * Claude Code echoes `tool_use.id` byte for byte in the next request, so the adapter encodes what
 * the upstream needs back inside the id itself — nothing is stored server-side (survives restarts,
 * works across instances):
 * `toolu_oa` + base64url(JSON{i: upstream call id, s?: Gemini thought_signature, m?: model}).
 * The signature is bound to the model that issued it (protocol.md F.6), so `m` is kept with it and
 * the signature is echoed only to that model (G.3: Gemini OpenAI-compat `extra_content`).
 * The encoding also makes any upstream id safe for Anthropic's id pattern `^[a-zA-Z0-9_-]+$`.
 */
import { createHash } from "node:crypto";

const PREFIX = "toolu_oa";
/** OpenAI rejects `tool_calls[].id` longer than 40 characters. */
const MAX_UPSTREAM_ID_LENGTH = 40;
const SAFE_ID = /^[A-Za-z0-9_-]+$/;

export interface UpstreamCallRef {
  /** The call id the upstream issued (or one the adapter synthesized when it sent none). */
  id: string;
  /** Gemini `extra_content.google.thought_signature`, when the call carried one. */
  signature?: string;
  /** The upstream model that issued the signature. */
  model?: string;
}

interface Payload {
  i: string;
  s?: string;
  m?: string;
}

export function encodeToolUseId(ref: UpstreamCallRef): string {
  const payload: Payload = { i: ref.id };
  if (ref.signature !== undefined) {
    payload.s = ref.signature;
    if (ref.model !== undefined) payload.m = ref.model;
  }
  return PREFIX + Buffer.from(JSON.stringify(payload)).toString("base64url");
}

/** The reference carried by an id this adapter issued; undefined for any other id. */
export function decodeToolUseId(id: string): UpstreamCallRef | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(id.slice(PREFIX.length), "base64url").toString("utf8"));
  } catch {
    return undefined; // an id that merely starts with the prefix: treat it as foreign
  }
  if (typeof value !== "object" || value === null) return undefined;
  const payload = value as Record<string, unknown>;
  if (typeof payload.i !== "string" || payload.i === "") return undefined;
  const ref: UpstreamCallRef = { id: payload.i };
  if (typeof payload.s === "string") ref.signature = payload.s;
  if (typeof payload.m === "string") ref.model = payload.m;
  return ref;
}

/**
 * The id to send upstream for an Anthropic `tool_use` id, plus the signature to echo (only to the
 * model that issued it). Deterministic, so the assistant `tool_calls[].id` and the answering
 * `tool_call_id` always agree. Foreign ids (another provider's, Anthropic's) pass unchanged when
 * OpenAI would accept them, else become `call_` + a hash.
 */
export function upstreamCallRef(anthropicId: string, upstreamModel: string): UpstreamCallRef {
  const ours = decodeToolUseId(anthropicId);
  if (ours !== undefined) {
    if (ours.signature !== undefined && ours.model === upstreamModel) {
      return { id: ours.id, signature: ours.signature };
    }
    return { id: ours.id };
  }
  if (anthropicId.length <= MAX_UPSTREAM_ID_LENGTH && SAFE_ID.test(anthropicId)) return { id: anthropicId };
  return { id: `call_${createHash("sha256").update(anthropicId).digest("base64url").slice(0, 32)}` };
}
