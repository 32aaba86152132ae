/**
 * Builds a valid Anthropic event sequence from provider-level facts.
 *
 * Owns the invariants of protocol.md B.2–B.5 so adapters never number blocks themselves:
 * one `message_start`; block indexes 0,1,2… in order; one open block at a time; a thinking
 * block's `signature_delta` just before its `content_block_stop`; tool input sent as
 * `input_json_delta` strings that concatenate to one JSON object; `message_delta` usage as
 * cumulative totals; `message_stop` last. Every method returns the events to emit now, so a
 * decoder can `yield*` them as each upstream chunk arrives.
 */
import type {
  ContentBlock,
  MessageDeltaEvent,
  StopReason,
  StreamEvent,
  Usage,
} from "../protocol/anthropic/types.js";
import { randomId } from "./ids.js";

/** One hit inside a `web_search_tool_result` block (protocol.md A.3; SDK `WebSearchResultBlock`). */
export interface WebSearchResult {
  type: "web_search_result";
  url: string;
  title: string;
  /** Opaque to clients; Anthropic's is an encrypted page excerpt it reads back on later turns. */
  encrypted_content: string;
  page_age: string | null;
}

/** A failed search, in place of the result list (SDK `WebSearchToolResultError`). */
export interface WebSearchToolError {
  type: "web_search_tool_result_error";
  error_code:
    | "invalid_tool_input"
    | "unavailable"
    | "max_uses_exceeded"
    | "too_many_requests"
    | "query_too_long";
}

/** A text block's citation of a search result (SDK `CitationsWebSearchResultLocation`). */
export interface WebSearchCitation {
  type: "web_search_result_location";
  url: string;
  title: string | null;
  cited_text: string;
  encrypted_index: string;
}

type OpenBlock =
  | { kind: "text"; index: number }
  | { kind: "thinking"; index: number; signature: string | undefined }
  | { kind: "tool_use"; index: number; id: string; sentJson: boolean };

export interface EventBuilderOptions {
  /** The model name the client asked for; echoed back in `message_start`. */
  model: string;
  messageId?: string;
}

export class EventBuilder {
  readonly messageId: string;
  private readonly model: string;
  private started = false;
  private finished = false;
  private open: OpenBlock | undefined;
  private nextIndex = 0;
  private toolCalls = 0;
  private webSearchRequests = 0;
  private readonly usage: Usage = {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };

  constructor(options: EventBuilderOptions) {
    this.model = options.model;
    this.messageId = options.messageId ?? `msg_${randomId(24)}`;
  }

  /** True once any content block was opened. */
  get hasContent(): boolean {
    return this.nextIndex > 0;
  }

  get hasToolCalls(): boolean {
    return this.toolCalls > 0;
  }

  get isStarted(): boolean {
    return this.started;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Index of the open block when it is a text block (where a citation can still be added). */
  get openTextIndex(): number | undefined {
    return this.open?.kind === "text" ? this.open.index : undefined;
  }

  /** Merge the best-known usage (cumulative totals; missing fields keep their value). */
  setUsage(usage: Partial<Usage>): void {
    if (usage.input_tokens !== undefined) this.usage.input_tokens = usage.input_tokens;
    if (usage.output_tokens !== undefined) this.usage.output_tokens = usage.output_tokens;
    if (usage.cache_read_input_tokens !== undefined)
      this.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
    if (usage.cache_creation_input_tokens !== undefined)
      this.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
  }

  /** `message_start`, once. Called implicitly by every content method. */
  start(): StreamEvent[] {
    if (this.started) return [];
    this.started = true;
    return [
      {
        type: "message_start",
        message: {
          id: this.messageId,
          type: "message",
          role: "assistant",
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // output_tokens starts at 1 like the real API; the final count comes in message_delta.
          usage: { ...this.usage, output_tokens: Math.max(1, this.usage.output_tokens) },
        },
      },
    ];
  }

  text(text: string): StreamEvent[] {
    if (text === "") return [];
    const events = this.ensureOpen("text");
    events.push({
      type: "content_block_delta",
      index: this.nextIndex - 1,
      delta: { type: "text_delta", text },
    });
    return events;
  }

  /** Thinking text; `signature` (if any) is held and sent just before the block closes. */
  thinking(thinking: string, signature?: string): StreamEvent[] {
    if (thinking === "" && signature === undefined) return [];
    const events = this.ensureOpen("thinking");
    const block = this.open;
    if (thinking !== "") {
      events.push({
        type: "content_block_delta",
        index: this.nextIndex - 1,
        delta: { type: "thinking_delta", thinking },
      });
    }
    if (signature !== undefined && block?.kind === "thinking") block.signature = signature;
    return events;
  }

  /** A complete `redacted_thinking` block (no deltas, protocol.md B.3). */
  redactedThinking(data: string): StreamEvent[] {
    const events = [...this.start(), ...this.closeOpen()];
    const index = this.nextIndex++;
    events.push(
      { type: "content_block_start", index, content_block: { type: "redacted_thinking", data } },
      { type: "content_block_stop", index },
    );
    return events;
  }

  /** A whole tool call: start, one `input_json_delta` with the full JSON, stop. */
  toolCall(id: string, name: string, input: Record<string, unknown>): StreamEvent[] {
    const events = this.toolCallStart(id, name);
    events.push(...this.toolInputDelta(JSON.stringify(input)));
    events.push(...this.closeOpen());
    return events;
  }

  /** Open a tool_use block whose input arrives in pieces via `toolInputDelta`. */
  toolCallStart(id: string, name: string): StreamEvent[] {
    const events = [...this.start(), ...this.closeOpen()];
    events.push(...this.openBlock({ type: "tool_use", id, name, input: {} }));
    this.toolCalls++;
    return events;
  }

  /** A piece of the open tool call's input JSON. */
  toolInputDelta(partialJson: string): StreamEvent[] {
    const block = this.open;
    if (block?.kind !== "tool_use" || partialJson === "") return [];
    block.sentJson = true;
    return [
      {
        type: "content_block_delta",
        index: block.index,
        delta: { type: "input_json_delta", partial_json: partialJson },
      },
    ];
  }

  /**
   * A whole server tool call (web search run by the upstream, protocol.md A.3): `content_block_start`
   * with `input: {}`, the input as one `input_json_delta`, stop — the shape Anthropic streams. It is
   * not a client tool call, so it never makes the stop reason `tool_use`.
   */
  serverToolUse(id: string, name: string, input: Record<string, unknown>): StreamEvent[] {
    const events = [...this.start(), ...this.closeOpen()];
    const index = this.nextIndex++;
    events.push(
      { type: "content_block_start", index, content_block: { type: "server_tool_use", id, name, input: {} } },
      {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(input) },
      },
      { type: "content_block_stop", index },
    );
    if (name === "web_search") this.webSearchRequests++;
    return events;
  }

