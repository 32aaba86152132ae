/**
 * Upstream HTTP over undici: one keep-alive pool per provider, connect / first-byte / idle
 * deadlines, and an AbortSignal so a client that goes away releases the upstream at once.
 * Failures come back as `GatewayError`s: network problems and deadlines are `transient`;
 * a non-2xx answer is handed to the provider's `decodeError`.
 */
import { Agent, errors as undiciErrors } from "undici";
import { clientAborted, GatewayError } from "./errors.js";
import type { Provider, UpstreamHeaders, UpstreamRequest } from "./provider.js";

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

/** Largest error body read from an upstream (errors are small; a proxy's HTML page is not). */
const MAX_ERROR_BODY = 256 * 1024;

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

  /** Send and wait for a 2xx; any other status becomes `provider.decodeError(...)`, thrown. */
  async send(req: UpstreamRequest, provider: Provider, signal: AbortSignal): Promise<UpstreamResponse> {
    let res: Awaited<ReturnType<Agent["request"]>>;
    try {
      res = await this.agent.request({
        origin: new URL(req.url).origin,
        path: pathOf(req.url),
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
        signal,
        headersTimeout: this.timeouts.firstByteMs,
        bodyTimeout: this.timeouts.idleMs,
      });
    } catch (err) {
      throw networkError(err, signal);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await readLimited(res.body, MAX_ERROR_BODY).catch(() => "");
      throw provider.decodeError(res.statusCode, res.headers, text);
    }
    const body = res.body;
    return {
      status: res.statusCode,
      headers: res.headers,
      body: wrapBody(body, signal),
      close: () => {
        if (body.destroyed) return;
        // Destroying an unread body emits an abort error; nobody else listens by then.
        body.on("error", () => {});
        body.destroy();
      },
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/**
 * Re-throw body read failures (idle deadline, reset) as GatewayErrors. A plain iterator rather
 * than an async generator: one promise per read instead of a generator step.
 */
function wrapBody(body: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const inner = body[Symbol.asyncIterator]();
      const rethrow = (err: unknown): never => {
        throw networkError(err, signal);
      };
      return {
        next: () => inner.next().catch(rethrow),
        return: async (value?: unknown) => {
          await inner.return?.(value).catch(rethrow);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

async function readLimited(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) break;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Classify a network-level failure. The message never includes URLs (they may carry keys). */
export function networkError(err: unknown, signal: AbortSignal): GatewayError {
  if (err instanceof GatewayError) return err;
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason;
  if (signal.aborted) return clientAborted(err);
  if (err instanceof undiciErrors.HeadersTimeoutError)
    return timeout("UPSTREAM_FIRST_BYTE_TIMEOUT", "The upstream sent no response in time", err);
  if (err instanceof undiciErrors.BodyTimeoutError)
    return timeout("UPSTREAM_IDLE_TIMEOUT", "The upstream stream stalled", err);
  if (err instanceof undiciErrors.ConnectTimeoutError)
    return timeout("UPSTREAM_CONNECT_TIMEOUT", "Connecting to the upstream timed out", err);
  const code = (err as { code?: unknown } | null)?.code;
  const detail = typeof code === "string" ? code : err instanceof Error ? err.name : "error";
  return new GatewayError({
    code: "UPSTREAM_NETWORK",
    message: `The upstream connection failed (${detail})`,
    status: 502,
    type: "api_error",
    class: "transient",
    cause: err,
  });
}

function timeout(code: string, message: string, cause: unknown): GatewayError {
  return new GatewayError({ code, message, status: 504, type: "timeout_error", class: "transient", cause });
}
