import { describe, expect, it } from "vitest";
import { decodeUtf8, encodeUtf8 } from "../../src/core/utf8.js";
import { seededRandom } from "../helpers/seeded-random.js";

// Every UTF-8 length class, the byte-order mark, NUL, a noncharacter, a combining mark.
const ALPHABET = [
  "a",
  "Z",
  " ",
  "\n",
  '"',
  "\\",
  "é",
  "—",
  "→",
  "漢",
  "😀",
  "\uFEFF",
  "\u0000",
  "\uFFFF",
  "\u0301",
];

function text(random: () => number, length: number, alphabet: readonly string[]): string {
  let out = "";
  while (out.length < length) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

// Around the fast path's threshold (2048) and well past it.
const LENGTHS = [0, 1, 100, 2047, 2048, 2049, 5000, 70_000];

describe("utf8: the fast conversions give exactly Node's results", () => {
  it("round-trips text of every kind and size", () => {
    const random = seededRandom(7);
    for (const length of LENGTHS) {
      for (const alphabet of [ALPHABET, ["a", "b", " ", "{"], ["漢", "😀"]]) {
        const s = text(random, length, alphabet);
        const bytes = encodeUtf8(s);
        expect(bytes.equals(Buffer.from(s)), `encode, length ${length}`).toBe(true);
        expect(decodeUtf8(bytes) === s, `decode, length ${length}`).toBe(true);
      }
    }
  });

  it("decodes invalid UTF-8 as Node does (U+FFFD), and encodes lone surrogates as Node does", () => {
    const random = seededRandom(11);
    for (const length of LENGTHS) {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
      expect(decodeUtf8(bytes) === bytes.toString("utf8"), `random bytes, length ${length}`).toBe(true);
      // Valid text with one truncated sequence at the end.
      const cut = Buffer.concat([Buffer.from(text(random, length, ALPHABET)), Buffer.from([0xe6, 0xbc])]);
      expect(decodeUtf8(cut) === cut.toString("utf8"), `truncated, length ${length}`).toBe(true);
    }
    for (const s of [
      `${"x".repeat(3000)}\uD800`,
      `\uDC00${"é".repeat(3000)}`,
      `${"😀".repeat(2000)}\uD83D!`,
    ]) {
      expect(encodeUtf8(s).equals(Buffer.from(s))).toBe(true);
    }
  });

  it("decodes a view into a larger buffer without reading past it", () => {
    const whole = Buffer.from(`${"漢".repeat(3000)}|${"é".repeat(3000)}`);
    const view = whole.subarray(3, 3 + 3 * 2000);
    expect(decodeUtf8(view)).toBe("漢".repeat(2000));
  });
});
