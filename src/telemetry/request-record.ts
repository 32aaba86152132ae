/**
 * One finished request, as the HTTP layer reports it to telemetry (request log, metrics).
 * Never holds secrets or prompt content: keys appear only as their label.
 */
export interface RequestRecord {
  id: string;
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  durationMs: number;
  /** Time until the first byte (status or event) went to the client. */
  ttfbMs: number | undefined;
  endpoint: "messages" | "count_tokens";
  requestedModel: string;
  route: string | undefined;
  /** `provider/model` of the attempt that served (or last failed). */
  target: string | undefined;
  provider: string | undefined;
  keyLabel: string | undefined;
  stream: boolean;
  /** HTTP status sent (200 for a committed stream, even if it later ended in `event: error`). */
  status: number;
  outcome: "ok" | "error" | "aborted";
  errorType: string | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  attempts: number;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cacheReadTokens: number | undefined;
  stopReason: string | undefined;
  sessionId: string | undefined;
}

/** Where finished requests go. Implementations must not block the request path. */
export interface RequestSink {
  record(record: RequestRecord): void;
  close(): Promise<void> | void;
}
