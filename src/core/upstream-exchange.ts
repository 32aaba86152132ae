/**
 * One upstream exchange on undici's dispatch API (transport.ts sends it): the handler that
 * settles `send` with the response or the provider's error, the body queue with backpressure,
 * and the classification of network failures.
 */
import { type Dispatcher, errors as undiciErrors } from "undici";
import { clientAborted, GatewayError } from "./errors.js";
import type { Provider, UpstreamHeaders } from "./provider.js";
import type { UpstreamResponse } from "./transport.js";

/** Largest error body read from an upstream (errors are small; a proxy's HTML page is not). */
const MAX_ERROR_BODY = 256 * 1024;

/** Queued body bytes past which undici is asked to pause reading (resumed once drained). */
const HIGH_WATER = 256 * 1024;

/**
 * One upstream exchange as undici's dispatch handler: settles `send` with the response (2xx) or
 * the provider's error (other statuses, body read up to MAX_ERROR_BODY), feeds the body queue,
 * and ties the request to the abort signal.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: UpstreamHeaders = {};
  private body: ResponseBody | undefined;
  /** An error answer's body, collected for `decodeError`. */
  private errorText: string[] | undefined;
  private errorBytes = 0;
  private settled = false;
  private readonly onAbort = () => this.controller?.abort(abortReason(this.signal));

  constructor(
    private readonly provider: Provider,
    private readonly signal: AbortSignal,
    private readonly resolve: (response: UpstreamResponse) => void,
    private readonly reject: (err: GatewayError) => void,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(abortReason(this.signal));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: UpstreamHeaders): void {
    if (status < 200) return; // 1xx informational: the real answer follows
    this.status = status;
    this.headers = headers;
    if (status >= 300) {
      this.errorText = [];
      return;
    }
    const body = new ResponseBody(controller, this.signal);
    this.body = body;
    this.settle(() =>
      this.resolve({
        status,
        headers,
        body,
        close: () => body.close(),
      }),
    );
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.body !== undefined) {
      this.body.push(chunk);
      return;
    }
    if (this.errorText === undefined) return;
    this.errorBytes += chunk.length;
    this.errorText.push(chunk.toString("latin1"));
    if (this.errorBytes > MAX_ERROR_BODY) {
      this.failWithAnswer();
      controller.abort(new Error("upstream error body over the size limit"));
    }
  }

  onResponseEnd(): void {
    this.done();
    if (this.body !== undefined) this.body.end();
    else this.failWithAnswer();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.done();
    // A broken error answer still says what it could (as before: what was read, else nothing).
    if (this.errorText !== undefined) {
      this.failWithAnswer();
      return;
    }
    const error = networkError(err, this.signal);
    if (this.body !== undefined) this.body.fail(error);
    else this.settle(() => this.reject(error));
  }

  /** The non-2xx answer → the provider's GatewayError. */
  private failWithAnswer(): void {
    const text = Buffer.from((this.errorText ?? []).join(""), "latin1").toString("utf8");
    this.settle(() => this.reject(this.provider.decodeError(this.status, this.headers, text)));
  }

  private settle(fn: () => void): void {
    if (this.settled) return;
    this.settled = true;
    fn();
  }

  private done(): void {
    this.signal.removeEventListener("abort", this.onAbort);
  }
}

/**
 * The 2xx body as an async iterable. Each `next()` hands over everything received since the
 * last one (one decode step per read, fewer when the consumer is behind); errors arrive after
 * the data that preceded them, already classified.
 */
class ResponseBody implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private closed = false;
  private failure: GatewayError | undefined;
  private waiting:
    | { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void }
    | undefined;

  constructor(
    private readonly controller: Dispatcher.DispatchController,
    private readonly signal: AbortSignal,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  push(chunk: Buffer): void {
    if (this.closed) return;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= HIGH_WATER && !this.controller.paused) this.controller.pause();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(error: GatewayError): void {
    this.failure = error;
    this.wake();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.chunks.length > 0) {
      const value = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.queued);
      this.chunks = [];
      this.queued = 0;
      if (this.controller.paused) this.controller.resume();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended || this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stop reading and release the connection (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    if (!this.ended && this.failure === undefined && !this.controller.aborted)
      this.controller.abort(abortReason(this.signal));
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ value: undefined, done: true });
  }

  private wake(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    if (this.failure !== undefined) waiting.reject(this.failure);
    else waiting.resolve({ value: undefined, done: true });
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("request aborted");
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
