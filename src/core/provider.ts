/**
 * The contract every upstream adapter implements (design.md §1).
 *
 * Providers are pure translators: they never retry, sleep, log, read config or pick targets.
 * `buildBody` and `buildRequest` do no I/O; `decodeStream` turns upstream bytes into Anthropic
 * events (through an `EventBuilder`) and throws a `GatewayError` when the stream is broken or
 * incomplete; `decodeError` turns a non-2xx upstream answer into one `GatewayError`.
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

/**
 * What an upstream body is made from: the client request, translated for one model. Nothing
 * about the key or the endpoint goes into a body, so one body serves every key and every retry of
 * a target (attempt-loop.ts), and the core can let go of the client request once it is built.
 */
export interface BodyContext {
  /** The validated client request (URL image/document sources already inlined by the core). */
  request: MessagesRequest;
  /** The upstream model id, e.g. `gemini-2.5-pro`. */
  upstreamModel: string;
}

/** One attempt's target and credential: what its URL, headers and stream decoding need. */
export interface AttemptContext {
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

export interface CountTokensContext extends AttemptContext {
  request: CountTokensRequest;
}

export type ProbeContext = Omit<AttemptContext, "requestedModel">;

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface Provider {
  readonly type: ProviderType;
  /** The upstream applies `stop_sequences` itself and reports the match (Anthropic relays). */
  readonly handlesStopSequences?: boolean;
  /** The request body: the client request in the upstream's format. */
  buildBody(ctx: BodyContext): string | Uint8Array;
  /** The streaming request of one attempt around a body from `buildBody` (always streaming). */
  buildRequest(ctx: AttemptContext, body: string | Uint8Array): UpstreamRequest;
  /**
   * Upstream 2xx body bytes → Anthropic events as they arrive, one batch per upstream read
   * (event-batches.ts). Throws GatewayError on a broken stream.
   */
  decodeStream(body: AsyncIterable<Uint8Array>, ctx: AttemptContext): AsyncIterable<EventBatch>;
  /** A non-2xx upstream answer → one GatewayError (class decides failover). */
  decodeError(status: number, headers: UpstreamHeaders, body: string): GatewayError;
  /**
   * After a failed attempt: true when the provider learned from `error` how its next request to
   * `target` avoids it (OpenAI: a model's completion-token limit), so the attempt loop retries
   * the attempt once, at once, without counting the failure.
   */
  learnFromFailure?(target: Pick<AttemptContext, "upstreamModel" | "baseUrl">, error: GatewayError): boolean;
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
