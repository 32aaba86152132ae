import { describe, expect, it } from "vitest";
import { decodeWith, type EventBatch, type StreamDecoder } from "../../src/core/event-batches.js";
import { decodeSse } from "../../src/core/sse-decode.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { chunked, collect } from "../helpers/streams.js";

/** Each `data:` becomes a ping carrying nothing; "stop" completes the answer, "boom" throws. */
function recordingDecoder(log: string[]): StreamDecoder {
  return {
    message(message, out) {
      log.push(message.data);
      if (message.data === "boom") throw new Error("broken chunk");
      out.push({ type: "ping" });
      return message.data === "stop";
    },
    end(out) {
      log.push("end");
      out.push({ type: "message_stop" });
    },
  };
}

describe("decodeSse batches", () => {
  it("yields the messages of one read together, and each read's as it arrives", async () => {
    const text = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    expect(await collect(decodeSse(chunked(text)))).toEqual([
      [
        { event: undefined, data: "1" },
        { event: undefined, data: "2" },
        { event: undefined, data: "3" },
      ],
    ]);
    const split = await collect(decodeSse(chunked(text, [text.indexOf("data: 3")])));
    expect(split.map((batch) => batch.map((m) => m.data))).toEqual([["1", "2"], ["3"]]);
  });
});

describe("decodeWith", () => {
  it("one batch per read, then end's events", async () => {
    const log: string[] = [];
    const batches = await collect(
      decodeWith(chunked("data: a\n\ndata: b\n\ndata: c\n\n", [10]), recordingDecoder(log)),
    );
    expect(batches.map((b) => b.length)).toEqual([1, 2, 1]);
    expect(log).toEqual(["a", "b", "c", "end"]);
  });

  it("stops reading when the answer is complete and does not pull the rest of the body", async () => {
    const log: string[] = [];
    let pulled = 0;
    async function* body() {
      for (const piece of ["data: a\n\ndata: stop\n\ndata: late\n\n", "data: never\n\n"]) {
        pulled++;
        yield Buffer.from(piece);
      }
    }
    const events = (await collect(decodeWith(body(), recordingDecoder(log)))).flat();
    expect(log).toEqual(["a", "stop", "end"]);
    expect(events.map((e) => e.type)).toEqual(["ping", "ping", "message_stop"]);
    expect(pulled).toBe(1);
  });

  it("events emitted before a step threw go out before the error", async () => {
    const log: string[] = [];
    const seen: EventBatch[] = [];
    const run = async () => {
      for await (const batch of decodeWith(chunked("data: a\n\ndata: boom\n\n"), recordingDecoder(log)))
        seen.push(batch);
    };
    await expect(run()).rejects.toThrow("broken chunk");
    expect(seen).toEqual([[{ type: "ping" }] satisfies StreamEvent[]]);
    expect(log).toEqual(["a", "boom"]);
  });
});
