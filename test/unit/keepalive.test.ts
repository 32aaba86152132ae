import { describe, expect, it } from "vitest";
import { EventBuilder } from "../../src/core/event-builder.js";
import { withKeepAlive } from "../../src/core/keepalive.js";
import { collect } from "../helpers/streams.js";

describe("withKeepAlive", () => {
  it("pings while the source is silent and keeps every event in order", async () => {
    const b = new EventBuilder({ model: "m" });
    async function* slow() {
      yield* b.start();
      await new Promise((r) => setTimeout(r, 260));
      yield* b.text("late");
      yield* b.finish("end_turn");
    }
    const events = await collect(withKeepAlive(slow(), 50));
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === "ping").length).toBeGreaterThanOrEqual(3);
    expect(types.filter((t) => t !== "ping")).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("runs the source's cleanup when the consumer stops during a silence", async () => {
    let finalized = false;
    let pulledAfterReturn = false;
    async function* source() {
      try {
        yield { type: "ping" as const };
        await new Promise((r) => setTimeout(r, 100));
        yield { type: "message_stop" as const };
        pulledAfterReturn = true;
      } finally {
        finalized = true;
      }
    }
    const it = withKeepAlive(source(), 20)[Symbol.asyncIterator]();
    await it.next();
    expect((await it.next()).value).toEqual({ type: "ping" }); // keep-alive during the silence
    await it.return?.(undefined);
    expect(finalized).toBe(true);
    expect(pulledAfterReturn).toBe(false);
  });
});
