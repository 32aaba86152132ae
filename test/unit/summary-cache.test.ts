import { describe, expect, it } from "vitest";
import { SummaryCache } from "../../src/dashboard/summary-cache.js";
import type { RequestSummary } from "../../src/telemetry/request-log-summary.js";
import { fakeClock } from "../helpers/fake-clock.js";

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

function counting() {
  const calls: number[] = [];
  const compute = (since: number): RequestSummary => {
    calls.push(since);
    return { since } as RequestSummary;
  };
  return { calls, compute };
}

describe("SummaryCache", () => {
  it("reuses a window's summary for a thousandth of it, at most a minute", () => {
    const clock = fakeClock();
    const { calls, compute } = counting();
    const cache = new SummaryCache(compute, clock.now);
    cache.get(WEEK);
    clock.advance(59_000);
    cache.get(WEEK); // a week's summary: reused for up to a minute
    expect(calls).toHaveLength(1);
    clock.advance(1_000);
    expect(cache.get(WEEK).since).toBe(clock.now() - WEEK);
    expect(calls).toHaveLength(2);

    cache.get(HOUR);
    clock.advance(3_000);
    cache.get(HOUR); // an hour's: 3.6 s
    clock.advance(600);
    cache.get(HOUR);
    expect(calls).toHaveLength(4);
  });

  it("keeps at most a few windows (they come from the query string)", () => {
    const clock = fakeClock();
    const { calls, compute } = counting();
    const cache = new SummaryCache(compute, clock.now);
    for (let w = 1; w <= 20; w++) cache.get(w * HOUR);
    cache.get(20 * HOUR); // the newest is still there
    expect(calls).toHaveLength(20);
    cache.get(1 * HOUR); // the oldest was dropped
    expect(calls).toHaveLength(21);
  });
});
