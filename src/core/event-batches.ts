/**
 * Events travel from a decoder through the attempt loop to the HTTP writer in batches: all the
 * events one upstream read produced. One network read usually holds several upstream chunks, and
 * passing every event through each async stage cost a promise hop per stage per event — the
 * largest item of the gateway's CPU profile after JSON itself. Per read, the hops are few, and
 * streaming stays exactly as live as the upstream's own reads: nothing waits for a later read.
 */
import type { StreamEvent } from "../protocol/anthropic/types.js";
import { type SseMessage, SseSplitter } from "./sse-decode.js";

/** The events of one upstream read, in order; never empty. */
export type EventBatch = StreamEvent[];

/**
 * A provider's stream translation as synchronous steps, driven by `decodeWith`.
 * Both methods append the events to emit to `out`, and throw a GatewayError on a broken stream.
 */
export interface StreamDecoder {
  /** One upstream SSE message. Returns true when the answer is complete: reading stops. */
  message(message: SseMessage, out: StreamEvent[]): boolean;
  /** The body ended, or `message` said the answer is complete. */
  end(out: StreamEvent[]): void;
}

/**
 * Upstream SSE bytes → event batches through `decoder`, straight from the body (one async step
 * per read). The events a step emitted before it threw still go out first, so the commit point
 * sees them exactly as if each had been yielded.
 */
export async function* decodeWith(
  body: AsyncIterable<Uint8Array>,
  decoder: StreamDecoder,
): AsyncGenerator<EventBatch> {
  const splitter = new SseSplitter();
  let complete = false;
  for await (const chunk of body) {
    const messages = splitter.feed(chunk);
    if (messages.length === 0) continue;
    const out: StreamEvent[] = [];
    const step = attempt(() => messages.some((message) => decoder.message(message, out)));
    if (out.length > 0) yield out;
    if (step.failed) throw step.error;
    if (step.value) {
      complete = true;
      break;
    }
  }
  const out: StreamEvent[] = [];
  const step = attempt(() => {
    // The body's last messages, unless the answer was already complete.
    if (!complete) splitter.end().some((message) => decoder.message(message, out));
    decoder.end(out);
  });
  if (out.length > 0) yield out;
  if (step.failed) throw step.error;
}

type Outcome<T> = { failed: false; value: T } | { failed: true; error: unknown };

function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { failed: false, value: fn() };
  } catch (error) {
    return { failed: true, error };
  }
}

/** Append `events` to `out` (the EventBuilder's methods return small arrays). */
export function emit(out: StreamEvent[], events: readonly StreamEvent[]): void {
  for (let i = 0; i < events.length; i++) out.push(events[i]!);
}
