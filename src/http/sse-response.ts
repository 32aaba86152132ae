/**
 * Writes an event stream to the client, holding the HTTP status back until the first event
 * (content or keep-alive ping) is ready — the commit point (design.md §1). Before it, a failure
 * is a real HTTP status with a JSON body; after it, an Anthropic `event: error` — and a broken
 * stream never ends with `message_stop`. Socket backpressure is respected (`drain`).
 */
import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";
import type { GatewayError } from "../core/errors.js";
import { encodeSseEvent } from "../protocol/anthropic/sse-encode.js";
import type { StreamEvent } from "../protocol/anthropic/types.js";
import { errorBody, sendError } from "./errors.js";

export interface SseResponseOptions {
  requestId: string;
  /** Headers known at commit time (route, target). */
  headers: () => Record<string, string>;
  toError: (err: unknown) => GatewayError;
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
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "request-id": options.requestId,
    ...options.headers(),
  });
  let error: GatewayError | undefined;
  try {
    if (!first.done) await write(raw, encodeSseEvent(first.value));
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      await write(raw, encodeSseEvent(next.value));
    }
  } catch (err) {
    error = options.toError(err);
    if (!raw.destroyed) {
      const body = errorBody(error, options.requestId);
      // Claude Code retries a mid-stream error when its text says overloaded_error (protocol.md B.6).
      if (error.class === "transient") body.error.type = "overloaded_error";
      raw.write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
    }
  } finally {
    await iterator.return?.();
    raw.end();
    options.onEnd({ committed: true, error });
  }
}

function write(raw: ServerResponse, chunk: string): Promise<void> {
  if (raw.destroyed) return Promise.reject(new Error("client disconnected"));
  if (raw.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      raw.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      raw.off("drain", onDrain);
      reject(new Error("client disconnected"));
    };
    raw.once("drain", onDrain);
    raw.once("close", onClose);
  });
}
