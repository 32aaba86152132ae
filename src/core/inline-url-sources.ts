/**
 * Turns `{type:"url"}` image/document sources into inline data before any provider sees the request.
 *
 * Gemini's `fileData` only reads Files-API/GCS/YouTube URIs and OpenAI-compatible servers vary, so the
 * gateway fetches the URL itself and inlines it (protocol.md F.2 "URL sources: fetch and inline").
 * Fetching a client-chosen URL from the gateway's network position is an SSRF risk, hence: http(s)
 * only, every hop's host resolved and refused when any address is loopback/private/link-local/...,
 * the connection pinned to the checked address (no DNS rebinding between check and connect), at
 * most 3 redirects, a total deadline and a byte cap. Errors are 400s: the URL is the client's input.
 */
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Agent } from "undici";
import type {
  MessageParam,
  MessagesRequest,
  RequestContentBlock,
  RequestDocumentBlock,
  RequestImageBlock,
  RequestToolResultBlock,
} from "../protocol/anthropic/request-schema.js";
import { clientAborted, GatewayError, invalidRequest } from "./errors.js";
import { isBlockedAddress, pinnedLookup } from "./public-address.js";

/** The config's `images` section (src/config/schema.ts). */
export interface UrlFetchOptions {
  fetchUrls: boolean;
  maxBytes: number;
  /** Deadline per URL, covering DNS, every redirect hop and the whole body. */
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

type SourceKind = "image" | "document";
type InlineSource =
  | { type: "base64"; media_type: string; data: string }
  | { type: "text"; media_type: "text/plain"; data: string };
/** Called for every URL source met in the walk; a returned source replaces it. */
type Resolver = (url: string, kind: SourceKind) => InlineSource | undefined;

const MAX_PARALLEL = 4;
const MAX_REDIRECTS = 3;
/** Bodies we do not want (redirects, errors) are read up to this much, then dropped; dump() never emits 'error'. */
const DISCARD_LIMIT = 64 * 1024;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** protocol.md A.3: the image media types the Messages API accepts. */
const IMAGE_TYPES: ReadonlySet<string> = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

/**
 * Returns `request` itself when it has no URL source (the common case: Claude Code sends base64);
 * otherwise a copy whose URL sources are inlined (only the changed branches are copied).
 * Throws a 400 `GatewayError` when a URL is disabled, refused, unreachable, too large or of an
 * unsupported type; a `CLIENT_ABORTED` error when `signal` fires.
 */
export async function inlineUrlSources(
  request: MessagesRequest,
  options: UrlFetchOptions,
  signal: AbortSignal,
): Promise<MessagesRequest> {
  const jobs = new Map<string, { url: string; kind: SourceKind }>();
  rewriteMessages(request.messages, (url, kind) => {
    jobs.set(jobKey(url, kind), { url, kind });
    return undefined;
  });
  if (jobs.size === 0) return request;
  if (!options.fetchUrls) {
    const first = jobs.values().next().value;
    throw invalidRequest(
      `URL ${first?.kind ?? "image"} sources are disabled on this gateway (images.fetchUrls: false); ` +
        `send the ${first?.kind ?? "image"} as a base64 source instead (${first ? redact(first.url) : "url"})`,
    );
  }
  const fetched = await fetchAll([...jobs.values()], options, signal);
  const messages = rewriteMessages(request.messages, (url, kind) => fetched.get(jobKey(url, kind)));
  return { ...request, messages };
}

function jobKey(url: string, kind: SourceKind): string {
  return `${kind} ${url}`;
}

// ---- walk: every place a url source can sit (protocol.md A.3) -----------------------------------

function rewriteMessages(messages: MessageParam[], resolve: Resolver): MessageParam[] {
  return mapSame(messages, (message) => {
    if (typeof message.content === "string") return message;
    const content = mapSame(message.content, (block) => rewriteBlock(block, resolve));
    return content === message.content ? message : { ...message, content };
  });
}

function rewriteBlock<B extends RequestContentBlock>(block: B, resolve: Resolver): B;
function rewriteBlock(block: RequestContentBlock, resolve: Resolver): RequestContentBlock {
  // Only these three can carry a url source; every other block passes through untouched.
  switch (block.type) {
    case "image":
      return rewriteImage(block, resolve);
    case "document":
      return rewriteDocument(block, resolve);
    case "tool_result":
      return rewriteToolResult(block, resolve);
    default:
      return block;
  }
}

function rewriteImage(block: RequestImageBlock, resolve: Resolver): RequestImageBlock {
  if (block.source.type !== "url") return block;
  const source = resolve(block.source.url, "image");
  // toSource only answers base64 for images; the check keeps the type honest.
  return source?.type === "base64" ? { ...block, source } : block;
}

function rewriteDocument(block: RequestDocumentBlock, resolve: Resolver): RequestDocumentBlock {
  const src = block.source;
  if (src.type === "url") {
    const source = resolve(src.url, "document");
    return source === undefined ? block : { ...block, source };
  }
  if (src.type === "content" && typeof src.content !== "string") {
    const content = mapSame(src.content, (item) => rewriteBlock(item, resolve));
    return content === src.content ? block : { ...block, source: { ...src, content } };
  }
  return block;
}

function rewriteToolResult(block: RequestToolResultBlock, resolve: Resolver): RequestToolResultBlock {
  if (block.content === undefined || typeof block.content === "string") return block;
  const content = mapSame(block.content, (item) => rewriteBlock(item, resolve));
  return content === block.content ? block : { ...block, content };
}

/** `items.map(f)`, but the same array when `f` changed nothing (keeps the no-URL path copy-free). */
function mapSame<T>(items: T[], f: (item: T) => T): T[] {
  let out: T[] | undefined;
  items.forEach((item, i) => {
    const next = f(item);
    if (out === undefined && next !== item) out = items.slice(0, i);
    out?.push(next);
  });
  return out ?? items;
}

// ---- fetch --------------------------------------------------------------------------------------

interface Job {
  url: string;
  kind: SourceKind;
}

async function fetchAll(
  jobs: Job[],
  options: UrlFetchOptions,
  signal: AbortSignal,
): Promise<Map<string, InlineSource>> {
  const failFast = new AbortController();
  const shared = AbortSignal.any([signal, failFast.signal]);
  const results = new Map<string, InlineSource>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++] as Job;
      results.set(jobKey(job.url, job.kind), await fetchOne(job, options, shared, signal));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL, jobs.length) }, worker));
  } catch (err) {
    failFast.abort(err); // the first failure decides the answer; stop the other downloads
    throw err;
  }
  return results;
}

