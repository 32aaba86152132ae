/**
 * Upstream HTTP over undici: one keep-alive pool per provider, connect / first-byte / idle
 * deadlines, and an AbortSignal so a client that goes away releases the upstream at once.
 * Failures come back as `GatewayError`s: network problems and deadlines are `transient`;
 * a non-2xx answer is handed to the provider's `decodeError`.
 */
import { Agent } from "undici";
import { attemptBudgetSpent, GatewayError } from "./errors.js";
import type { Provider, UpstreamHeaders, UpstreamRequest } from "./provider.js";
import { Exchange, networkError } from "./upstream-exchange.js";

export interface TransportTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: UpstreamHeaders;
  body: AsyncIterable<Uint8Array>;
  /** Release the connection (idempotent): called when the consumer stops early. */
  close(): void;
}

export class Transport {
  private readonly agent: Agent;

  constructor(private readonly timeouts: TransportTimeouts) {
    this.agent = new Agent({
      connectTimeout: timeouts.connectMs,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: 256,
    });
  }

  /**
   * Send and wait for a 2xx; any other status becomes `provider.decodeError(...)`, thrown.
   * Built on undici's `dispatch` callbacks rather than `request()`: the body arrives straight in
   * a small queue (`ResponseBody`) instead of through a Readable stream and its async iterator,
   * which cost about a microsecond per chunk and more per request in the CPU profile.
   */
  send(
    req: UpstreamRequest,
    provider: Provider,
    signal: AbortSignal,
    /** Wait for the headers until then at the latest (epoch ms; the attempt loop's budget). */
    deadline = Number.POSITIVE_INFINITY,
  ): Promise<UpstreamResponse> {
    if (signal.aborted) return Promise.reject(networkError(signal.reason, signal));
    const left = Math.max(1, Math.ceil(deadline - Date.now()));
    const budgetFirst = left < this.timeouts.firstByteMs;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const exchange = new Exchange(provider, signal, resolve, budgetFirst ? budgetAware(reject) : reject);
      try {
        const url = new URL(req.url);
        const bytes = req.body === undefined ? undefined : toBytes(req.body);
        const headers = bytes === undefined ? req.headers : withLength(req.headers, bytes.byteLength);
        // Iterables are a documented dispatch body (docs/api/Dispatcher.md), missing from the types.
        const body = bytes === undefined ? null : (new Once(bytes) as unknown as Uint8Array);
        this.agent.dispatch(
          {
            origin: url.origin,
            path: url.pathname + url.search,
            method: req.method,
            headers,
            body,
            headersTimeout: budgetFirst ? left : this.timeouts.firstByteMs,
            bodyTimeout: this.timeouts.idleMs,
          },
          exchange,
        );
      } catch (err) {
        exchange.onResponseError(undefined, err as Error);
      }
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * `reject`, with a first-byte timeout told as the attempt budget running out (the budget set the
 * shorter deadline). A module-level function on purpose: a closure made inside `send` would keep
 * its scope — the request and its body — alive for as long as the exchange holds it.
 */
function budgetAware(reject: (err: unknown) => void): (err: unknown) => void {
  return (err) =>
    reject(
      err instanceof GatewayError && err.code === "UPSTREAM_FIRST_BYTE_TIMEOUT"
        ? attemptBudgetSpent(err)
        : err,
    );
}

/**
 * The body's framing is the transport's: a configured `content-length` or `transfer-encoding` must
 * not contradict it.
 */
function withLength(headers: Record<string, string>, length: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== "content-length" && lower !== "transfer-encoding") out[name] = value;
  }
  out["content-length"] = String(length);
  return out;
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === "string" ? Buffer.from(body) : body;
}

/**
 * The body as a one-shot iterable (its length is in `content-length`). undici keeps a request's
 * body until the response has ended: a Buffer body stays in memory for the whole stream — minutes,
 * and hundreds of KB for a long Claude Code session — while this iterator lets go of the bytes
 * as it hands them over. (A generator would not: V8 keeps a finished generator's registers.)
 */
class Once implements IterableIterator<Uint8Array> {
  constructor(private bytes: Uint8Array | undefined) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Uint8Array> {
    const bytes = this.bytes;
    this.bytes = undefined;
    return bytes === undefined ? { done: true, value: undefined } : { done: false, value: bytes };
  }
}
