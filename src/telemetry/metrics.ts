/**
 * Prometheus metrics: request counters and latency histograms fed from finished
 * `RequestRecord`s, key/in-flight gauges read from the status snapshot at scrape time, and
 * Node's default process metrics — all on an own registry (never prom-client's global one, so
 * several gateways in one process, as in tests, do not collide).
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { RequestRecord, RequestSink } from "./request-record.js";
import { StatusGauges } from "./status-gauges.js";

export interface MetricsOptions {
  /** The `/status` snapshot (Gateway.status); read on every scrape for the key/in-flight gauges. */
  status?: () => unknown;
  /** Node process metrics (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

/** Metrics are also a `RequestSink`: `record()` is `observe()`. */
export interface Metrics extends RequestSink {
  readonly registry: Registry;
  /** The `content-type` to serve `text()` with. */
  readonly contentType: string;
  observe(record: RequestRecord): void;
  /** The exposition text for `GET /metrics` (refreshes the status gauges first). */
  text(): Promise<string>;
}

/** Request durations run from sub-second count_tokens to many-minute agent turns. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const TTFB_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Label value for a request that never reached routing or a target. */
const NONE = "none";

/**
 * A target is `provider/model`, and a `$model` route passes any model name a client sends: past
 * this many distinct targets, new ones are counted as `other`, so no client can grow `/metrics`
 * (and every scraper's storage) without end.
 */
const MAX_TARGET_LABELS = 200;
const OTHER = "other";

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: "ccgate_requests_total",
    help: "Finished requests by endpoint, route, serving target, outcome and HTTP status sent",
    labelNames: ["endpoint", "route", "target", "outcome", "status"],
    registers,
  });
  const duration = new Histogram({
    name: "ccgate_request_duration_seconds",
    help: "Whole request time, from arrival to the last byte (streams included)",
    labelNames: ["route", "target", "stream"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const ttfb = new Histogram({
    name: "ccgate_time_to_first_byte_seconds",
    help: "Time from arrival until the first byte (status or event) went to the client",
    labelNames: ["route", "target", "stream"],
    buckets: TTFB_BUCKETS,
    registers,
  });
  const tokens = new Counter({
    name: "ccgate_tokens_total",
    help: "Tokens reported by upstreams, by direction (input, output, cache_read) and target",
    labelNames: ["direction", "target"],
    registers,
  });
  const attempts = new Counter({
    name: "ccgate_upstream_attempts_total",
    help: "Upstream attempts made (a request that failed over counts each attempt)",
    labelNames: ["route"],
    registers,
  });
  const gauges = options.status === undefined ? undefined : new StatusGauges(registry, options.status);

  const targets = new Set<string>();
  const targetLabel = (target: string): string => {
    if (targets.has(target)) return target;
    if (targets.size >= MAX_TARGET_LABELS) return OTHER;
    targets.add(target);
    return target;
  };
  const observe = (r: RequestRecord): void => {
    const route = r.route ?? NONE;
    const target = targetLabel(r.target ?? NONE);
    const stream = r.stream ? "true" : "false";
    requests.inc({ endpoint: r.endpoint, route, target, outcome: r.outcome, status: String(r.status) });
    duration.observe({ route, target, stream }, r.durationMs / 1000);
    if (r.ttfbMs !== undefined) ttfb.observe({ route, target, stream }, r.ttfbMs / 1000);
    if (r.inputTokens) tokens.inc({ direction: "input", target }, r.inputTokens);
    if (r.outputTokens) tokens.inc({ direction: "output", target }, r.outputTokens);
    if (r.cacheReadTokens) tokens.inc({ direction: "cache_read", target }, r.cacheReadTokens);
    if (r.attempts > 0) attempts.inc({ route }, r.attempts);
  };

  return {
    registry,
    contentType: registry.contentType,
    observe,
    record: observe,
    close() {},
    async text() {
      gauges?.refresh();
      return registry.metrics();
    },
  };
}
