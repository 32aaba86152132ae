import { describe, expect, it } from "vitest";
import { EventBuilder } from "../../src/core/event-builder.js";
import { accumulateMessage } from "../../src/protocol/anthropic/accumulate.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";
import { fromArray } from "../helpers/streams.js";

describe("EventBuilder", () => {
  it("numbers blocks in order, one open at a time, signature just before the thinking stop", () => {
    const b = new EventBuilder({ model: "claude-x", messageId: "msg_1" });
    b.setUsage({ input_tokens: 10 });
    const events: StreamEvent[] = [
      ...b.thinking("Let me "),
      ...b.thinking("look", "sig-1"),
      ...b.text("Hi"),
      ...b.text(" there"),
      ...b.toolCall("toolu_a", "Read", { file_path: "/x" }),
      ...b.toolCall("toolu_b", "Read", { file_path: "/y" }),
    ];
    b.setUsage({ output_tokens: 42 });
    events.push(...b.finish("tool_use"));
    expect(events.map((e) => `${e.type}${"index" in e ? `:${e.index}` : ""}`)).toEqual([
      "message_start",
      "content_block_start:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_stop:0",
      "content_block_start:1",
      "content_block_delta:1",
      "content_block_delta:1",
      "content_block_stop:1",
      "content_block_start:2",
      "content_block_delta:2",
      "content_block_stop:2",
      "content_block_start:3",
      "content_block_delta:3",
      "content_block_stop:3",
      "message_delta",
      "message_stop",
    ]);
    expect(events[4]).toEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "signature_delta", signature: "sig-1" },
    });
    const start = events[0];
    expect(start?.type === "message_start" && start.message.usage.input_tokens).toBe(10);
    const delta = events.at(-2);
    expect(delta).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: {
        input_tokens: 10,
        output_tokens: 42,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it("accumulates into the message a non-streaming client gets", async () => {
    const b = new EventBuilder({ model: "m", messageId: "msg_2" });
    const events = [
      ...b.thinking("hmm", "s"),
      ...b.text("a"),
      ...b.text("b"),
      ...b.toolCallStart("toolu_1", "Bash"),
      ...b.toolInputDelta('{"comm'),
      ...b.toolInputDelta('and":"ls"}'),
      ...b.redactedThinking("opaque"),
      ...b.finish("end_turn"),
    ];
    const message = await accumulateMessage(fromArray(events));
    expect(message.content).toEqual([
      { type: "thinking", thinking: "hmm", signature: "s" },
      { type: "text", text: "ab" },
      { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } },
      { type: "redacted_thinking", data: "opaque" },
    ]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.id).toBe("msg_2");
  });

  it("a stream without message_stop never accumulates into a success", async () => {
    const b = new EventBuilder({ model: "m" });
    await expect(accumulateMessage(fromArray([...b.text("partial")]))).rejects.toMatchObject({
      code: "UPSTREAM_TRUNCATED",
    });
  });

  it("an empty turn is still a valid message", async () => {
    const b = new EventBuilder({ model: "m" });
    const message = await accumulateMessage(fromArray(b.finish("refusal")));
    expect(message.content).toEqual([]);
    expect(message.stop_reason).toBe("refusal");
  });
});
