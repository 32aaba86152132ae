/**
 * The upstream request for an Anthropic-compatible endpoint (a relay or api.anthropic.com).
 *
 * The body is the client's own request, shallow-copied with `model` rewritten and `stream: true`
 * (the gateway always streams upstream, design.md §1). Every other field — including ones this
 * gateway does not know — passes through as the client sent it: the body is an open object
 * (protocol.md A.1) and thinking blocks/signatures must reach the upstream byte-identical (A.3).
 *
 * `baseUrl` is the root the upstream's `/v1/...` paths hang off, without `/v1` — the same
 * convention as Claude Code's `ANTHROPIC_BASE_URL` (protocol.md E.1).
 */
import type {
  AttemptContext,
  BodyContext,
  CountTokensContext,
  UpstreamRequest,
} from "../../core/provider.js";

/** How the key is sent: `x-api-key` (Anthropic's default) or `Authorization: Bearer` (many relays). */
export type AuthHeaderStyle = "x-api-key" | "bearer";

/** The API version Claude Code sends today (protocol.md E.2); ctx.headers may override it. */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Headers never taken from `ctx.headers`: the body is re-serialized (a stale `content-length`
 * would corrupt it), the decoder reads identity bytes (`accept-encoding` could bring gzip), and
 * hop-by-hop headers belong to each connection.
 */
const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "content-type",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "accept-encoding",
]);

/** Credential headers: when this attempt has a key, nobody else's credential goes upstream. */
const CREDENTIALS: ReadonlySet<string> = new Set(["x-api-key", "authorization"]);

function trimSlash(baseUrl: string): string {
  let end = baseUrl.length;
  while (end > 0 && baseUrl.charCodeAt(end - 1) === 47 /* "/" */) end--;
  return baseUrl.slice(0, end);
}

/**
 * `anthropic-version`, then `ctx.headers` (lower-cased; `anthropic-beta` goes upstream only when
 * the core put it there), then the credential and `content-type`, which always win.
 */
export function buildHeaders(
  ctx: Pick<AttemptContext, "apiKey" | "headers" | "anthropicBeta">,
  auth: AuthHeaderStyle,
): Record<string, string> {
  const headers: Record<string, string> = { "anthropic-version": ANTHROPIC_VERSION };
  if (ctx.anthropicBeta !== undefined && ctx.anthropicBeta !== "")
    headers["anthropic-beta"] = ctx.anthropicBeta;
  const hasKey = ctx.apiKey !== undefined;
  if (ctx.headers !== undefined) {
    for (const [name, value] of Object.entries(ctx.headers)) {
      const lower = name.toLowerCase();
      if (NEVER_FORWARDED.has(lower) || (hasKey && CREDENTIALS.has(lower))) continue;
      headers[lower] = value;
    }
  }
  if (ctx.apiKey !== undefined) {
    if (auth === "bearer") headers.authorization = `Bearer ${ctx.apiKey}`;
    else headers["x-api-key"] = ctx.apiKey;
  }
  headers["content-type"] = "application/json";
  return headers;
}

/** The streaming Messages body with the upstream's model. Pure: `ctx` is not modified. */
export function buildMessagesBody(ctx: BodyContext): string {
  // A shallow copy: overwriting `model` keeps its key position, nested objects are shared
  // (never mutated) and serialized once.
  return JSON.stringify({ ...ctx.request, model: ctx.upstreamModel, stream: true });
}

/** `POST {baseUrl}/v1/messages` for one attempt. */
export function buildMessagesRequest(
  ctx: AttemptContext,
  body: string | Uint8Array,
  auth: AuthHeaderStyle,
): UpstreamRequest {
  return {
    url: `${trimSlash(ctx.baseUrl)}/v1/messages`,
    method: "POST",
    headers: buildHeaders(ctx, auth),
    body,
  };
}

/** `POST {baseUrl}/v1/messages/count_tokens` with the model rewritten (protocol.md D.1). */
export function buildCountTokensRequest(ctx: CountTokensContext, auth: AuthHeaderStyle): UpstreamRequest {
  const body = { ...ctx.request, model: ctx.upstreamModel };
  return {
    url: `${trimSlash(ctx.baseUrl)}/v1/messages/count_tokens`,
    method: "POST",
    headers: buildHeaders(ctx, auth),
    body: JSON.stringify(body),
  };
}
