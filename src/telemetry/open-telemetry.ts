/**
 * One call from the composition root: open the request log and the metrics the config asks for
 * and combine them into the sink the messages route reports finished requests to.
 */
import { ConfigError } from "../config/load.js";
import { combineSinks } from "./combine-sinks.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { openRequestLog, type RequestLog } from "./request-log.js";
import { defaultRequestLogPath } from "./request-log-path.js";
import type { RequestSink } from "./request-record.js";

/** The `telemetry` config section (proposed for config/schema.ts, with these defaults). */
export interface TelemetryOptions {
  requestLog: {
    /** Default true. */
    enabled: boolean;
    /** Default `defaultRequestLogPath()`; `":memory:"` keeps nothing on disk. */
    path?: string | undefined;
    /** Default 100,000. */
    maxRows: number;
  };
  /** Default true: `GET /metrics`. */
  metrics: { enabled: boolean };
}

export interface Telemetry {
  log: RequestLog | undefined;
  metrics: Metrics | undefined;
  /** Where the HTTP layer reports every finished request (fans out to log and metrics). */
  sink: RequestSink;
  /** Flushes the log and closes it; call after the HTTP server stopped taking requests. */
  close(): Promise<void>;
}

export function openTelemetry(
  options: TelemetryOptions,
  status: () => unknown,
  onError?: (err: unknown) => void,
): Telemetry {
  const log = options.requestLog.enabled
    ? openLogOrExplain(
        options.requestLog.path ?? defaultRequestLogPath(),
        options.requestLog.maxRows,
        onError,
      )
    : undefined;
  const metrics = options.metrics.enabled ? createMetrics({ status }) : undefined;
  const sink = combineSinks(log, metrics);
  return {
    log,
    metrics,
    sink,
    close: async () => {
      await sink.close();
    },
  };
}

/** The request log, or a start-up error that names the setting and the fix (not a stack trace). */
function openLogOrExplain(
  path: string,
  maxRows: number,
  onError: ((err: unknown) => void) | undefined,
): RequestLog {
  try {
    return openRequestLog({ path, maxRows, ...(onError === undefined ? {} : { onError }) });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([
      `telemetry.requestLog.path: cannot open the request log at ${path} (${reason}) — point it at a writable file (CCGATE_REQUEST_LOG=<file>) or turn it off (CCGATE_REQUEST_LOG=off)`,
    ]);
  }
}
