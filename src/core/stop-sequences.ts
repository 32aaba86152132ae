/**
 * Stop sequences, detected by the gateway (protocol.md B.1): upstreams either do not say which
 * sequence matched (Gemini) or cap how many they take, so the text stream is scanned here. On a
 * match the text before it is sent, the message ends with `stop_reason: "stop_sequence"` and the
 * matched string, and the upstream is released. While a tail of the text could still be the start
 * of a sequence it is held back (at most the longest sequence − 1 characters).
 */
import type { StreamEvent } from "../protocol/anthropic/types.js";

export function withStopSequences(
  source: AsyncIterable<StreamEvent>,
  sequences: readonly string[],
): AsyncIterable<StreamEvent> {
  const stops = sequences.filter((s) => s !== "");
  // No sequences (Claude Code never sends any): no wrapper, no per-event cost.
  return stops.length === 0 ? source : scan(source, stops);
}

async function* scan(
  source: AsyncIterable<StreamEvent>,
  stops: readonly string[],
): AsyncGenerator<StreamEvent> {
  const longest = Math.max(...stops.map((s) => s.length));
  let held = "";
  let heldIndex = -1;
  let usage: Extract<StreamEvent, { type: "message_start" }>["message"]["usage"] | undefined;
  let outputChars = 0;

  for await (const event of source) {
    if (event.type === "message_start") usage = { ...event.message.usage };
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
      held += event.delta.text;
      heldIndex = event.index;
      const match = findFirst(held, stops);
      if (match !== undefined) {
        const before = held.slice(0, match.at);
        if (before !== "") yield textDelta(heldIndex, before);
        outputChars += before.length;
        const output_tokens = Math.max(1, Math.ceil(outputChars / 4));
        yield { type: "content_block_stop", index: heldIndex };
        yield {
          type: "message_delta",
          delta: { stop_reason: "stop_sequence", stop_sequence: match.sequence },
          usage: {
            input_tokens: usage?.input_tokens ?? 0,
            cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
            cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
            output_tokens,
          },
        };
        yield { type: "message_stop" };
        return; // ends the source: the upstream request is released
      }
      const safe = held.length - (longest - 1);
      if (safe > 0) {
        yield textDelta(heldIndex, held.slice(0, safe));
        outputChars += safe;
        held = held.slice(safe);
      }
      continue;
    }
    if (held !== "" && event.type !== "ping") {
      yield textDelta(heldIndex, held);
      outputChars += held.length;
      held = "";
    }
    yield event;
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
