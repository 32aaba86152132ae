/**
 * Non-streaming responses are the accumulation of the stream (design.md §1): the same events a
 * streaming client would get, folded into one Message the way the SDK's MessageStream does.
 */
import { GatewayError, STATUS_FOR_TYPE, upstreamBroken } from "../../core/errors.js";
import type { ContentBlock, Message, StreamEvent } from "./types.js";

export async function accumulateMessage(batches: AsyncIterable<readonly StreamEvent[]>): Promise<Message> {
  const iterator = batches[Symbol.asyncIterator]();
  const message = await readMessage(iterator);
  await iterator.return?.();
  return message;
}

/**
 * `accumulateMessage` for a caller that sends the answer before the stream is closed: returns at
 * `message_stop` and leaves `iterator` open, so the stream's cleanup (slots, timers, the upstream
 * connection) runs after the answer is out instead of before. On failure the iterator is closed
 * before the error propagates.
 */
export async function readMessage(iterator: AsyncIterator<readonly StreamEvent[]>): Promise<Message> {
  const accumulator = new MessageAccumulator();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      for (const event of next.value) {
        const message = accumulator.add(event);
        if (message !== undefined) return message;
      }
    }
  } catch (err) {
    // The error that ended the message is the one to report, not a failure while closing.
    await Promise.resolve(iterator.return?.()).catch(() => {});
    throw err;
  }
  throw upstreamBroken(
    "The upstream stream ended before the message was complete",
    undefined,
    "UPSTREAM_TRUNCATED",
  );
}

class MessageAccumulator {
  private message: Message | undefined;
  private readonly partialJson = new Map<number, string>();

  /** Fold in one event; returns the finished Message at `message_stop`. */
  add(event: StreamEvent): Message | undefined {
    const { message, partialJson } = this;
    switch (event.type) {
      case "message_start":
        this.message = { ...event.message, content: [], usage: { ...event.message.usage } };
        return undefined;
      case "content_block_start":
        requireMessage(message).content[event.index] = { ...event.content_block } as ContentBlock;
        return undefined;
      case "content_block_delta":
        applyDelta(requireMessage(message).content[event.index], event, partialJson);
        return undefined;
      case "content_block_stop": {
        const block = requireMessage(message).content[event.index];
        const json = partialJson.get(event.index);
        if ((block?.type === "tool_use" || block?.type === "server_tool_use") && json !== undefined) {
          block.input = json === "" ? {} : (JSON.parse(json) as Record<string, unknown>);
          partialJson.delete(event.index);
        }
        return undefined;
      }
      case "message_delta": {
        const m = requireMessage(message);
        m.stop_reason = event.delta.stop_reason;
        m.stop_sequence = event.delta.stop_sequence;
        // Cumulative totals; a missing (or null) counter keeps its value (SDK semantics, protocol.md B.5).
        for (const [k, v] of Object.entries(event.usage))
          if (v !== undefined && v !== null) Object.assign(m.usage, { [k]: v });
        return undefined;
      }
      case "message_stop":
        return requireMessage(message);
      case "ping":
        return undefined;
      case "error":
        throw new GatewayError({
          code: "STREAM_ERROR",
          message: event.error.message,
          type: event.error.type,
          status: STATUS_FOR_TYPE[event.error.type],
          class: "transient",
        });
      default: {
        const never: never = event;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }
}

function requireMessage(message: Message | undefined): Message {
  if (message === undefined) throw new Error("content event before message_start");
  return message;
}

function applyDelta(
  block: ContentBlock | undefined,
  event: Extract<StreamEvent, { type: "content_block_delta" }>,
  partialJson: Map<number, string>,
): void {
  const delta = event.delta;
  if (block === undefined) throw new Error(`delta for unknown block ${event.index}`);
  if (delta.type === "text_delta" && block.type === "text") block.text += delta.text;
  else if (delta.type === "thinking_delta" && block.type === "thinking") block.thinking += delta.thinking;
  else if (delta.type === "signature_delta" && block.type === "thinking") block.signature = delta.signature;
  else if (
    delta.type === "input_json_delta" &&
    (block.type === "tool_use" || block.type === "server_tool_use")
  )
    partialJson.set(event.index, (partialJson.get(event.index) ?? "") + delta.partial_json);
  else if (delta.type === "citations_delta" && block.type === "text")
    block.citations = [...(block.citations ?? []), delta.citation];
  else throw new Error(`delta ${delta.type} does not fit block ${block.type}`);
}
