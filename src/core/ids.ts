import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// One crypto fill serves many ids: a syscall per id showed up in the gateway's CPU profile.
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** A random base62 string (ids such as `msg_…`, `toolu_…`, `req_…`). */
export function randomId(length: number): string {
  if (offset + length > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = "";
  // 248 = 62 × 4: bytes ≥ 248 are skipped so every character is equally likely.
  while (out.length < length) {
    if (offset >= pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const b = pool[offset++]!;
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}
