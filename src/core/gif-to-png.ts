/**
 * GIF → PNG, for upstreams that refuse GIF (Gemini accepts png/jpeg/webp/heic/heif only and
 * answers `400 Unsupported MIME type: image/gif`, protocol.md F.2). Claude Code sends a GIF as it
 * is when it reads one, and keeps it in the history, so an unconverted GIF would fail every later
 * turn of the session.
 *
 * The first frame is converted (what a still image of an animation shows); omggif decodes, pngjs
 * encodes, both pure JavaScript. The same image comes back in every turn of a session, so results
 * are kept in a small memo keyed by a hash of the data. A GIF that cannot be decoded, or whose
 * canvas is too large to decode safely, is reported instead of converted.
 */
import { createHash } from "node:crypto";
import { GifReader } from "omggif";
import { PNG } from "pngjs";

/** Decoded pixels are width × height × 4 bytes: 16 MP is 64 MB, far above what Claude Code sends. */
const MAX_PIXELS = 16_000_000;
const MEMO_ENTRIES = 16;

export type GifConversion = { ok: true; base64: string } | { ok: false; reason: string };

const memo = new Map<string, GifConversion>();

/** The first frame of a base64 GIF as base64 PNG, or why it cannot be converted. */
export function gifToPng(base64: string): GifConversion {
  const key = createHash("sha256").update(base64).digest("base64");
  const known = memo.get(key);
  if (known !== undefined) {
    memo.delete(key); // most recently used last
    memo.set(key, known);
    return known;
  }
  const result = convert(Buffer.from(base64, "base64"));
  memo.set(key, result);
  if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
  return result;
}

function convert(bytes: Buffer): GifConversion {
  let reader: GifReader;
  try {
    reader = new GifReader(bytes);
  } catch (err) {
    return { ok: false, reason: `not a readable GIF (${err instanceof Error ? err.message : String(err)})` };
  }
  const { width, height } = reader;
  if (width * height > MAX_PIXELS) {
    return { ok: false, reason: `the GIF is ${width}×${height} pixels, more than ${MAX_PIXELS} to decode` };
  }
  if (reader.numFrames() === 0 || width === 0 || height === 0)
    return { ok: false, reason: "the GIF has no image" };
  const png = new PNG({ width, height });
  try {
    reader.decodeAndBlitFrameRGBA(0, png.data);
  } catch (err) {
    return { ok: false, reason: `the GIF is corrupt (${err instanceof Error ? err.message : String(err)})` };
  }
  return { ok: true, base64: PNG.sync.write(png).toString("base64") };
}
