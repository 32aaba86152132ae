/**
 * Chat Completions SSE → Anthropic stream events (protocol.md G.2, G.4).
 *
 * Text and reasoning are forwarded as they arrive (never buffered); tool calls are assembled by
 * `ToolCallAssembler` and emitted whole. The stream is complete when `data: [DONE]` arrives; a
 * body that ends without it was possibly cut by a proxy, and that is an error
 * (UPSTREAM_TRUNCATED), never a clean `message_stop`. For servers known to omit `[DONE]` the
 * `requireDone: false` option accepts a body that ends after a `finish_reason`.
 */
import { GatewayError } from "../../core/errors.js";
import { EventBuilder } from "../../core/event-builder.js";
import type { AttemptContext } from "../../core/provider.js";
import { decodeSse } from "../../core/sse-decode.js";
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

export async function* decodeChatStream(
  body: AsyncIterable<Uint8Array>,
  ctx: AttemptContext,
  requireDone = true,
): AsyncGenerator<StreamEvent> {
  const builder = new EventBuilder({ model: ctx.requestedModel });
  const calls = new ToolCallAssembler(ctx.upstreamModel);
  let finishReason: string | undefined;
  let done = false;
  for await (const message of decodeSse(body)) {
    const data = message.data.trim();
    if (data === "") continue;
    if (data === "[DONE]") {
      done = true;
      break;
    }
    const chunk = parse(data);
    if (chunk.error !== undefined) throw decodeStreamError(chunk.error);
    yield* builder.start();
    if (chunk.usage !== undefined) builder.setUsage(toAnthropicUsage(chunk.usage));
    if (chunk.reasoning !== undefined && chunk.reasoning !== "") {
      yield* calls.flushComplete(builder);
      yield* builder.thinking(chunk.reasoning, THINKING_SIGNATURE);
    }
    if (chunk.content !== undefined && chunk.content !== "") {
      yield* calls.flushComplete(builder);
      yield* builder.text(chunk.content);
    }
    for (const delta of chunk.toolCalls) yield* calls.add(delta, builder);
    if (chunk.finishReason !== undefined) {
      // OpenRouter ends a failed generation with finish_reason "error" (and maybe no error object).
      if (chunk.finishReason === "error")
        throw upstreamError("UPSTREAM_ERROR", 'upstream ended the stream with finish_reason "error"');
      finishReason = chunk.finishReason;
    }
  }
  if (!done && (requireDone || finishReason === undefined)) {
    throw upstreamError("UPSTREAM_TRUNCATED", "upstream stream ended before the response was complete");
  }
  yield* calls.flushAll(builder, finishReason === "length");
  yield* builder.finish(mapFinishReason(finishReason, builder.hasToolCalls));
}

function parse(data: string): ParsedChunk {
  try {
    return parseChunk(data);
  } catch (err) {
    throw new GatewayError({
      code: "UPSTREAM_MALFORMED",
      message: `Malformed upstream response: chunk is not JSON: ${data.slice(0, 200)}`,
      status: 500,
      type: "api_error",
      class: "transient",
      cause: err,
    });
  }
}

function upstreamError(code: string, message: string): GatewayError {
  return new GatewayError({ code, message, status: 529, type: "overloaded_error", class: "transient" });
}
