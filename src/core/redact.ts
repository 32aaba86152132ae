/**
 * Masks credentials in error text before it leaves the gateway: the client's error body (JSON
 * or SSE `event: error`), the per-request log line and the request log. Upstreams sometimes
 * echo what they received (an `Authorization` header, a `?key=` URL) in their error message,
 * and ccgate relays upstream messages as they are, because Claude Code reacts to their wording.
 * Every outgoing or logged error message goes through `redactSecrets`, so there is one filter
 * to get right rather than one per provider.
 *
 * Two layers:
 * - exact values: secrets the gateway knows (configured upstream keys, the client's token),
 *   masked wherever they appear, whatever their shape;
 * - shapes: common token formats, for credentials the gateway cannot know (short-lived OAuth
 *   tokens, a key another instance uses).
 *
 * Only substrings that look like credentials change. Everything else stays byte for byte, in
 * particular the wordings Claude Code matches ("prompt is too long: N tokens > M maximum").
 */

export const REDACTED = "[redacted]";

/**
 * Shorter values are not matched exactly. A placeholder key such as `ollama` or `none` would
 * otherwise mask ordinary words in every message, and a key that short guards nothing anyway.
 */
export const MIN_EXACT_SECRET_LENGTH = 8;

/**
 * Configured secrets, process-wide. The paths that build client error bodies never see the
 * Gateway, so the secrets are kept here for them. Only configured values go in (bounded by the
 * config, even across reloads), never values a client sent: those are passed per call as
 * `extra`, because a client could send new ones with every request and the set would grow.
 * Keys left over from an old config stay masked, which does no harm.
 */
const known = new Set<string>();
let knownPattern: RegExp | undefined;

/** Mask these values (upstream keys, the client token) in every later error message. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values) {
    const secret = value?.trim();
    if (secret === undefined || secret.length < MIN_EXACT_SECRET_LENGTH || known.has(secret)) continue;
    known.add(secret);
    knownPattern = undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One alternation, longest first, so a secret that contains another is masked as a whole. */
function alternation(secrets: Iterable<string>): RegExp | undefined {
  const list = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  return list.length === 0 ? undefined : new RegExp(list.map(escapeRegExp).join("|"), "g");
}

/** The value already masked: a later rule must not treat `[redacted]` as a value to mask. */
const NOT_MASKED = `(?!${escapeRegExp(REDACTED)})`;

/** Header names whose value is a credential, written as `name: value`, `name=value` or JSON. */
const CREDENTIAL_HEADER = new RegExp(
  `\\b(x-goog-api-key|x-api-key|api-key)(["']?\\s*[:=]\\s*["']?)${NOT_MASKED}[^\\s"',;&)}\\]]+`,
  "gi",
);
/** URL query parameters that carry a credential (Gemini's `?key=`). */
const CREDENTIAL_QUERY = new RegExp(
  `([?&](?:key|api_key|apikey|access_token|token)=)${NOT_MASKED}[^&\\s"'#]+`,
  "gi",
);
const AUTH_SCHEME = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]{8,})/gi;
/** OpenAI, Anthropic (`sk-ant-…`), OpenRouter (`sk-or-…`) and similar keys. */
const PREFIXED_KEY = /\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}/g;
/** Google API keys and Google OAuth access tokens (Vertex). */
const GOOGLE_API_KEY = /AIza[0-9A-Za-z_-]{20,}/g;
const GOOGLE_ACCESS_TOKEN = /\bya29\.[0-9A-Za-z._-]{20,}/g;

/**
 * `text` with every known secret (registered ones and `extra`, e.g. the token the client
 * presented) and everything credential-shaped replaced by `[redacted]`.
 */
export function redactSecrets(text: string, extra: Iterable<string | undefined> = []): string {
  let out = text;
  const own = [...extra]
    .map((value) => value?.trim())
    .filter(
      (value): value is string =>
        value !== undefined && value.length >= MIN_EXACT_SECRET_LENGTH && !known.has(value),
    );
  knownPattern ??= alternation(known);
  const exact = own.length === 0 ? knownPattern : alternation([...known, ...own]);
  if (exact !== undefined) out = out.replace(exact, REDACTED);
  return (
    out
      .replace(CREDENTIAL_HEADER, `$1$2${REDACTED}`)
      .replace(CREDENTIAL_QUERY, `$1${REDACTED}`)
      // "Bearer authentication" is prose, not a token: an all-lowercase word is left alone.
      .replace(AUTH_SCHEME, (match, scheme: string, space: string, token: string) =>
        /^[a-z]+$/.test(token) ? match : `${scheme}${space}${REDACTED}`,
      )
      .replace(PREFIXED_KEY, REDACTED)
      .replace(GOOGLE_API_KEY, REDACTED)
      .replace(GOOGLE_ACCESS_TOKEN, REDACTED)
  );
}