async function fetchOne(job: Job, options: UrlFetchOptions, shared: AbortSignal, client: AbortSignal) {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([shared, deadline]);
  let url = parseHttpUrl(job.url, job.kind);
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const addresses = await checkedAddresses(url, job.kind, options, signal);
      const agent = new Agent({
        connections: 1,
        // Happy eyeballs over the checked addresses only (`localhost` may be ::1 and 127.0.0.1).
        connect: { lookup: pinnedLookup(addresses), autoSelectFamily: true },
      });
      try {
        const res = await agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: "GET",
          headers: { accept: acceptFor(job.kind), "user-agent": "ccgate" },
          signal,
        });
        const location = header(res.headers, "location");
        if (REDIRECT_STATUSES.has(res.statusCode) && location !== undefined) {
          await res.body.dump({ limit: DISCARD_LIMIT, signal });
          url = parseHttpUrl(new URL(location, url).href, job.kind);
          continue;
        }
        if (res.statusCode < 200 || res.statusCode >= 300) {
          await res.body.dump({ limit: DISCARD_LIMIT, signal });
          throw invalidRequest(
            `${job.kind} at ${redact(url.href)} could not be fetched: HTTP ${res.statusCode}`,
          );
        }
        const declared = Number(header(res.headers, "content-length") ?? Number.NaN);
        if (declared > options.maxBytes) {
          await res.body.dump({ limit: DISCARD_LIMIT, signal });
          throw tooLarge(job.kind, url, options.maxBytes);
        }
        const body = await readCapped(res.body, options.maxBytes, () =>
          tooLarge(job.kind, url, options.maxBytes),
        );
        return toSource(job.kind, url, header(res.headers, "content-type"), body);
      } finally {
        await agent.destroy();
      }
    }
    throw invalidRequest(`${job.kind} at ${redact(job.url)} redirects more than ${MAX_REDIRECTS} times`);
  } catch (err) {
    if (client.aborted) throw abortedError(err);
    if (deadline.aborted && !(err instanceof GatewayError)) {
      throw invalidRequest(`${job.kind} at ${redact(url.href)} timed out after ${options.timeoutMs} ms`, err);
    }
    if (err instanceof GatewayError || shared.aborted) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidRequest(`${job.kind} at ${redact(url.href)} could not be fetched: ${reason}`, err);
  }
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number, onTooLarge: () => Error) {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw onTooLarge(); // leaving the loop destroys the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function toSource(kind: SourceKind, url: URL, contentType: string | undefined, body: Buffer): InlineSource {
  const [rawType = "", ...params] = (contentType ?? "").split(";");
  let type = rawType.trim().toLowerCase();
  if (type === "image/jpg") type = "image/jpeg";
  if (type === "" || type === "application/octet-stream" || type === "binary/octet-stream")
    type = sniff(body) ?? type;
  if (kind === "image" && IMAGE_TYPES.has(type))
    return { type: "base64", media_type: type, data: body.toString("base64") };
  if (kind === "document" && type === "application/pdf") {
    return { type: "base64", media_type: type, data: body.toString("base64") };
  }
  if (kind === "document" && type === "text/plain") {
    return { type: "text", media_type: "text/plain", data: decodeText(body, params) };
  }
  const allowed = kind === "image" ? [...IMAGE_TYPES].join(", ") : "application/pdf, text/plain";
  throw invalidRequest(
    `${kind} at ${redact(url.href)} has unsupported content-type "${type || "none"}" (expected ${allowed})`,
  );
}

