/**
 * One attempt of the attempt loop (attempt-loop.ts): the upstream call up to its commit point
 * (`open`), the committed stream (`LiveAttempt`), and how failures and aborts become errors.
 */
import { isContentEvent, type StreamEvent } from "../protocol/anthropic/types.js";
import type { Admission, LoopOptions } from "./attempt-loop.js";
import {
  attemptBudgetSpent,
  clientAborted,
  GatewayError,
  requestTimedOut,
  toGatewayError,
  upstreamBroken,
} from "./errors.js";
import { type EventBatch, emit } from "./event-batches.js";
import type { AttemptContext } from "./provider.js";
import type { UpstreamResponse } from "./transport.js";
import type { Attempt } from "./upstream.js";

/**
 * One upstream call up to its commit point: the first content event (or, for a non-streaming
 * client, `message_stop` — it sees nothing until the message is complete, so its attempt can
 * still fail over after content). Returns the committed stream, or the error that ended the
 * attempt before it; a client abort is thrown.
 */
export async function open(
  attempt: Attempt,
  admission: Admission,
  bodies: Bodies,
  options: LoopOptions,
  signal: AbortSignal,
  timeout: { readonly aborted: boolean },
  /** The loop's attempt budget ends then (epoch ms): the attempt must commit before it. */
  deadline: number,
): Promise<LiveAttempt | GatewayError> {
  let response: UpstreamResponse | undefined;
  let live: LiveAttempt | undefined;
  let budgetTimer: ReturnType<typeof setTimeout> | undefined;
  let budgetSpent = false;
  const commits = options.commitAtEnd === true ? isMessageStop : isContentEvent;
  try {
    const ctx = attemptContext(options, attempt, await credentialOf(attempt, signal));
    // A body that cannot be built (a request this upstream cannot take) fails this attempt only.
    const upstreamRequest = attempt.upstream.provider.buildRequest(ctx, bodies.bodyFor(attempt));
    // The transport's wait for headers ends with the budget at the latest (a hung upstream with
    // a long first-byte deadline would outlast it, and no other target would be tried) …
    response = await attempt.upstream.transport.send(
      upstreamRequest,
      attempt.upstream.provider,
      signal,
      deadline,
    );
    // … and so does the wait for content after them. A timer, not a second abort signal linked
    // to the request's: that one cost 9–14 % of a small request's CPU at concurrency 64 (A/B).
    const opened = response;
    budgetTimer = setTimeout(() => {
      budgetSpent = true;
      opened.close();
    }, deadline - Date.now());
    const batches = attempt.upstream.provider.decodeStream(response.body, ctx)[Symbol.asyncIterator]();
    // Before the commit point, events wait here (a failure now must stay invisible).
    let held: StreamEvent[] = [];
    for (;;) {
      const next = await batches.next();
      if (next.done) return truncatedBeforeContent();
      const batch = next.value;
      if (held.length === 0) held = batch;
      else emit(held, batch);
      if (!batch.some(commits)) continue;
      live = new LiveAttempt(attempt, admission, outcomes(options), timeout, response, batches, held);
      live.committedProbe();
      live.saw(batch);
      return live;
    }
  } catch (err) {
    const error = asGatewayError(err, options.signal, timeout);
    // The client went away or the server is shutting down: not the upstream's failure (no
    // breaker, no cooldown — a restart must not open breakers shared through Redis).
    if (options.signal.aborted) throw error;
    return budgetSpent ? attemptBudgetSpent(error) : error;
  } finally {
    clearTimeout(budgetTimer);
    if (live === undefined) {
      response?.close();
      admission.release();
    }
  }
}

/** Where an attempt gets its upstream body (the attempt loop: one per target, see `BodyContext`). */
export interface Bodies {
  bodyFor(attempt: Attempt): string | Uint8Array;
}

/**
 * What a committed attempt reports its outcome to. Deliberately not the loop's options: past the
 * commit point nothing may hold the client request, so a stream that runs for minutes does not
 * keep a large conversation in memory (nor make the GC copy it again and again).
 */
type Outcomes = Pick<LoopOptions, "guard" | "session" | "signal">;

