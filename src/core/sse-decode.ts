/**
 * Upstream SSE bytes → messages, as an async generator (backpressure and `finally` for free)
 * yielding the messages of each read together (event-batches.ts says why).
 *
 * eventsource-parser handles the WHATWG framing rules: `\n`, `\r` and `\r\n` line ends, events
 * split anywhere across reads, multi-line `data:`. Bytes are decoded with a streaming
 * TextDecoder so a multi-byte UTF-8 character split across reads stays intact.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseMessage {
  event: string | undefined;
  data: string;
}

export async function* decodeSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage[]> {
  const decoder = new TextDecoder("utf-8");
  let pending: SseMessage[] = [];
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      pending.push({ event: message.event, data: message.data });
    },
  });
  let lastWasCr = false;
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== "") lastWasCr = text.endsWith("\r");
    parser.feed(text);
    if (pending.length > 0) {
      const ready = pending;
      pending = [];
      yield ready;
    }
  }
  parser.feed(decoder.decode());
  // A body ending in "\r\r" is complete, but the parser holds the last "\r" waiting for a
  // possible "\n": complete that line ending (only then — an event without its blank line stays
  // incomplete).
  if (lastWasCr) parser.feed("\n");
  // A final event without its blank line is incomplete by the SSE rules: eventsource-parser
  // drops it on reset, and the decoder then sees a stream that ended early.
  parser.reset({ consume: false });
  if (pending.length > 0) yield pending;
}
