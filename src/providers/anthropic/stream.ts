/**
 * Upstream Anthropic SSE → the gateway's StreamEvents, passed through with minimal work.
 *
 * The upstream already speaks the internal language (design.md §1), so events are NOT rebuilt
 * through the EventBuilder: block indexes, ids, thinking text and signatures stay exactly as the
 * upstream sent them (a re-numbered index or altered signature makes the next request fail,
 * protocol.md A.3). The decoder only:
 * - rewrites `message_start.message.model` to the model the client asked for;
 * - drops `ping` (the core makes its own keep-alives, protocol.md B.6);
 * - turns an in-band `event: error` into a thrown GatewayError (B.6);
 * - skips event types it does not know (future additions), so clients never see them;
 * - checks just enough for the core to rely on the stream: JSON objects with a `type`,
 *   `message_start` first, numeric block indexes, and a final `message_stop` (a body that ends
 *   without one is a truncated answer, never a complete one).
 */
import { upstreamBroken } from "../../core/errors.js";
import { decodeWith, type EventBatch, type StreamDecoder } from "../../core/event-batches.js";
import type { AttemptContext } from "../../core/provider.js";
import type { SseMessage } from "../../core/sse-decode.js";
import type { StreamEvent } from "../../protocol/anthropic/types.js";
import { decodeInBandError } from "./errors.js";

type UpstreamEvent = Record<string, unknown> & { type: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(message: string, cause?: unknown) {
  return upstreamBroken(`Malformed upstream stream: ${message}`, cause, "UPSTREAM_MALFORMED");
}

function parseEvent(data: string): UpstreamEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (err) {
    throw malformed("an event is not valid JSON", err);
  }
  if (!isRecord(json) || typeof json.type !== "string") throw malformed("an event has no type", data);
  return json as UpstreamEvent;
}

/** A typed block (`content_block` / `delta`) with a string `type`. */
function hasTypedField(event: UpstreamEvent, field: string): boolean {
  const value = event[field];
  return isRecord(value) && typeof value.type === "string";
}

/** The checks the core's accumulator and encoder rely on, per known event type. */
function isWellFormed(event: UpstreamEvent): boolean {
  switch (event.type) {
    case "content_block_start":
      return typeof event.index === "number" && hasTypedField(event, "content_block");
    case "content_block_delta":
      return typeof event.index === "number" && hasTypedField(event, "delta");
    case "content_block_stop":
      return typeof event.index === "number";
    case "message_delta":
      return isRecord(event.delta);
    default:
      return true;
  }
}

/**
 * The one place an upstream event becomes a StreamEvent. The upstream is an Anthropic Messages
 * endpoint, so the shape is already right for the fields checked in `isWellFormed`; block and
 * delta types outside the narrow union (`server_tool_use`, `web_search_tool_result`,
 * `citations_delta`, extra usage fields…) pass through unchanged, which the type cannot express.
 */
function asStreamEvent(event: UpstreamEvent): StreamEvent {
  return event as unknown as StreamEvent;
}

const PASSED_THROUGH: ReadonlySet<string> = new Set([
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "message_delta",
]);

/** Decode an Anthropic-compatible upstream's SSE body. Throws GatewayError on a broken stream. */
export function decodeAnthropicStream(
  body: AsyncIterable<Uint8Array>,
  ctx: Pick<AttemptContext, "requestedModel">,
): AsyncGenerator<EventBatch> {
  return decodeWith(body, new RelayStreamDecoder(ctx.requestedModel));
}

class RelayStreamDecoder implements StreamDecoder {
  private started = false;
  private stopped = false;

  constructor(private readonly requestedModel: string) {}

  message(sse: SseMessage, out: StreamEvent[]): boolean {
    const event = parseEvent(sse.data);
    switch (event.type) {
      case "ping":
        return false;
      case "error":
        throw decodeInBandError(event);
      case "message_start": {
        const message = event.message;
        if (this.started || !isRecord(message)) throw malformed("unexpected message_start", event);
        this.started = true;
        // The parsed object is ours: rewriting in place avoids a copy per stream.
        message.model = this.requestedModel;
        out.push(asStreamEvent(event));
        return false;
      }
      case "message_stop":
        if (!this.started) throw malformed("message_stop before message_start", event);
        out.push(asStreamEvent(event));
        // The answer is complete; reading stops, which releases the upstream body.
        this.stopped = true;
        return true;
      default:
        if (!PASSED_THROUGH.has(event.type)) return false; // a future event type: not ours to forward
        if (!this.started) throw malformed(`${event.type} before message_start`, event);
        if (!isWellFormed(event)) throw malformed(`${event.type} is missing a field`, event);
        out.push(asStreamEvent(event));
        return false;
    }
  }

  end(): void {
    if (this.stopped) return;
    throw upstreamBroken(
      this.started ? "Upstream stream ended before message_stop" : "Upstream stream ended without any event",
      undefined,
      "UPSTREAM_TRUNCATED",
    );
  }
}
