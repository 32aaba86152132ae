/**
 * Upstream SSE bytes → messages. `SseSplitter` is the synchronous core (the decoders drive it
 * straight from the body, event-batches.ts); `decodeSse` is the same as an async generator
 * yielding the messages of each read together.
 *
 * eventsource-parser handles the WHATWG framing rules: `\n`, `\r` and `\r\n` line ends, events
 * split anywhere across reads, multi-line `data:`. Bytes are decoded with Node's StringDecoder,
 * which keeps a multi-byte UTF-8 character split across reads intact (and replaces invalid bytes
 * with U+FFFD, as the SSE rules ask) at a third of TextDecoder's cost per read; a leading
 * byte-order mark is dropped, as the rules also ask.
 */
import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";

export interface SseMessage {
  event: string | undefined;
  data: string;
}

export class SseSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private first = true;
  private readonly parser: EventSourceParser;
  private pending: SseMessage[] = [];
  private lastWasCr = false;

  constructor() {
    this.parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.pending.push({ event: message.event, data: message.data });
      },
    });
  }

  /** The messages completed by this read (often none, often several). */
  feed(chunk: Uint8Array): SseMessage[] {
    let text = this.decoder.write(chunk);
    if (text === "") return NONE;
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.lastWasCr = text.endsWith("\r");
    this.parser.feed(text);
    return this.take();
  }

  /** The body ended: the messages it completed. */
  end(): SseMessage[] {
    this.parser.feed(this.decoder.end());
    // A body ending in "\r\r" is complete, but the parser holds the last "\r" waiting for a
    // possible "\n": complete that line ending (only then — an event without its blank line
    // stays incomplete).
    if (this.lastWasCr) this.parser.feed("\n");
    // A final event without its blank line is incomplete by the SSE rules: eventsource-parser
    // drops it on reset, and the decoder then sees a stream that ended early.
    this.parser.reset({ consume: false });
    return this.take();
  }

  private take(): SseMessage[] {
    if (this.pending.length === 0) return NONE;
    const ready = this.pending;
    this.pending = [];
    return ready;
  }
}

const NONE: SseMessage[] = [];

export async function* decodeSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage[]> {
  const splitter = new SseSplitter();
  for await (const chunk of body) {
    const messages = splitter.feed(chunk);
    if (messages.length > 0) yield messages;
  }
  const last = splitter.end();
  if (last.length > 0) yield last;
}
