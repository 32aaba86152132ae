import { describe, expect, it } from "vitest";
import { decodeSse } from "../../src/core/sse-decode.js";
import { chunked, collect } from "../helpers/streams.js";

describe("decodeSse", () => {
  it("handles \\n, \\r\\n and \\r line ends, split anywhere, with multi-byte UTF-8", async () => {
    const text = 'data: {"a":"é😀"}\r\n\r\nevent: x\ndata: 2\n\ndata: 3\r\r';
    const expected = [
      { event: undefined, data: '{"a":"é😀"}' },
      { event: "x", data: "2" },
      { event: undefined, data: "3" },
    ];
    const bytes = Buffer.byteLength(text);
    for (let i = 1; i < bytes; i++) {
      expect((await collect(decodeSse(chunked(text, [i])))).flat()).toEqual(expected);
    }
    expect(
      (
        await collect(
          decodeSse(
            chunked(
              text,
              Array.from({ length: bytes }, (_, i) => i),
            ),
          ),
        )
      ).flat(),
    ).toEqual(expected);
  });

  it("drops a final event that lacks its blank line (an incomplete stream)", async () => {
    expect(await collect(decodeSse(chunked("data: 1\n\ndata: 2\n")))).toEqual([
      [{ event: undefined, data: "1" }],
    ]);
  });

  it("drops a leading byte-order mark, also when it is split across reads", async () => {
    const text = "\uFEFFdata: 1\n\n";
    for (let i = 1; i <= 3; i++) {
      expect((await collect(decodeSse(chunked(text, [i])))).flat()).toEqual([
        { event: undefined, data: "1" },
      ]);
    }
  });

  it("replaces invalid UTF-8 with U+FFFD instead of failing, and keeps what follows", async () => {
    async function* bytes() {
      yield Buffer.from("data: a");
      yield Buffer.from([0xff, 0xc3]); // an invalid byte, then a lead byte whose character never completes
      yield Buffer.from("\n\ndata: b\n\n");
    }
    expect((await collect(decodeSse(bytes()))).flat()).toEqual([
      { event: undefined, data: "a\uFFFD\uFFFD" },
      { event: undefined, data: "b" },
    ]);
  });
});