function outcomes(options: LoopOptions): Outcomes {
  return { guard: options.guard, session: options.session, signal: options.signal };
}

/** An attempt past its commit point: what `runAttempts` needs to stream the rest and close it. */
export class LiveAttempt {
  private succeeded = false;

  constructor(
    private readonly attempt: Attempt,
    private readonly admission: Admission,
    private readonly options: Outcomes,
    private readonly timeout: { readonly aborted: boolean },
    private readonly response: UpstreamResponse,
    readonly batches: AsyncIterator<EventBatch>,
    /** The events up to and including the commit point. */
    readonly held: EventBatch,
  ) {}

  /**
   * A batch on its way out. Success is recorded before `message_stop` goes out: a consumer that
   * stops right after it (the non-stream accumulator) never asks for more.
   */
  saw(batch: EventBatch): void {
    if (!this.succeeded && batch.some(isMessageStop)) this.succeed();
  }

  /**
   * A half-open breaker's probe that reached content closes the breaker now, not at
   * `message_stop`: while it streams (minutes, in a long turn) every other request to that
   * upstream would be refused. A later break is still recorded as a failure.
   */
  committedProbe(): void {
    if (this.admission.probe) this.options.guard.probeCommitted(this.attempt);
  }

  /** The stream ended cleanly (decoders throw on a truncated one). */
  succeed(): void {
    if (this.succeeded) return;
    this.succeeded = true;
    this.options.guard.onSuccess(this.attempt, this.admission, this.options.session);
  }

  /** The stream broke after the commit point: record the failure; the error goes to the client. */
  failed(err: unknown): GatewayError {
    const { options } = this;
    const error = asGatewayError(err, options.signal, this.timeout);
    // As before the commit point: an abort by the client or by a shutdown is nobody's failure.
    if (!options.signal.aborted && !this.succeeded)
      options.guard.onFailure(this.attempt, this.admission, error, options.session);
    return error;
  }

  /** Release the upstream connection and the attempt's slots (also when the client stops early). */
  close(): void {
    this.batches.return?.().catch(() => {});
    this.response.close();
    this.admission.release();
  }
}

function isMessageStop(event: StreamEvent): boolean {
  return event.type === "message_stop";
}

/** The key's static secret, or a fresh token from its source (a failure is an `auth` error). */
export async function credentialOf(attempt: Attempt, signal: AbortSignal): Promise<string | undefined> {
  const key = attempt.key;
  if (key?.tokenSource === undefined) return key?.secret;
  try {
    return await key.tokenSource.getToken(signal);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError({
      code: "CREDENTIALS_UNAVAILABLE",
      message: `Could not obtain an access token for ${attempt.upstream.name} (${key.label}): ${err instanceof Error ? err.message : String(err)}`,
      status: 401,
      type: "authentication_error",
      class: "auth",
      cause: err,
    });
  }
}

function attemptContext(options: LoopOptions, attempt: Attempt, apiKey: string | undefined): AttemptContext {
  const ctx: AttemptContext = {
    requestedModel: options.requestedModel,
    upstreamModel: attempt.model,
    baseUrl: attempt.upstream.baseUrl,
    apiKey,
  };
  if (Object.keys(attempt.upstream.headers).length > 0) ctx.headers = attempt.upstream.headers;
  if (options.anthropicBeta !== undefined) ctx.anthropicBeta = options.anthropicBeta;
  return ctx;
}

function asGatewayError(
  err: unknown,
  client: AbortSignal,
  timeout: { readonly aborted: boolean },
): GatewayError {
  return client.aborted || timeout.aborted ? abortError(client, timeout, err) : toGatewayError(err);
}

export function abortError(
  client: AbortSignal,
  timeout: { readonly aborted: boolean },
  cause?: unknown,
): GatewayError {
  // The server aborts in-flight requests with the error they should end with (shutdown).
  if (client.aborted && client.reason instanceof GatewayError) return client.reason;
  if (!client.aborted && timeout.aborted) return requestTimedOut(cause);
  return clientAborted(cause);
}

function truncatedBeforeContent(): GatewayError {
  return upstreamBroken("The upstream ended its answer before any content", undefined, "UPSTREAM_TRUNCATED");
}
