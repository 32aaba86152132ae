/**
 * Checks the conformance suite applies to every answer, whatever the provider: the SSE grammar
 * of protocol.md B.2–B.4, and a provider-neutral view of a message for stream == non-stream.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { expect } from "vitest";
import { isRecord, records } from "./harness.js";

interface EventLike {
  type: string;
  index?: number;
  delta?: unknown;
  content_block?: unknown;
}

/**
 * `message_start` → (`content_block_start` → `content_block_delta`* → `content_block_stop`)* →
 * `message_delta` → `message_stop`; indexes 0,1,2… one block open at a time; a thinking block's
 * `signature_delta` comes last, just before its stop (B.3). Pings are skipped.
 */
export function expectGrammar(all: readonly EventLike[]): void {
  const events = all.filter((e) => e.type !== "ping");
  const types = events.map((e) => e.type);
  expect(types[0], types.join(",")).toBe("message_start");
  expect(types.slice(-2), types.join(",")).toEqual(["message_delta", "message_stop"]);
  let open: { index: number; type: string; lastDelta: string | undefined } | undefined;
  let next = 0;
  for (const event of events.slice(1, -2)) {
    switch (event.type) {
      case "content_block_start": {
        expect(open, "a block opened while another is open").toBeUndefined();
        expect(event.index).toBe(next);
        const type = isRecord(event.content_block) ? String(event.content_block.type) : "?";
        open = { index: next, type, lastDelta: undefined };
        break;
      }
      case "content_block_delta":
        expect(open, "a delta outside a block").toBeDefined();
        expect(event.index).toBe(open?.index);
        if (open !== undefined && isRecord(event.delta)) open.lastDelta = String(event.delta.type);
        break;
      case "content_block_stop":
        expect(event.index).toBe(open?.index);
        if (open?.type === "thinking") expect(open.lastDelta).toBe("signature_delta");
        open = undefined;
        next++;
        break;
      default:
        throw new Error(`unexpected ${event.type} inside the message (${types.join(",")})`);
    }
  }
  expect(open, "a block was never closed").toBeUndefined();
}

/**
 * The fields of a message the API defines, with what legitimately differs between two runs of
 * the same scripted answer removed: the message id and tool_use ids (adapters may mint ids with
 * a nonce; the ids are checked separately).
 */
export function comparable(message: Anthropic.Message): Record<string, unknown> {
  const content = message.content.map((block) =>
    block.type === "tool_use" ? { ...block, id: "<tool_use id>" } : block,
  );
  return {
    type: message.type,
    role: message.role,
    model: message.model,
    content,
    stop_reason: message.stop_reason,
    stop_sequence: message.stop_sequence,
    usage: message.usage,
  };
}

/** Folds raw SSE events (as `postRaw` reads them) into the Message a client would build. */
export function foldRawEvents(events: readonly { event: string; data: unknown }[]): Record<string, unknown> {
  let message: Record<string, unknown> = {};
  const content: Record<string, unknown>[] = [];
  const json = new Map<number, string>();
  for (const { data } of events) {
    if (!isRecord(data)) continue;
    const index = typeof data.index === "number" ? data.index : -1;
    const delta = isRecord(data.delta) ? data.delta : {};
    const block = content[index];
    if (data.type === "message_start" && isRecord(data.message)) {
      message = { ...data.message };
    } else if (data.type === "content_block_start" && isRecord(data.content_block)) {
      content[index] = { ...data.content_block };
    } else if (data.type === "content_block_delta" && block !== undefined) {
      if (delta.type === "text_delta") block.text = String(block.text) + String(delta.text);
      if (delta.type === "thinking_delta") block.thinking = String(block.thinking) + String(delta.thinking);
      if (delta.type === "signature_delta") block.signature = delta.signature;
      if (delta.type === "input_json_delta")
        json.set(index, (json.get(index) ?? "") + String(delta.partial_json));
    } else if (data.type === "content_block_stop" && block !== undefined && json.has(index)) {
      const text = json.get(index) ?? "";
      block.input = text === "" ? {} : (JSON.parse(text) as unknown);
    } else if (data.type === "message_delta") {
      message.stop_reason = delta.stop_reason;
      message.stop_sequence = delta.stop_sequence;
      const usage = isRecord(message.usage) ? { ...message.usage } : {};
      if (isRecord(data.usage))
        for (const [k, v] of Object.entries(data.usage)) if (v !== null && v !== undefined) usage[k] = v;
      message.usage = usage;
    }
  }
  return { ...message, content };
}

/** The text of every `text` block, joined. */
export function textOf(message: { content: unknown }): string {
  return records(message.content)
    .filter((b) => b.type === "text")
    .map((b) => String(b.text))
    .join("");
}