  /** A whole `web_search_tool_result` block: Anthropic sends its content in `content_block_start`, no deltas. */
  webSearchResult(
    toolUseId: string,
    content: readonly WebSearchResult[] | WebSearchToolError,
  ): StreamEvent[] {
    const events = [...this.start(), ...this.closeOpen()];
    const index = this.nextIndex++;
    events.push(
      {
        type: "content_block_start",
        index,
        content_block: {
          type: "web_search_tool_result",
          tool_use_id: toolUseId,
          content: Array.isArray(content) ? [...content] : content,
        },
      },
      { type: "content_block_stop", index },
    );
    return events;
  }

  /** A `citations_delta` on the open text block; nothing when no text block is open. */
  citation(citation: WebSearchCitation): StreamEvent[] {
    const index = this.openTextIndex;
    if (index === undefined) return [];
    return [{ type: "content_block_delta", index, delta: { type: "citations_delta", citation } }];
  }

  /** Close whatever block is open (e.g. when the upstream switches to a different tool call). */
  closeBlock(): StreamEvent[] {
    return this.closeOpen();
  }

  /** Close the open block, then `message_delta` (final usage + stop reason) and `message_stop`. */
  finish(stopReason: StopReason, stopSequence: string | null = null): StreamEvent[] {
    if (this.finished) return [];
    const events = [...this.start(), ...this.closeOpen()];
    this.finished = true;
    // `server_tool_use` is sent only when a server tool ran (protocol.md B.5).
    const usage: MessageDeltaEvent["usage"] = { ...this.usage };
    if (this.webSearchRequests > 0) {
      usage.server_tool_use = { web_search_requests: this.webSearchRequests, web_fetch_requests: 0 };
    }
    events.push(
      { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage },
      { type: "message_stop" },
    );
    return events;
  }

  private ensureOpen(kind: "text" | "thinking"): StreamEvent[] {
    const events = this.start();
    if (this.open?.kind === kind) return events;
    events.push(...this.closeOpen());
    events.push(
      ...this.openBlock(
        kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
      ),
    );
    return events;
  }

  private openBlock(block: Exclude<ContentBlock, { type: "redacted_thinking" }>): StreamEvent[] {
    const index = this.nextIndex++;
    if (block.type === "text") this.open = { kind: "text", index };
    else if (block.type === "thinking") this.open = { kind: "thinking", index, signature: undefined };
    else if (block.type === "tool_use")
      this.open = { kind: "tool_use", index, id: block.id, sentJson: false };
    return [{ type: "content_block_start", index, content_block: block }];
  }

  private closeOpen(): StreamEvent[] {
    const block = this.open;
    if (block === undefined) return [];
    this.open = undefined;
    const events: StreamEvent[] = [];
    if (block.kind === "thinking" && block.signature !== undefined) {
      events.push({
        type: "content_block_delta",
        index: block.index,
        delta: { type: "signature_delta", signature: block.signature },
      });
    }
    events.push({ type: "content_block_stop", index: block.index });
    return events;
  }
}
