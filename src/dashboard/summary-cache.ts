/**
 * Request-log summaries for the dashboard, reused for a while. A summary costs time linear in
 * the rows of its window, on the gateway's only thread (better-sqlite3 is synchronous): about
 * 2 ms for an hour, but ≈360 ms for 7 days of 100k rows, which every open tab asked for every
 * 5 s — each time stalling every stream the gateway serves. A window is reused for a thousandth
 * of its length, at most a minute: an hour's summary stays fresh on every refresh (3.6 s), a
 * week's is at most a minute old, and computed at most once a minute however many tabs are open.
 */
import type { RequestSummary } from "../telemetry/request-log-summary.js";

const MAX_REUSE_MS = 60_000;
const REUSE_SHARE = 1 / 1000;
/** Windows come from the query string: keep a few (the page offers four). */
const MAX_WINDOWS = 8;

export class SummaryCache {
  private readonly entries = new Map<number, { at: number; summary: RequestSummary }>();

  constructor(
    private readonly compute: (sinceMs: number) => RequestSummary,
    private readonly now: () => number = Date.now,
  ) {}

  /** The summary of the last `windowMs`, computed now or at most a little while ago. */
  get(windowMs: number): RequestSummary {
    const now = this.now();
    const known = this.entries.get(windowMs);
    if (known !== undefined && now - known.at < Math.min(MAX_REUSE_MS, windowMs * REUSE_SHARE)) {
      return known.summary;
    }
    const summary = this.compute(now - windowMs);
    this.entries.delete(windowMs);
    this.entries.set(windowMs, { at: now, summary });
    if (this.entries.size > MAX_WINDOWS) this.entries.delete(this.entries.keys().next().value as number);
    return summary;
  }
}
