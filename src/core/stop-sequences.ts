/**
 * Stop sequences, detected by the gateway (protocol.md B.1): upstreams either do not say which
 * sequence matched (Gemini) or cap how many they take, so the text stream is scanned here. On a
 * match the text before it is sent, the message ends with `stop_reason: "stop_sequence"` and the
 * matched string, and the upstream is released. While a tail of the text could still be the start
 * of a sequence it is held back (at most the longest sequence − 1 characters).
 */
import type { StreamEvent } from "../protocol/anthropic/types.js";
import type { EventBatch } from "./event-batches.js";

export function withStopSequences(
  source: AsyncIterable<EventBatch>,
  sequences: readonly string[],
): AsyncIterable<EventBatch> {
  const stops = sequences.filter((s) => s !== "");
  // No sequences (Claude Code never sends any): no wrapper, no per-event cost.
  return stops.length === 0 ? source : scan(source, stops);
}

async function* scan(
  source: AsyncIterable<EventBatch>,
  stops: readonly string[],
): AsyncGenerator<EventBatch> {
  const scanner = new StopScanner(stops);
  for await (const batch of source) {
    const out: StreamEvent[] = [];
    const matched = batch.some((event) => scanner.event(event, out));
    if (out.length > 0) yield out;
    if (matched) return; // ends the source: the upstream request is released
  }
}

class StopScanner {
  private readonly longest: number;
  private held = "";
  private heldIndex = -1;
  private usage: Extract<StreamEvent, { type: "message_start" }>["message"]["usage"] | undefined;
  private outputChars = 0;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(...stops.map((s) => s.length));
  }

  /** Appends what goes out for `event`; true when a sequence matched and the message ended. */
  event(event: StreamEvent, out: StreamEvent[]): boolean {
    if (event.type === "message_start") this.usage = { ...event.message.usage };
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
      this.held += event.delta.text;
      this.heldIndex = event.index;
      const match = findFirst(this.held, this.stops);
      if (match !== undefined) {
        this.end(match, out);
        return true;
      }
      const safe = this.held.length - (this.longest - 1);
      if (safe > 0) {
        out.push(textDelta(this.heldIndex, this.held.slice(0, safe)));
        this.outputChars += safe;
        this.held = this.held.slice(safe);
      }
      return false;
    }
    if (this.held !== "" && event.type !== "ping") {
      out.push(textDelta(this.heldIndex, this.held));
      this.outputChars += this.held.length;
      this.held = "";
    }
    out.push(event);
    return false;
  }

  /** The text before the match, then the end of the message with the matched sequence. */
  private end(match: { at: number; sequence: string }, out: StreamEvent[]): void {
    const before = this.held.slice(0, match.at);
    if (before !== "") out.push(textDelta(this.heldIndex, before));
    this.outputChars += before.length;
    const output_tokens = Math.max(1, Math.ceil(this.outputChars / 4));
    const usage = this.usage;
    out.push(
      { type: "content_block_stop", index: this.heldIndex },
      {
        type: "message_delta",
        delta: { stop_reason: "stop_sequence", stop_sequence: match.sequence },
        usage: {
          input_tokens: usage?.input_tokens ?? 0,
          cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
          cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
          output_tokens,
        },
      },
      { type: "message_stop" },
    );
  }
}

function textDelta(index: number, text: string): StreamEvent {
  return { type: "content_block_delta", index, delta: { type: "text_delta", text } };
}

function findFirst(text: string, stops: readonly string[]): { at: number; sequence: string } | undefined {
  let best: { at: number; sequence: string } | undefined;
  for (const sequence of stops) {
    const at = text.indexOf(sequence);
    if (at !== -1 && (best === undefined || at < best.at)) best = { at, sequence };
  }
  return best;
}
