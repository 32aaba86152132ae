import type { AttemptContext } from "../../src/core/provider.js";
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

/** Events as a batched stream (event-batches.ts), one event per batch: the finest batching. */
export async function* fromArray(events: StreamEvent[], delayMs = 0): AsyncGenerator<StreamEvent[]> {
  for (const e of events) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield [e];
  }
}

/** Every event of a batched stream, in order. */
export async function collectEvents(batches: AsyncIterable<readonly StreamEvent[]>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

/** The bytes as an async body, cut at the given offsets (sorted, deduplicated, in range). */
export async function* bytesBody(
  bytes: Uint8Array,
  cuts: readonly number[] = [],
): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= start || cut >= bytes.length) continue;
    yield bytes.slice(start, cut);
    start = cut;
  }
  if (start < bytes.length) yield bytes.slice(start);
}

/** An attempt context for decoder tests: a one-line request for `requested`, served by `upstreamModel`. */
export function decodeContext(
  requested: string,
  upstreamModel: string,
  baseUrl: string,
  apiKey: string,
): AttemptContext {
  return {
    requestedModel: requested,
    upstreamModel,
    baseUrl,
    apiKey,
  };
}
