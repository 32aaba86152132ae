import { describe, expect, it } from "vitest";
import { encodeSseEvent } from "../../src/protocol/anthropic/sse-encode.js";
import type { StreamEvent } from "../../src/protocol/anthropic/types.js";

describe("encodeSseEvent", () => {
  it("the text fast path writes exactly what JSON.stringify would", () => {
    for (const text of ["plain", 'quo"te\\n\u2028 é😀 </script>', ""]) {
      const event: StreamEvent = {
        type: "content_block_delta",
        index: 7,
        delta: { type: "text_delta", text },
      };
      expect(encodeSseEvent(event)).toBe(`event: content_block_delta\ndata: ${JSON.stringify(event)}\n\n`);
    }
  });
  it("names every frame after its type", () => {
    expect(encodeSseEvent({ type: "ping" })).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });
});
