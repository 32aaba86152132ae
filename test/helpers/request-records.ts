import type { RequestRecord } from "../../src/telemetry/request-record.js";

/** A successful streamed request as the tracker records it; tests override what they assert on. */
export function requestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: "req_test",
    startedAt: Date.now(),
    durationMs: 100,
    ttfbMs: 10,
    endpoint: "messages",
    requestedModel: "claude-sonnet-4-5",
    route: "sonnet",
    target: "gemini/gemini-2.5-pro",
    provider: "gemini",
    keyLabel: "GEMINI_API_KEY#1",
    stream: true,
    status: 200,
    outcome: "ok",
    errorType: undefined,
    errorCode: undefined,
    errorMessage: undefined,
    attempts: 1,
    inputTokens: 100,
    outputTokens: 10,
    cacheReadTokens: undefined,
    stopReason: "end_turn",
    sessionId: undefined,
    ...overrides,
  };
}
