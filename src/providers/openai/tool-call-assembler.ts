/**
 * Assembles streamed Chat Completions tool-call fragments into whole calls (protocol.md G.2, G.3).
 *
 * Fragments are matched to calls by `id` when present (buggy relays give every parallel call
 * `index:0`), else by `index`, else (Gemini OpenAI-compat, some local servers omit `index`) they
 * continue the last call. Arguments may be split anywhere, and parallel calls may interleave, so
 * each call's arguments are buffered and the call is emitted whole (one `tool_use` block through
 * `EventBuilder.toolCall`) once it is known to be finished: when a later call starts, or text
 * arrives, and its arguments already parse — otherwise at the end of the stream. Calls are
 * emitted in the order they started.
 */
import { GatewayError } from "../../core/errors.js";
import type { EventBuilder } from "../../core/event-builder.js";
import { randomId } from "../../core/ids.js";
import type { StreamEvent } from "../../protocol/anthropic/types.js";
import type { ToolCallDelta } from "./chunk.js";
import { encodeToolUseId } from "./tool-ids.js";

interface PendingCall {
  id: string | undefined;
  name: string;
  args: string;
  signature: string | undefined;
}

export class ToolCallAssembler {
  private readonly calls: PendingCall[] = [];
  private readonly byIndex = new Map<number, PendingCall>();
  private readonly byId = new Map<string, PendingCall>();
  private last: PendingCall | undefined;
  /** calls[0 .. emitted) have been sent. */
  private emitted = 0;

  constructor(private readonly upstreamModel: string) {}

  /** Take one fragment; returns the events of earlier calls that this fragment shows are complete. */
  add(delta: ToolCallDelta, builder: EventBuilder): StreamEvent[] {
    let events: StreamEvent[] = [];
    let call = this.find(delta);
    if (call === undefined) {
      events = this.flushComplete(builder);
      call = { id: undefined, name: "", args: "", signature: undefined };
      this.calls.push(call);
    } else if (this.calls.indexOf(call) < this.emitted) {
      if ((delta.arguments ?? "").trim() === "") return events;
      throw malformed(`tool call "${call.name}" received arguments after it was complete`);
    }
    if (delta.id !== undefined && call.id === undefined) {
      call.id = delta.id;
      this.byId.set(delta.id, call);
    }
    if (delta.index !== undefined) this.byIndex.set(delta.index, call);
    // Servers send the name once or repeat it whole on every fragment: never concatenate.
    if (delta.name !== undefined && call.name === "") call.name = delta.name;
    if (delta.arguments !== undefined) call.args += delta.arguments;
    if (delta.signature !== undefined) call.signature = delta.signature;
    this.last = call;
    return events;
  }

  /** Emit the leading calls whose arguments already parse (called before text, or a new call). */
  flushComplete(builder: EventBuilder): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (let call = this.calls[this.emitted]; call !== undefined; call = this.calls[this.emitted]) {
      const input = call.args.trim() === "" ? undefined : parseArguments(call.args);
      if (input === undefined) break;
      events.push(...this.emit(call, input, builder));
    }
    return events;
  }

  /**
   * Emit every remaining call at the end of the stream: `""` arguments mean `{}`. Arguments that
   * do not parse are a broken upstream answer (retryable) — unless the turn hit the token limit,
   * where the cut-off call is dropped and `stop_reason:"max_tokens"` tells the client why.
   */
  flushAll(builder: EventBuilder, cutByLength: boolean): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (let call = this.calls[this.emitted]; call !== undefined; call = this.calls[this.emitted]) {
      const input = call.args.trim() === "" ? {} : parseArguments(call.args);
      if (input === undefined) {
        if (cutByLength) {
          this.emitted = this.calls.length;
          break;
        }
        throw malformed(`tool call "${call.name}" ended with arguments that are not a JSON object`);
      }
      events.push(...this.emit(call, input, builder));
    }
    return events;
  }

  private emit(call: PendingCall, input: Record<string, unknown>, builder: EventBuilder): StreamEvent[] {
    this.emitted++;
    if (call.name === "") throw malformed("tool call without a function name");
    const ref: { id: string; signature?: string; model?: string } = { id: call.id ?? `call_${randomId(24)}` };
    if (call.signature !== undefined) {
      ref.signature = call.signature;
      ref.model = this.upstreamModel;
    }
    return builder.toolCall(encodeToolUseId(ref), call.name, input);
  }

  private find(delta: ToolCallDelta): PendingCall | undefined {
    if (delta.id !== undefined) return this.byId.get(delta.id);
    const candidate = delta.index !== undefined ? this.byIndex.get(delta.index) : this.last;
    // No id, the same index (or none) as a call whose arguments are already complete, and a name
    // with fresh arguments: a new whole call (Gemini OpenAI-compat sends each call in one chunk).
    const startsNew =
      candidate !== undefined &&
      delta.name !== undefined &&
      (delta.arguments ?? "").trim() !== "" &&
      candidate.args.trim() !== "" &&
      parseArguments(candidate.args) !== undefined;
    return startsNew ? undefined : candidate;
  }
}

/** The arguments as an object; `null` (sent for no-argument tools) counts as `{}`. */
function parseArguments(args: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    return undefined;
  }
  if (value === null) return {};
  return typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function malformed(message: string): GatewayError {
  return new GatewayError({
    code: "UPSTREAM_MALFORMED",
    message: `Malformed upstream response: ${message}`,
    status: 500,
    type: "api_error",
    class: "transient",
  });
}
