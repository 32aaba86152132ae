/**
 * Chat Completions SSE → Anthropic stream events (protocol.md G.2, G.4).
 *
 * Text and reasoning are forwarded as they arrive (never buffered); tool calls are assembled by
 * `ToolCallAssembler` and emitted whole. The stream is complete when `data: [DONE]` arrives; a
 * body that ends without it was possibly cut by a proxy, and that is an error
 * (UPSTREAM_TRUNCATED), never a clean `message_stop`. For servers known to omit `[DONE]` the
 * `requireDone: false` option accepts a body that ends after a `finish_reason`.
 */
import { type GatewayError, upstreamBroken } from "../../core/errors.js";
import { decodeWith, type EventBatch, emit, type StreamDecoder } from "../../core/event-batches.js";
import { EventBuilder } from "../../core/event-builder.js";
import type { AttemptContext } from "../../core/provider.js";
import type { SseMessage } from "../../core/sse-decode.js";
import type { StreamEvent } from "../../protocol/anthropic/types.js";
import { type ParsedChunk, parseChunk } from "./chunk.js";
import { decodeStreamError } from "./errors.js";
import { mapFinishReason } from "./map-finish-reason.js";
import { ToolCallAssembler } from "./tool-call-assembler.js";
import { toAnthropicUsage } from "./usage.js";

/**
 * Signature given to every thinking block so clients echo the block back (Anthropic requires a
 * signature); the adapter drops it on the way back, no upstream verifies reasoning.
 */
export const THINKING_SIGNATURE = "oa1";

export function decodeChatStream(
  body: AsyncIterable<Uint8Array>,
  ctx: AttemptContext,
  requireDone = true,
): AsyncGenerator<EventBatch> {
  return decodeWith(body, new ChatStreamDecoder(ctx, requireDone));
}

class ChatStreamDecoder implements StreamDecoder {
  private readonly builder: EventBuilder;
  private readonly calls: ToolCallAssembler;
  private finishReason: string | undefined;
  private done = false;

  constructor(
    ctx: AttemptContext,
    private readonly requireDone: boolean,
  ) {
    this.builder = new EventBuilder({ model: ctx.requestedModel });
    this.calls = new ToolCallAssembler(ctx.upstreamModel);
  }

  message(message: SseMessage, out: StreamEvent[]): boolean {
    const { builder, calls } = this;
    const data = message.data.trim();
    if (data === "") return false;
    if (data === "[DONE]") {
      this.done = true;
      return true;
    }
    const chunk = parse(data);
    if (chunk.error !== undefined) throw decodeStreamError(chunk.error);
    emit(out, builder.start());
    if (chunk.usage !== undefined) builder.setUsage(toAnthropicUsage(chunk.usage));
    if (chunk.reasoning !== undefined && chunk.reasoning !== "") {
      emit(out, calls.flushComplete(builder));
      emit(out, builder.thinking(chunk.reasoning, THINKING_SIGNATURE));
    }
    if (chunk.content !== undefined && chunk.content !== "") {
      emit(out, calls.flushComplete(builder));
      emit(out, builder.text(chunk.content));
    }
    for (const delta of chunk.toolCalls) emit(out, calls.add(delta, builder));
    if (chunk.finishReason !== undefined) {
      // OpenRouter ends a failed generation with finish_reason "error" (and maybe no error object).
      if (chunk.finishReason === "error")
        throw upstreamError("UPSTREAM_ERROR", 'upstream ended the stream with finish_reason "error"');
      this.finishReason = chunk.finishReason;
    }
    return false;
  }

  end(out: StreamEvent[]): void {
    const { builder, finishReason } = this;
    if (!this.done && (this.requireDone || finishReason === undefined)) {
      throw upstreamError("UPSTREAM_TRUNCATED", "upstream stream ended before the response was complete");
    }
    emit(out, this.calls.flushAll(builder, finishReason === "length"));
    emit(out, builder.finish(mapFinishReason(finishReason, builder.hasToolCalls)));
  }
}

function parse(data: string): ParsedChunk {
  try {
    return parseChunk(data);
  } catch (err) {
    throw upstreamBroken(`Malformed upstream response: chunk is not JSON: ${data.slice(0, 200)}`, err);
  }
}

function upstreamError(code: string, message: string): GatewayError {
  return upstreamBroken(message, undefined, code);
}
