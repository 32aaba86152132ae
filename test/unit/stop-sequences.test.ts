import { describe, expect, it } from "vitest";
import { EventBuilder } from "../../src/core/event-builder.js";
import { withStopSequences } from "../../src/core/stop-sequences.js";
import { accumulateMessage } from "../../src/protocol/anthropic/accumulate.js";
import { collectEvents, fromArray } from "../helpers/streams.js";

function textStream(pieces: string[]) {
  const b = new EventBuilder({ model: "m" });
  b.setUsage({ input_tokens: 5 });
  return [...pieces.flatMap((p) => b.text(p)), ...b.finish("end_turn")];
}

describe("withStopSequences", () => {
  it("cuts at a sequence split across deltas and reports which one matched", async () => {
    let pulled = 0;
    async function* source() {
      for (const e of textStream(["Hello wor", "ld, then ST", "OP and more", " text"])) {
        pulled++;
        yield [e];
      }
    }
    const message = await accumulateMessage(withStopSequences(source(), ["STOP", "never"]));
    expect(message.content).toEqual([{ type: "text", text: "Hello world, then " }]);
    expect(message.stop_reason).toBe("stop_sequence");
    expect(message.stop_sequence).toBe("STOP");
    expect(message.usage.input_tokens).toBe(5);
    // The source was released at the match: the remaining deltas were never pulled.
    expect(pulled).toBeLessThan(textStream(["Hello wor", "ld, then ST", "OP and more", " text"]).length);
  });

  it("passes everything through when no sequence matches, releasing held text in order", async () => {
    const events = await collectEvents(withStopSequences(fromArray(textStream(["abc", "de", "f"])), ["xyz"]));
    const message = await accumulateMessage(fromArray(events));
    expect(message.content).toEqual([{ type: "text", text: "abcdef" }]);
    expect(message.stop_reason).toBe("end_turn");
  });

  it("picks the earliest match", async () => {
    const message = await accumulateMessage(
      withStopSequences(fromArray(textStream(["one two three"])), ["three", "two"]),
    );
    expect(message.stop_sequence).toBe("two");
    expect(message.content).toEqual([{ type: "text", text: "one " }]);
  });
});
