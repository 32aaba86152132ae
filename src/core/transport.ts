/**
 * Upstream HTTP over undici: one keep-alive pool per provider, connect / first-byte / idle
 * deadlines, and an AbortSignal so a client that goes away releases the upstream at once.
 * Failures come back as `GatewayError`s: network problems and deadlines are `transient`;
 * a non-2xx answer is handed to the provider's `decodeError`.
 */
import { Agent } from "undici";
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
  send(req: UpstreamRequest, provider: Provider, signal: AbortSignal): Promise<UpstreamResponse> {
    if (signal.aborted) return Promise.reject(networkError(signal.reason, signal));
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const exchange = new Exchange(provider, signal, resolve, reject);
      try {
        const url = new URL(req.url);
        this.agent.dispatch(
          {
            origin: url.origin,
            path: url.pathname + url.search,
            method: req.method,
            headers: req.headers,
            body: req.body ?? null,
            headersTimeout: this.timeouts.firstByteMs,
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
