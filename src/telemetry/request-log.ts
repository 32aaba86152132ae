/**
 * The request log: finished requests in an embedded SQLite file (better-sqlite3, WAL), with the
 * queries the dashboard needs. `record()` only appends to an in-memory buffer; the buffer is
 * written in one transaction every `flushIntervalMs` or `flushBatch` records, off the request's
 * call stack, so the request path never waits on disk. Retention keeps the newest `maxRows`.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  CREATE_SCHEMA,
  fromRow,
  INSERT_ROW,
  type RequestRow,
  SCHEMA_VERSION,
  toRow,
} from "./request-log-schema.js";
import { type RequestSummary, SummaryQueries } from "./request-log-summary.js";
import type { RequestRecord, RequestSink } from "./request-record.js";

export type { RequestSummary } from "./request-log-summary.js";

export interface RequestLogOptions {
  /** SQLite file (its directory is created), or `":memory:"` for a log that dies with the process. */
  path: string;
  /** Newest rows kept; older ones are deleted after each flush. */
  maxRows: number;
  /** Longest a record waits in memory before it is written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Buffered records that trigger a write right away (on the next turn of the event loop). Default 100. */
  flushBatch?: number;
  /** Records held while writes fail; beyond it the oldest are dropped (and counted). Default 10,000. */
  maxBuffered?: number;
  /** A failed write (the batch is dropped and counted). Default: `console.error`. */
  onError?: (err: unknown) => void;
}

export interface RecentQuery {
  /** 1…1000. */
  limit: number;
  /** Only requests that started strictly before this epoch-ms time (paging backwards). */
  before?: number;
  outcome?: RequestRecord["outcome"];
  route?: string;
}

export interface RequestLog extends RequestSink {
  readonly path: string;
  /** Newest first. Pending records are written first, so the answer includes them. */
  recent(query: RecentQuery): RequestRecord[];
  /** Aggregates over requests that started at or after `sinceMs` (epoch ms). */
  summary(sinceMs: number): RequestSummary;
  /** Write pending records now (synchronously). */
  flush(): void;
  /** Records lost to failed writes, buffer overflow or `record()` after `close()`. */
  readonly dropped: number;
  close(): Promise<void>;
}

export const MAX_RECENT_LIMIT = 1_000;

interface RecentParams {
  limit: number;
  before: number | null;
  outcome: string | null;
  route: string | null;
}

class SqliteRequestLog implements RequestLog {
  private readonly db: Database.Database;
  private readonly insertMany: (rows: RequestRow[]) => void;
  private readonly retain: Database.Statement<[number]>;
  private readonly recentRows: Database.Statement<RecentParams, RequestRow>;
  private readonly summaries: SummaryQueries;
  private buffer: RequestRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private lost = 0;
  private readonly interval: number;
  private readonly batch: number;
  private readonly maxBuffered: number;
  private readonly onError: (err: unknown) => void;

  constructor(
    readonly path: string,
    private readonly maxRows: number,
    options: RequestLogOptions,
  ) {
    this.interval = options.flushIntervalMs ?? 250;
    this.batch = options.flushBatch ?? 100;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.onError = options.onError ?? ((err) => console.error("ccgate: request log write failed", err));
    this.db = openDatabase(path);
    const insert = this.db.prepare<[RequestRow]>(INSERT_ROW);
    this.insertMany = this.db.transaction((rows: RequestRow[]) => {
      for (const row of rows) insert.run(row);
    });
    // `seq` grows with every insert, so "older than the newest maxRows" is one range delete.
    this.retain = this.db.prepare("DELETE FROM requests WHERE seq <= (SELECT max(seq) FROM requests) - ?");
    this.recentRows = this.db.prepare(`
      SELECT * FROM requests
      WHERE (@before IS NULL OR started_at < @before)
        AND (@outcome IS NULL OR outcome = @outcome)
        AND (@route IS NULL OR route = @route)
      ORDER BY started_at DESC, seq DESC LIMIT @limit`);
    this.summaries = new SummaryQueries(this.db);
  }

  get dropped(): number {
    return this.lost;
  }

  record(record: RequestRecord): void {
    if (this.closed) {
      this.lost++;
      return;
    }
    this.buffer.push(record);
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.shift();
      this.lost++;
    }
    if (this.buffer.length >= this.batch) {
      this.immediate ??= setImmediate(() => this.flush()).unref();
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.interval).unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.buffer.length === 0) return;
    const pending = this.buffer;
    this.buffer = [];
    try {
      this.insertMany(pending.map(toRow));
      this.retain.run(this.maxRows);
    } catch (err) {
      this.lost += pending.length;
      this.onError(err);
    }
  }

  recent(query: RecentQuery): RequestRecord[] {
    this.flush();
    const limit = Math.min(MAX_RECENT_LIMIT, Math.max(1, Math.floor(query.limit)));
    return this.recentRows
      .all({
        limit,
        before: query.before ?? null,
        outcome: query.outcome ?? null,
        route: query.route ?? null,
      })
      .map(fromRow);
  }

  summary(sinceMs: number): RequestSummary {
    this.flush();
    return this.summaries.run(sinceMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

function openDatabase(path: string): Database.Database {
  const inMemory = path === ":memory:" || path === "";
  let db: Database.Database;
  try {
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (err) {
    throw new Error(`Cannot open the request log at ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // WAL: dashboard reads never block the flushes; NORMAL sync is safe with WAL (a crash loses at
    // most the last transactions, never corrupts) and keeps each flush to one fsync-free commit.
    if (!inMemory) db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // Only another writer (a second ccgate on the same file) can hold the lock; wait briefly, since
    // flushes run on the event loop, then fail the batch (counted and reported via onError).
    db.pragma("busy_timeout = 250");
    const version = db.pragma("user_version", { simple: true });
    if (typeof version === "number" && version > SCHEMA_VERSION) {
      throw new Error(
        `it was written by a newer ccgate (schema ${version}, this one knows ${SCHEMA_VERSION}); move it away or set telemetry.requestLog.path`,
      );
    }
    db.exec(CREATE_SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } catch (err) {
    db.close();
    throw new Error(`Cannot use the request log at ${path}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/** Open (creating if needed) the request log. Throws with the path named when the file is unusable. */
export function openRequestLog(options: RequestLogOptions): RequestLog {
  if (!Number.isInteger(options.maxRows) || options.maxRows < 1) {
    throw new Error(`telemetry.requestLog.maxRows must be a positive integer, got ${options.maxRows}`);
  }
  return new SqliteRequestLog(options.path, options.maxRows, options);
}
