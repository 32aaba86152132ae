/**
 * Writes an event stream to the client, holding the HTTP status back until the first event
 * (content or keep-alive ping) is ready — the commit point (design.md §1). Before it, a failure
 * is a real HTTP status with a JSON body; after it, an Anthropic `event: error` — and a broken
 * stream never ends with `message_stop`. Socket backpressure is respected (`drain`).
 */
import type { FastifyReply } from "fastify";
import type { GatewayError } from "../core/errors.js";
import { encodeSseEvent } from "../protocol/anthropic/sse-encode.js";
import type { StreamEvent } from "../protocol/anthropic/types.js";
import { errorBody, sendError } from "./errors.js";
import { SseWriter } from "./sse-writer.js";

export interface SseResponseOptions {
  requestId: string;
  /** Headers known at commit time (route, target), given the first event. */
  headers: (first: StreamEvent | undefined) => Record<string, string>;
  toError: (err: unknown) => GatewayError;
  /** Sees every event on its way out (usage, stop reason). */
  observe?: (event: StreamEvent) => void;
  /** The status line is about to go out. */
  onCommit?: () => void;
  /** Called once with the outcome, for logs and metrics. */
  onEnd: (outcome: { committed: boolean; error: GatewayError | undefined }) => void;
}

export async function sendSse(
  reply: FastifyReply,
  events: AsyncIterable<StreamEvent>,
  options: SseResponseOptions,
): Promise<void> {
  const iterator = events[Symbol.asyncIterator]();
  let first: IteratorResult<StreamEvent>;
  try {
    first = await iterator.next();
  } catch (err) {
    const error = options.toError(err);
    options.onEnd({ committed: false, error });
    if (!reply.raw.destroyed) await sendError(reply, error, options.requestId);
    return;
  }
  const raw = reply.raw;
  options.onCommit?.();
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "request-id": options.requestId,
    ...options.headers(first.done ? undefined : first.value),
  });
  const writer = new SseWriter(raw);
  let error: GatewayError | undefined;
  try {
    if (!first.done) {
      options.observe?.(first.value);
      await writer.push(encodeSseEvent(first.value));
    }
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      options.observe?.(next.value);
      const backpressure = writer.push(encodeSseEvent(next.value));
      if (backpressure !== undefined) await backpressure;
    }
  } catch (err) {
    error = options.toError(err);
    if (!raw.destroyed) {
      const body = errorBody(error, options.requestId);
      // Claude Code retries a mid-stream error when its text says overloaded_error (protocol.md B.6).
      if (error.class === "transient") body.error.type = "overloaded_error";
      writer.push(`event: error\ndata: ${JSON.stringify(body)}\n\n`)?.catch(() => {});
    }
  } finally {
    await iterator.return?.();
    writer.end();
    options.onEnd({ committed: true, error });
  }
}
