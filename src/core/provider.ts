/**
 * The contract every upstream adapter implements (design.md §1).
 *
 * Providers are pure translators: they never retry, sleep, log, read config or pick targets.
 * `buildRequest` does no I/O; `decodeStream` turns upstream bytes into Anthropic events (through
 * an `EventBuilder`) and throws a `GatewayError` when the stream is broken or incomplete;
 * `decodeError` turns a non-2xx upstream answer into one `GatewayError`.
 */
import type { CountTokensRequest, MessagesRequest } from "../protocol/anthropic/request-schema.js";
import type { GatewayError } from "./errors.js";
import type { EventBatch } from "./event-batches.js";

export type ProviderType = "gemini" | "openai" | "anthropic" | "vertex";

export interface UpstreamRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  /** Bytes as sent (providers assemble them once, json-bytes.ts); a string is encoded as UTF-8. */
  body?: string | Uint8Array;
}

/** Everything one attempt needs: the request, where it goes, with which credential. */
export interface AttemptContext {
  /** The validated client request (URL image/document sources already inlined by the core). */
  request: MessagesRequest;
  /** The model name the client asked for: echoed back in `message_start`. */
  requestedModel: string;
  /** The upstream model id, e.g. `gemini-2.5-pro`. */
  upstreamModel: string;
  /** Upstream base URL without a trailing slash, e.g. `https://generativelanguage.googleapis.com`. */
  baseUrl: string;
  apiKey: string | undefined;
  /** Extra headers configured for this provider. */
  headers?: Record<string, string>;
  /** The client's `anthropic-beta` list: part of the request's meaning (features it relies on). */
  anthropicBeta?: string;
}

export interface CountTokensContext extends Omit<AttemptContext, "request"> {
  request: CountTokensRequest;
}

export type ProbeContext = Omit<AttemptContext, "request" | "requestedModel">;

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface Provider {
  readonly type: ProviderType;
  /** The upstream applies `stop_sequences` itself and reports the match (Anthropic relays). */
  readonly handlesStopSequences?: boolean;
  /** The streaming request for one attempt. The gateway always streams upstream. */
  buildRequest(ctx: AttemptContext): UpstreamRequest;
  /**
   * Upstream 2xx body bytes → Anthropic events as they arrive, one batch per upstream read
   * (event-batches.ts). Throws GatewayError on a broken stream.
   */
  decodeStream(body: AsyncIterable<Uint8Array>, ctx: AttemptContext): AsyncIterable<EventBatch>;
  /** A non-2xx upstream answer → one GatewayError (class decides failover). */
  decodeError(status: number, headers: UpstreamHeaders, body: string): GatewayError;
  /**
   * A cheap request that proves a (target, key) works — used by background recovery probes and
   * the start-up warm-up. Absent → the gateway cannot probe this provider and waits for traffic.
   */
  probe?(ctx: ProbeContext): UpstreamRequest;
  /** Optional native token counting. Absent → the core's local estimate. */
  countTokens?: {
    buildRequest(ctx: CountTokensContext): UpstreamRequest;
    decodeResponse(json: unknown): number;
  };
}
