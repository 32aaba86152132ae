import { describe, expect, it } from "vitest";
import { InFlightRequests } from "../../src/http/in-flight.js";

describe("InFlightRequests", () => {
  it("aborts every tracked request with the reason, not the finished ones, and every later one", () => {
    const inFlight = new InFlightRequests();
    const running = new AbortController();
    const finished = new AbortController();
    inFlight.add(running);
    const untrack = inFlight.add(finished);
    untrack();
    expect(inFlight.size).toBe(1);

    const reason = new Error("shutting down");
    inFlight.abortAll(reason);
    expect(running.signal.aborted).toBe(true);
    expect(running.signal.reason).toBe(reason);
    expect(finished.signal.aborted).toBe(false);

    const late = new AbortController();
    inFlight.add(late)();
    expect(late.signal.reason).toBe(reason);
    expect(inFlight.size).toBe(0);
  });
});
