/**
 * Anthropic `system` + `messages` → Chat Completions `messages` (protocol.md A.2, G.1).
 *
 * - `system` → one leading system message; Claude Code's first `x-anthropic-billing-header:` block
 *   is dropped (E.5: noise for any other upstream, and it would defeat prefix caches when it changes).
 * - Mid-conversation `role:"system"` messages (Claude Code sends one as `messages[1]` on every
 *   turn): many chat templates (vLLM/Qwen, Llama, Mistral) reject a system message that is not
 *   first, or two user messages in a row, so by default the text joins the neighbouring user
 *   message as a `<system-reminder>` part (Claude Code's own convention), in place.
 *   `options.midConversationSystem: "system"` keeps them as system messages (OpenAI accepts that).
 * - An assistant turn → `content` (text) + `tool_calls` (arguments as a JSON string). Thinking has
 *   no standard input slot: dropped, or echoed in `options.reasoningField`.
 * - The user turn after it → its `tool_result`s as `role:"tool"` messages right after the
 *   assistant message, in call order (OpenAI 400s otherwise), then one `user` message with the
 *   results' images and the turn's remaining blocks (Claude Code appends `<system-reminder>` text).
 */
import type { MessageParam, MessagesRequest } from "../../protocol/anthropic/request-schema.js";
import { systemMessageText } from "../../protocol/anthropic/tool-changes.js";
import { textPart, userBlockParts } from "./content.js";
import type { OpenAIOptions } from "./options.js";
import { upstreamCallRef } from "./tool-ids.js";
import { type ConvertedToolResult, convertToolResult } from "./tool-results.js";
import type { ChatAssistantMessage, ChatContentPart, ChatMessage, ChatToolCall } from "./wire-types.js";

const BILLING_HEADER_PREFIX = "x-anthropic-billing-header:";

export function toChatMessages(
  request: MessagesRequest,
  upstreamModel: string,
  options: OpenAIOptions,
): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = systemText(request.system);
  if (system !== "") out.push({ role: "system", content: system });
  // Anthropic ids of the previous assistant turn's tool calls, in call order.
  let openCalls: string[] = [];
  // Mid-conversation system text that found no user message before it: it joins the next one.
  const pendingReminder: string[] = [];
  for (const message of request.messages) {
    if (message.role === "assistant") flushReminders(out, pendingReminder);
    switch (message.role) {
      case "system": {
        const text = systemMessageText(message.content);
        if (text === "") break;
        if (options.midConversationSystem === "system") out.push({ role: "system", content: text });
        else {
          pendingReminder.push(`<system-reminder>\n${text}\n</system-reminder>`);
          joinLastUser(out, pendingReminder);
        }
        break;
      }
      case "assistant": {
        const converted = assistantMessage(message.content, upstreamModel, options);
        if (converted !== undefined) out.push(converted.message);
        openCalls = converted?.callIds ?? [];
        break;
      }
      case "user": {
        out.push(...userMessages(message.content, openCalls, upstreamModel));
        openCalls = [];
        flushReminders(out, pendingReminder);
        break;
      }
      default:
        assertNever(message.role);
    }
  }
  flushReminders(out, pendingReminder);
  return out;
}

/** Pending reminders join the last user message, or become one. */
function flushReminders(out: ChatMessage[], reminders: string[]): void {
  if (reminders.length === 0 || joinLastUser(out, reminders)) return;
  out.push({ role: "user", content: reminders.join("\n\n") });
  reminders.length = 0;
}

/** Append the reminders to the last message when it is a user message; false otherwise. */
function joinLastUser(out: ChatMessage[], reminders: string[]): boolean {
  const last = out.at(-1);
  if (reminders.length === 0 || last?.role !== "user") return false;
  const parts: ChatContentPart[] = typeof last.content === "string" ? [textPart(last.content)] : last.content;
  last.content = [...parts, ...reminders.map((r) => textPart(r))];
  reminders.length = 0;
  return true;
}

/** The system prompt as one string, without Claude Code's attribution block. */
export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  const blocks = system.filter((block, i) => !(i === 0 && block.text.startsWith(BILLING_HEADER_PREFIX)));
  return blocks
    .map((block) => block.text)
    .filter((text) => text !== "")
    .join("\n\n");
}

function assistantMessage(
  content: MessageParam["content"],
  upstreamModel: string,
  options: OpenAIOptions,
): { message: ChatAssistantMessage; callIds: string[] } | undefined {
  if (typeof content === "string") {
    return content === "" ? undefined : { message: { role: "assistant", content }, callIds: [] };
  }
  let text = "";
  let reasoning = "";
  const calls: ChatToolCall[] = [];
  const callIds: string[] = [];
  for (const block of content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "thinking") reasoning += block.thinking;
    else if (block.type === "tool_use") {
      const ref = upstreamCallRef(block.id, upstreamModel);
      const call: ChatToolCall = {
        id: ref.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input) },
      };
      if (ref.signature !== undefined) call.extra_content = { google: { thought_signature: ref.signature } };
      calls.push(call);
      callIds.push(block.id);
    }
    // redacted_thinking and server-tool blocks have no Chat Completions equivalent.
  }
  if (text === "" && calls.length === 0) return undefined;
  const message: ChatAssistantMessage = { role: "assistant", content: text === "" ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  if (options.reasoningField !== undefined && reasoning !== "") message[options.reasoningField] = reasoning;
  return { message, callIds };
}

function userMessages(
  content: MessageParam["content"],
  openCalls: string[],
  upstreamModel: string,
): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const results = new Map<string, ConvertedToolResult>();
  const orphans: ChatContentPart[] = [];
  const parts: ChatContentPart[] = [];
  for (const block of content) {
    if (block.type !== "tool_result") {
      parts.push(...userBlockParts(block));
      continue;
    }
    const converted = convertToolResult(block, upstreamCallRef(block.tool_use_id, upstreamModel).id);
    if (openCalls.includes(block.tool_use_id) && !results.has(block.tool_use_id)) {
      results.set(block.tool_use_id, converted);
    } else {
      // A result for no call of the previous turn would make OpenAI answer 400; keep it as text.
      orphans.push(textPart(`Result of tool call ${block.tool_use_id}:\n${converted.message.content}`));
      orphans.push(...converted.media);
    }
  }
  const out: ChatMessage[] = [];
  const media: ChatContentPart[] = [];
  for (const id of openCalls) {
    const result = results.get(id);
    if (result === undefined) continue;
    out.push(result.message);
    media.push(...result.media);
  }
  const userParts = [...media, ...orphans, ...parts];
  if (userParts.length > 0) out.push({ role: "user", content: compactContent(userParts) });
  return out;
}

/** A lone text part is sent as a plain string: the form every OpenAI-compatible server accepts. */
function compactContent(parts: ChatContentPart[]): string | ChatContentPart[] {
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.type === "text" ? only.text : parts;
}

function assertNever(value: never): never {
  throw new Error(`unexpected role: ${String(value)}`);
}
