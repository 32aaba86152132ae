/**
 * What happened to one request, gathered as it runs and reported once at the end: one log line
 * (route, target, key label, attempts, timing, error) and one `RequestRecord` for the request
 * log and metrics. Never holds prompt content or secrets: the error message, which may be an
 * upstream's text echoing a credential, is masked (core/redact.ts) before it is logged or kept.
 */
import type { FastifyRequest } from "fastify";
import type { GatewayError } from "../core/errors.js";
import { redactSecrets } from "../core/redact.js";
import type { Attempt } from "../core/upstream.js";
import type { StreamEvent } from "../protocol/anthropic/types.js";
import type { RequestRecord, RequestSink } from "../telemetry/request-record.js";
import { presentedKeys } from "./client-auth.js";

export class RequestTracker {
  private readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private ttfb: number | undefined;
  private done = false;
  model = "";
  stream = false;
  route: string | undefined;
  session: string | undefined;
  attempt: Attempt | undefined;
  attempts = 0;
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private cacheRead: number | undefined;
  private stopReason: string | undefined;

  constructor(
    private readonly req: FastifyRequest,
    private readonly endpoint: RequestRecord["endpoint"],
    private readonly sink: RequestSink | undefined,
  ) {}

  get target(): string | undefined {
    return this.attempt === undefined ? undefined : `${this.attempt.upstream.name}/${this.attempt.model}`;
  }

  /** The first byte (status line or first event) is going to the client now. */
  firstByte(): void {
    this.ttfb ??= performance.now() - this.t0;
  }

  /** Usage and stop reason, from the events as they pass. */
  observe(event: StreamEvent): void {
    if (event.type === "message_start") this.usage(event.message.usage);
    else if (event.type === "message_delta") {
      this.usage(event.usage);
      this.stopReason = event.delta.stop_reason ?? undefined;
    }
  }

  usage(u: { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number }): void {
    if (u.input_tokens !== undefined) this.inputTokens = u.input_tokens;
    if (u.output_tokens !== undefined) this.outputTokens = u.output_tokens;
    if (u.cache_read_input_tokens !== undefined) this.cacheRead = u.cache_read_input_tokens;
  }

  setStopReason(reason: string | null): void {
    this.stopReason = reason ?? undefined;
  }

  /** Report once: `status` is what the client got (200 for a committed stream). */
  finish(status: number, error: GatewayError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.firstByte();
    const aborted = error?.code === "CLIENT_ABORTED";
    // One masked copy for the log line and the record: neither may carry what the upstream echoed.
    const errorMessage =
      error === undefined ? undefined : redactSecrets(error.message, presentedKeys(this.req.headers));
    const record: RequestRecord = {
      id: String(this.req.id),
      startedAt: this.startedAt,
      durationMs: Math.round(performance.now() - this.t0),
      ttfbMs: this.ttfb === undefined ? undefined : Math.round(this.ttfb),
      endpoint: this.endpoint,
      requestedModel: this.model,
      route: this.route,
      target: this.target,
      provider: this.attempt?.upstream.name,
      keyLabel: this.attempt?.key?.label,
      stream: this.stream,
      status,
      outcome: aborted ? "aborted" : error ? "error" : "ok",
      errorType: error?.type,
      errorCode: error?.code,
      errorMessage,
      attempts: this.attempts,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cacheReadTokens: this.cacheRead,
      stopReason: this.stopReason,
      sessionId: this.session,
    };
    this.req.log.info(
      {
        route: record.route,
        target: record.target,
        key: record.keyLabel,
        attempts: record.attempts,
        stream: record.stream,
        status,
        ms: record.durationMs,
        ...(error ? { error: error.code, errorMessage } : {}),
      },
      `${this.endpoint} ${record.outcome}`,
    );
    try {
      this.sink?.record(record);
    } catch (err) {
      this.req.log.error({ err }, "telemetry sink failed");
    }
  }
}
