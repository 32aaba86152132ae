/**
 * UTF-8 ↔ string for large texts (request bodies, upstream bodies), faster than Node 20's
 * defaults once the text holds one non-ASCII character.
 *
 * `buffer.toString()` and `Buffer.from(string)` take V8's generic UTF-8 path, which crawls as soon
 * as a text is not pure ASCII — and Claude Code's bodies rarely are (an arrow, a dash, a name with
 * an accent in a file it read). On a 57 KB request body with 155 such characters, decoding took
 * ≈72 µs, as long as the `JSON.parse` after it; ICU's converter (`buffer.transcode`, in every
 * official Node build) does the same in ≈20 µs, and ≈10× faster than V8 on CJK text.
 * Results are identical: the fast paths only take input they convert exactly (valid UTF-8 in,
 * well-formed UTF-16 out) and anything else falls back to Node's own conversion.
 */
import { isAscii, isUtf8, transcode } from "node:buffer";

/** Below this, ICU's fixed cost per call outweighs what it saves (measured crossover ≈2 KB). */
const LARGE = 2048;

/** Node built without ICU has no `transcode`: the defaults then. */
const hasIcu = typeof process.versions.icu === "string";

/** The text of UTF-8 `bytes`, exactly as `bytes.toString("utf8")` (invalid bytes → U+FFFD). */
export function decodeUtf8(bytes: Buffer): string {
  if (bytes.length < LARGE || !hasIcu || isAscii(bytes)) return bytes.toString("utf8");
  // ICU refuses invalid input instead of replacing it; Node's decoder replaces it as the
  // encoding standard says.
  if (!isUtf8(bytes)) return bytes.toString("utf8");
  return transcode(bytes, "utf8", "ucs2").toString("ucs2");
}

/** The UTF-8 bytes of `text`, exactly as `Buffer.from(text)`. */
export function encodeUtf8(text: string): Buffer {
  if (text.length < LARGE || !hasIcu) return Buffer.from(text);
  try {
    // As fast as V8's path on ASCII, ≈2.7× faster on text with any other character.
    return transcode(Buffer.from(text, "ucs2"), "ucs2", "utf8");
  } catch {
    // A lone surrogate (never in JSON.stringify's output): Node replaces it with U+FFFD.
    return Buffer.from(text);
  }
}