/** Magic bytes, for servers that answer `application/octet-stream` (or nothing). */
function sniff(body: Buffer): string | undefined {
  const starts = (sig: string, at = 0) => body.subarray(at, at + sig.length).toString("latin1") === sig;
  if (starts("\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts("\xff\xd8\xff")) return "image/jpeg";
  if (starts("GIF87a") || starts("GIF89a")) return "image/gif";
  if (starts("RIFF") && starts("WEBP", 8)) return "image/webp";
  if (starts("%PDF-")) return "application/pdf";
  return undefined;
}

function decodeText(body: Buffer, params: string[]): string {
  const charset = params
    .map((p) => /^\s*charset\s*=\s*"?([^";\s]+)/i.exec(p)?.[1])
    .find((c) => c !== undefined);
  try {
    return new TextDecoder(charset ?? "utf-8").decode(body);
  } catch {
    return new TextDecoder("utf-8").decode(body); // unknown charset label: UTF-8 is the web's default
  }
}

// ---- address checks -----------------------------------------------------------------------------

async function checkedAddresses(
  url: URL,
  kind: SourceKind,
  options: UrlFetchOptions,
  signal: AbortSignal,
): Promise<[LookupAddress, ...LookupAddress[]]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: LookupAddress[];
  const family = isIP(host);
  if (family !== 0) addresses = [{ address: host, family }];
  else {
    try {
      addresses = await abortable(dnsLookup(host, { all: true, verbatim: true }), signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw invalidRequest(`${kind} at ${redact(url.href)}: cannot resolve host ${host}`, err);
    }
  }
  const first = addresses[0];
  if (first === undefined)
    throw invalidRequest(`${kind} at ${redact(url.href)}: host ${host} has no address`);
  const blocked = options.allowPrivateNetworks
    ? undefined
    : addresses.find((a) => isBlockedAddress(a.address));
  if (blocked !== undefined) {
    throw invalidRequest(
      `${kind} URL host ${host} is refused: it resolves to the non-public address ${blocked.address} ` +
        "(set images.allowPrivateNetworks: true to allow it)",
    );
  }
  return [first, ...addresses.slice(1)];
}

// ---- small helpers ------------------------------------------------------------------------------

function parseHttpUrl(raw: string, kind: SourceKind): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw invalidRequest(`${kind} source url is not a valid URL`, err);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidRequest(`${kind} source url must be http or https, got ${url.protocol.replace(/:$/, "")}`);
  }
  return url;
}

/** scheme://host/path only: query strings and fragments may carry tokens. */
function redact(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

function tooLarge(kind: SourceKind, url: URL, maxBytes: number): GatewayError {
  return invalidRequest(`${kind} at ${redact(url.href)} is larger than ${maxBytes} bytes`);
}

function acceptFor(kind: SourceKind): string {
  return kind === "image" ? "image/png, image/jpeg, image/gif, image/webp" : "application/pdf, text/plain";
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function abortedError(cause: unknown): GatewayError {
  return clientAborted(cause);
}
