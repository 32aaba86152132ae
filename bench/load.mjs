/**
 * The load generator: undici keep-alive pool, one closed-loop worker per unit of concurrency,
 * bounded by a request count and a time cap per cell. Per request it records the time to first
 * body byte and the time to last byte (body fully read), and checks the answer.
 */
import { Agent } from "undici";
import { fullCheck, quickCheck } from "./check.mjs";

/** Requests whose answer gets the full check at the start of every cell. */
const FULL_CHECKS_PER_CELL = 3;
/** Stream answers: how many trailing bytes the quick check looks at. */
const TAIL_BYTES = 512;
/** Error messages kept per cell (the count is always exact). */
const ERROR_SAMPLES = 3;

/** One pool for the whole run: more connections than the highest concurrency, so none queue. */
export function createClient(maxConcurrency) {
  return new Agent({
    connections: Math.max(128, maxConcurrency * 2),
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

/**
 * One request. `full`: keep the whole body (for the full check); otherwise only the tail of a
 * stream (or the whole small non-stream body).
 * @returns {Promise<{status: number, ttfbMs: number, totalMs: number, bytes: number, text: string}>}
 */
export async function sendOnce(client, target, full) {
  const t0 = performance.now();
  const { statusCode, body } = await client.request({
    origin: target.origin,
    path: target.path,
    method: "POST",
    headers: target.headers,
    body: target.body,
  });
  const keepAll = full || !target.stream || statusCode !== 200;
  return new Promise((resolve, reject) => {
    let first = 0;
    let bytes = 0;
    const kept = [];
    let prev;
    let last;
    body.on("data", (chunk) => {
      if (first === 0) first = performance.now();
      bytes += chunk.length;
      if (keepAll) kept.push(chunk);
      else {
        prev = last;
        last = chunk;
      }
    });
    body.on("error", reject);
    body.on("end", () => {
      const end = performance.now();
      let text;
      if (keepAll) text = Buffer.concat(kept).toString("utf8");
      else {
        const tail = Buffer.concat([prev, last].filter((b) => b !== undefined));
        text = tail.subarray(Math.max(0, tail.length - TAIL_BYTES)).toString("latin1");
      }
      resolve({ status: statusCode, ttfbMs: (first || end) - t0, totalMs: end - t0, bytes, text });
    });
  });
}

function verdict(target, result, full) {
  if (result.status !== 200) return `HTTP ${result.status}: ${result.text.slice(0, 300)}`;
  return full
    ? fullCheck(target.dialect, target.stream, target.chunks, result.text)
    : quickCheck(target.dialect, target.stream, target.chunks, result.text);
}

/** Nearest-rank percentile of a sorted array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Run one cell: `concurrency` closed-loop workers until `count` requests are done or `capMs` has
 * passed (or `signal` aborts). The first FULL_CHECKS_PER_CELL answers get the full check, the
 * rest the quick one.
 */
export async function runCell(client, target, { concurrency, count, capMs, signal }) {
  const total = new Float64Array(count);
  const ttfb = new Float64Array(count);
  let done = 0;
  let issued = 0;
  let errors = 0;
  let bytes = 0;
  const errorSamples = [];
  const start = performance.now();
  const deadline = start + capMs;

  const worker = async () => {
    while (issued < count && performance.now() < deadline && signal?.aborted !== true) {
      const full = issued < FULL_CHECKS_PER_CELL;
      issued++;
      let problem;
      try {
        const result = await sendOnce(client, target, full);
        problem = verdict(target, result, full);
        if (problem === undefined) {
          total[done] = result.totalMs;
          ttfb[done] = result.ttfbMs;
          bytes += result.bytes;
          done++;
        }
      } catch (err) {
        problem = `request failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
      }
      if (problem !== undefined && signal?.aborted !== true) {
        errors++;
        if (errorSamples.length < ERROR_SAMPLES) errorSamples.push(problem);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;

  const part = {
    total: total.subarray(0, done),
    ttfb: ttfb.subarray(0, done),
    errors,
    errorSamples,
    capped: issued < count,
    elapsedMs,
    bytes,
  };
  // The statistics, and the raw results for merging rounds (`summarize`).
  return { ...summarize([part]), part };
}

/**
 * Statistics over the raw results of one or more runs of the same cell (rounds interleaved with
 * the other targets' are merged here): percentiles over all samples, req/s over the summed time.
 */
export function summarize(parts) {
  const requests = parts.reduce((n, p) => n + p.total.length, 0);
  const elapsedMs = parts.reduce((n, p) => n + p.elapsedMs, 0);
  const bytes = parts.reduce((n, p) => n + p.bytes, 0);
  const merge = (key) => {
    const out = new Float64Array(requests);
    let at = 0;
    for (const p of parts) {
      out.set(p[key], at);
      at += p[key].length;
    }
    return out.sort();
  };
  const sortedTotal = merge("total");
  const sortedTtfb = merge("ttfb");
  return {
    requests,
    errors: parts.reduce((n, p) => n + p.errors, 0),
    errorSamples: parts.flatMap((p) => p.errorSamples).slice(0, ERROR_SAMPLES),
    capped: parts.some((p) => p.capped),
    elapsedMs,
    rps: elapsedMs > 0 ? (requests / elapsedMs) * 1000 : 0,
    bytesPerAnswer: requests > 0 ? Math.round(bytes / requests) : 0,
    p50: percentile(sortedTotal, 50),
    p99: percentile(sortedTotal, 99),
    ttfbP50: percentile(sortedTtfb, 50),
    ttfbP99: percentile(sortedTtfb, 99),
  };
}
