/**
 * Upstream request bodies as bytes, assembled from JSON text and from pieces encoded once.
 *
 * The transport sends bytes: a body handed over as a string is encoded to UTF-8 on every request
 * (undici's `Buffer.from`), and for a Claude Code turn — 57 KB, mostly UTF-16 text once it holds a
 * single non-ASCII character — that encoding cost more than serializing it. The parts that repeat
 * request after request (tool declarations, the system prompt: translation-memo.ts) are shared,
 * read-only objects; their bytes are made once per object here and only copied afterwards.
 * Encoding goes through `encodeUtf8` (≈2.7× faster than `Buffer.from` once the text is not ASCII).
 */
import { encodeUtf8 } from "./utf8.js";

const memoBytes = new WeakMap<object, Buffer>();

/** The UTF-8 bytes of `JSON.stringify(value)`, kept per object: only for shared, read-only values. */
export function bytesOf(value: object): Buffer {
  let bytes = memoBytes.get(value);
  if (bytes === undefined) {
    bytes = encodeUtf8(JSON.stringify(value));
    memoBytes.set(value, bytes);
  }
  return bytes;
}

/** Collects body pieces in order; `toBuffer` joins them with one copy. */
export class JsonBytes {
  private readonly pieces: Buffer[] = [];
  private length = 0;

  /** JSON text, encoded now. */
  text(json: string): this {
    return this.bytes(encodeUtf8(json));
  }

  /** Bytes already encoded (a memoized piece or a constant). */
  bytes(bytes: Buffer): this {
    this.pieces.push(bytes);
    this.length += bytes.length;
    return this;
  }

  /** A shared, read-only value: its bytes from the memo (`bytesOf`). */
  value(value: object): this {
    return this.bytes(bytesOf(value));
  }

  toBuffer(): Buffer {
    return this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.length);
  }
}

/** A constant fragment's bytes (module-level constants: made once). */
export function fragment(json: string): Buffer {
  return Buffer.from(json);
}

/**
 * `JSON.stringify(object)` minus its closing brace, for appending more members: the object must
 * serialize to a non-empty `{…}` (it has at least one member that is not undefined).
 */
export function openObject(out: JsonBytes, object: object): JsonBytes {
  const bytes = encodeUtf8(JSON.stringify(object));
  return out.bytes(bytes.subarray(0, bytes.length - 1));
}
