import type { StreamEvent } from "../../src/protocol/anthropic/types.js";

/** Bytes split at the given offsets, as an upstream body would arrive. */
export async function* chunked(text: string, splits: number[] = []): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, "utf8");
  let at = 0;
  for (const s of [...splits].sort((a, b) => a - b)) {
    if (s <= at || s >= bytes.length) continue;
    yield bytes.subarray(at, s);
    at = s;
  }
  yield bytes.subarray(at);
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

export async function* fromArray(events: StreamEvent[], delayMs = 0): AsyncGenerator<StreamEvent> {
  for (const e of events) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield e;
  }
}
