/**
 * Writes an event stream to the client, holding the HTTP status back until the first event is
 * ready or the upstream has been silent for a ping interval — the commit point (design.md §1).
 * Before it, a failure is a real HTTP status with a JSON body; after it, an Anthropic
 * `event: error` — and a broken stream never ends with `message_stop`.
 *
 * Keep-alive lives here, on a single re-armed timer: after `pingIntervalMs` without an event a
 * `ping` frame goes straight to the socket (protocol.md B.6). Keeping it out of the event chain
 * saves a generator hop and a promise race per event.
 */
import type { FastifyReply } from "fastify";
import type { GatewayError } from "../core/errors.js";
import type { EventBatch } from "../core/event-batches.js";
import { encodeSseEvent } from "../protocol/anthropic/sse-encode.js";
import type { StreamEvent } from "../protocol/anthropic/types.js";
import { errorBody, sendError } from "./errors.js";
import { SseWriter } from "./sse-writer.js";

const PING_FRAME = encodeSseEvent({ type: "ping" });

export interface SseResponseOptions {
  requestId: string;
  /** Longest silence before a `ping` (also what forces the 200 out while nothing else is ready). */
  pingIntervalMs: number;
  /** Headers known at commit time (route, target), given the first event (undefined: a ping). */
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
  batches: AsyncIterable<EventBatch>,
  options: SseResponseOptions,
): Promise<void> {
  const raw = reply.raw;
  const iterator = batches[Symbol.asyncIterator]();
  let writer: SseWriter | undefined;

  const commit = (first: StreamEvent | undefined): SseWriter => {
    options.onCommit?.();
    reply.hijack();
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "request-id": options.requestId,
      ...options.headers(first),
    });
    return new SseWriter(raw);
  };
  const ping = setTimeout(function tick() {
    if (raw.destroyed) return;
    writer ??= commit(undefined);
    writer.push(PING_FRAME)?.catch(() => {});
    ping.refresh();
  }, options.pingIntervalMs);

  let error: GatewayError | undefined;
  try {
    for (;;) {
      const next = await iterator.next();
      ping.refresh();
      if (next.done) break;
      const batch = next.value;
      if (batch.length === 0) continue;
      writer ??= commit(batch[0]);
      let frames = "";
      for (const event of batch) {
        options.observe?.(event);
        frames += encodeSseEvent(event);
      }
      const backpressure = writer.push(frames);
      if (backpressure !== undefined) await backpressure;
    }
  } catch (err) {
    error = options.toError(err);
    if (writer === undefined) {
      // Nothing was sent yet: a real status with a JSON body (retry-after and all).
      clearTimeout(ping);
      options.onEnd({ committed: false, error });
      if (!raw.destroyed) await sendError(reply, error, options.requestId);
      return;
    }
    if (!raw.destroyed) {
      const body = errorBody(error, options.requestId);
      // Claude Code retries a mid-stream error when its text says overloaded_error (protocol.md B.6).
      if (error.class === "transient") body.error.type = "overloaded_error";
      writer.push(`event: error\ndata: ${JSON.stringify(body)}\n\n`)?.catch(() => {});
    }
  } finally {
    clearTimeout(ping);
  }
  await iterator.return?.();
  // An empty stream (never happens with a healthy upstream) still answers something valid.
  writer ??= commit(undefined);
  writer.end();
  options.onEnd({ committed: true, error });
}
