/**
 * Fan one finished request out to several sinks (request log, metrics, …). Each sink gets the
 * record even when an earlier one throws; the failures are then thrown together, so a broken
 * sink is reported by the caller's logger instead of silently starving the others.
 */
import type { RequestRecord, RequestSink } from "./request-record.js";

export function combineSinks(...sinks: (RequestSink | undefined)[]): RequestSink {
  const active = sinks.filter((s): s is RequestSink => s !== undefined);
  return {
    record(record: RequestRecord) {
      const errors: unknown[] = [];
      for (const sink of active) {
        try {
          sink.record(record);
        } catch (err) {
          errors.push(err);
        }
      }
      throwAll(errors, "recording a request");
    },
    async close() {
      const results = await Promise.allSettled(active.map(async (sink) => sink.close()));
      throwAll(
        results.flatMap((r) => (r.status === "rejected" ? [r.reason] : [])),
        "closing request sinks",
      );
    },
  };
}

function throwAll(errors: unknown[], what: string): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} sinks failed ${what}`);
}
