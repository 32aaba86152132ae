/**
 * Anthropic `system` + `messages` → Gemini `systemInstruction` + `contents` (protocol.md F.2, F.5, F.6).
 *
 * - `system` → text parts; Claude Code's first-block attribution line (protocol.md E.5) changes
 *   per release and means nothing to Gemini, so it is dropped.
 * - mid-conversation `role: "system"` messages have no Gemini slot: they become user text in place.
 * - `tool_result` → `functionResponse` (name from the history's `tool_use`), all results of a turn
 *   first and in call order, tool-result images after them as `inlineData`.
 * - images → `inlineData`; a GIF (Gemini takes none) → a PNG of its first frame.
 * - `tool_use` → `functionCall`; the Gemini id and `thoughtSignature` come back out of the id this
 *   gateway issued (signatures.ts). The first call of each model turn that still lacks a signature
 *   gets Google's skip value, so history from another model or provider never causes a 400.
 * - consecutive same-role contents are merged; empty texts and empty contents are never sent.
 */
import type { Content, Part } from "@google/genai";
import { invalidRequest } from "../../core/errors.js";
import { gifToPng } from "../../core/gif-to-png.js";
import { TranslationMemo } from "../../core/translation-memo.js";
import type {
  MessageParam,
  MessagesRequest,
  RequestContentBlock,
  RequestDocumentBlock,
  RequestImageBlock,
  RequestToolResultBlock,
} from "../../protocol/anthropic/request-schema.js";
import { systemMessageText } from "../../protocol/anthropic/tool-changes.js";
import { normalizeModelName } from "./models.js";
import {
  type CallInfo,
  decodeThinkingSignature,
  decodeToolUseId,
  SKIP_THOUGHT_SIGNATURE,
} from "./signatures.js";

const BILLING_HEADER_PREFIX = "x-anthropic-billing-header:";

export interface GeminiConversation {
  contents: Content[];
  systemInstruction?: Content;
}

/** A `tool_use` seen in the history: what its `tool_result` needs to become a functionResponse. */
interface CallRecord {
  name: string;
  /** Position among all calls of the history: orders the results of one turn. */
  order: number;
  info: CallInfo | undefined;
}

/** Builds `contents` (never empty) and `systemInstruction` (absent when there is no system text). */
export function buildConversation(
  request: Pick<MessagesRequest, "messages" | "system">,
  upstreamModel: string,
): GeminiConversation {
  const target = normalizeModelName(upstreamModel);
  const calls = collectCalls(request.messages);
  const converted = request.messages.map((message, i) => convertMessage(message, i, calls, target));
  const contents = mergeSameRole(converted.filter((c) => (c.parts?.length ?? 0) > 0));
  if (contents.length === 0) throw invalidRequest("messages: nothing to send (every message is empty)");
  for (const content of contents) if (content.role === "model") markFirstCall(content);
  const conversation: GeminiConversation = { contents };
  const system = request.system;
  if (system !== undefined) {
    const instruction = SYSTEM_INSTRUCTIONS.get(systemKey(system), system, toSystemInstruction);
    if (instruction.parts !== undefined && instruction.parts.length > 0)
      conversation.systemInstruction = instruction;
  }
  return conversation;
}

type SystemPrompt = NonNullable<MessagesRequest["system"]>;

/**
 * Claude Code sends the same system prompt on every turn of a session: its translation is made
 * once and shared (never mutated) while it repeats, so its bytes are made once too (json-bytes.ts).
 */
const SYSTEM_INSTRUCTIONS = new TranslationMemo<SystemPrompt, Content>(64);

/** Groups prompts for the memo (equality is checked there): block count, length, the last characters. */
function systemKey(system: SystemPrompt): string {
  if (typeof system === "string") return `s${system.length}:${system.slice(-48)}`;
  let length = 0;
  for (const block of system) length += block.text.length;
  return `b${system.length}:${length}:${system.at(-1)?.text.slice(-48) ?? ""}`;
}

function toSystemInstruction(system: SystemPrompt): Content {
  return { parts: systemInstructionParts(system) };
}

function systemInstructionParts(system: SystemPrompt): Part[] {
  if (typeof system === "string") return textParts(system);
  return system
    .filter((block, i) => !(i === 0 && block.text.trimStart().startsWith(BILLING_HEADER_PREFIX)))
    .flatMap((block) => textParts(block.text));
}

function collectCalls(messages: readonly MessageParam[]): Map<string, CallRecord> {
  const calls = new Map<string, CallRecord>();
  for (const message of messages) {
    if (message.role !== "assistant" || typeof message.content === "string") continue;
    for (const block of message.content) {
      if (block.type !== "tool_use") continue;
      calls.set(block.id, { name: block.name, order: calls.size, info: decodeToolUseId(block.id) });
    }
  }
  return calls;
}

function convertMessage(
  message: MessageParam,
  index: number,
  calls: Map<string, CallRecord>,
  target: string,
): Content {
  const blocks =
    typeof message.content === "string"
      ? [{ type: "text" as const, text: message.content }]
      : message.content;
  switch (message.role) {
    case "system":
      return { role: "user", parts: systemMessageParts(blocks) };
    case "user":
      return { role: "user", parts: userParts(blocks, `messages[${index}]`, calls) };
    case "assistant":
      return { role: "model", parts: modelParts(blocks, `messages[${index}]`, calls, target) };
    default: {
      const never: never = message.role;
      throw invalidRequest(`messages[${index}].role: unsupported role ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A mid-conversation system message, kept in place as user text the model reads as instructions.
 * Its tool changes take effect in the declarations (tool-changes.ts) and are said here in a line.
 */
function systemMessageParts(blocks: readonly RequestContentBlock[]): Part[] {
  const text = systemMessageText(blocks);
  return text === "" ? [] : [{ text: `<system-reminder>\n${text}\n</system-reminder>` }];
}

function userParts(
  blocks: readonly RequestContentBlock[],
  where: string,
  calls: Map<string, CallRecord>,
): Part[] {
  const responses: { order: number; part: Part }[] = [];
  const resultMedia: Part[] = [];
  const others: Part[] = [];
  blocks.forEach((block, j) => {
    const at = `${where}.content[${j}]`;
    if (block.type === "tool_result") {
      const call = calls.get(block.tool_use_id);
      if (call === undefined) {
        throw invalidRequest(
          `${at}: tool_result for tool_use_id "${block.tool_use_id}" has no matching tool_use`,
        );
      }
      const { part, media } = functionResponse(block, call, at);
      responses.push({ order: call.order, part });
      resultMedia.push(...media);
    } else {
      others.push(...commonParts(block, at));
    }
  });
  // Gemini wants the responses of one call turn together and in call order, before anything else.
  responses.sort((a, b) => a.order - b.order);
  return [...responses.map((r) => r.part), ...resultMedia, ...others];
}

function functionResponse(
  block: RequestToolResultBlock,
  call: CallRecord,
  at: string,
): { part: Part; media: Part[] } {
  const texts: string[] = [];
  const media: Part[] = [];
  const content = block.content ?? "";
  if (typeof content === "string") {
    texts.push(content);
  } else {
    content.forEach((item, k) => {
      const itemAt = `${at}.content[${k}]`;
      switch (item.type) {
        case "text":
          texts.push(item.text);
          break;
        case "image":
          media.push(imagePart(item, itemAt));
          break;
        case "document":
          for (const part of documentParts(item, itemAt)) {
            if (part.text !== undefined) texts.push(part.text);
            else media.push(part);
          }
          break;
        case "search_result":
          texts.push([item.title, item.source, ...item.content.map((c) => c.text)].join("\n"));
          break;
        case "tool_reference":
          texts.push(`Tool reference: ${item.tool_name}`);
          break;
        default: {
          const never: never = item;
          throw invalidRequest(`${itemAt}: unsupported tool_result content ${JSON.stringify(never)}`);
        }
      }
    });
  }
  const text = texts.filter((t) => t !== "").join("\n");
  // `output` / `error` are the keys Gemini documents for FunctionResponse.response (F.5).
  const response = block.is_error === true ? { error: text } : { output: text };
  const fr: NonNullable<Part["functionResponse"]> = { name: call.name, response };
  if (call.info?.geminiId !== undefined) fr.id = call.info.geminiId;
  return { part: { functionResponse: fr }, media };
}

function modelParts(
  blocks: readonly RequestContentBlock[],
  where: string,
  calls: Map<string, CallRecord>,
  target: string,
): Part[] {
  return blocks.flatMap((block, j): Part[] => {
    switch (block.type) {
      case "thinking":
        return thoughtParts(block.thinking, block.signature, target);
      case "redacted_thinking":
        return []; // Anthropic-encrypted: meaningless to Gemini.
      case "tool_use":
        return [functionCallPart(block.name, block.input, calls.get(block.id)?.info, target)];
      default:
        return commonParts(block, `${where}.content[${j}]`);
    }
  });
}

/** Only thoughts this gateway issued for the same model can be replayed (signatures are model-bound). */
function thoughtParts(thinking: string, signature: string | undefined, target: string): Part[] {
  const decoded = signature === undefined ? undefined : decodeThinkingSignature(signature);
  if (decoded === undefined || normalizeModelName(decoded.model) !== target) return [];
  if (decoded.signature === undefined) return thinking === "" ? [] : [{ text: thinking, thought: true }];
  return [{ text: thinking, thought: true, thoughtSignature: decoded.signature }];
}

function functionCallPart(
  name: string,
  input: Record<string, unknown>,
  info: CallInfo | undefined,
  target: string,
): Part {
  const call: NonNullable<Part["functionCall"]> = { name, args: input };
  if (info?.geminiId !== undefined) call.id = info.geminiId;
  const part: Part = { functionCall: call };
  if (info?.signature !== undefined && normalizeModelName(info.model) === target) {
    part.thoughtSignature = info.signature;
  }
  return part;
}

/** Blocks that map the same way in user and model turns. */
function commonParts(block: RequestContentBlock, at: string): Part[] {
  switch (block.type) {
    case "text":
      return textParts(block.text);
    case "image":
      return [imagePart(block, at)];
    case "document":
      return documentParts(block, at);
    case "search_result":
      return textParts([block.title, block.source, ...block.content.map((c) => c.text)].join("\n"));
    case "tool_result":
      throw invalidRequest(`${at}: tool_result is only allowed in a user turn`);
    case "tool_use":
      throw invalidRequest(`${at}: tool_use is only allowed in an assistant turn`);
    default:
      // thinking outside an assistant turn, server tool blocks, tool_reference, container_upload:
      // Anthropic-side features without a Gemini counterpart.
      return [];
  }
}

function textParts(text: string): Part[] {
  return text === "" ? [] : [{ text }];
}

function mergeSameRole(contents: readonly Content[]): Content[] {
  const merged: Content[] = [];
  for (const content of contents) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.role === content.role) {
      const parts = [...(last.parts ?? []), ...(content.parts ?? [])];
      // Function responses lead their user content even when, say, a mid-conversation system
      // message sat between the call turn and its results (protocol.md F.5 ordering).
      last.parts = [
        ...parts.filter((p) => p.functionResponse !== undefined),
        ...parts.filter((p) => p.functionResponse === undefined),
      ];
    } else {
      merged.push({ role: content.role ?? "user", parts: [...(content.parts ?? [])] });
    }
  }
  return merged;
}

/** Gemini 3 validates the first functionCall of a step: give it the documented skip value if unsigned. */
function markFirstCall(content: Content): void {
  const first = content.parts?.find((p) => p.functionCall !== undefined);
  if (first !== undefined && first.thoughtSignature === undefined)
    first.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
}

/**
 * base64 → `inlineData`; a GIF, which Gemini refuses, as a PNG of its first frame (gif-to-png.ts).
 * URL sources are inlined by the core first; anything left cannot be sent.
 */
function imagePart(block: RequestImageBlock, at: string): Part {
  const source = block.source;
  switch (source.type) {
    case "base64": {
      if (source.media_type !== "image/gif") {
        return { inlineData: { mimeType: source.media_type, data: source.data } };
      }
      const png = gifToPng(source.data);
      // Not a 400: the image sits in the history, and would fail every later turn of the session.
      return png.ok
        ? { inlineData: { mimeType: "image/png", data: png.base64 } }
        : { text: `[A GIF image was left out: ${png.reason}.]` };
    }
    case "url":
      throw invalidRequest(
        `${at}: image source type "url" (${source.url}) was not inlined; Gemini needs the bytes`,
      );
    case "file":
      throw invalidRequest(
        `${at}: image source type "file" (${source.file_id}) is an Anthropic Files API id Gemini cannot read`,
      );
    default: {
      const never: never = source;
      throw invalidRequest(`${at}: unsupported image source ${JSON.stringify(never)}`);
    }
  }
}

/** PDF (base64) → `inlineData`; text and content sources → text / image parts. Title goes first as text. */
function documentParts(block: RequestDocumentBlock, at: string): Part[] {
  const source = block.source;
  const title =
    typeof block.title === "string" && block.title !== "" ? textParts(`Document: ${block.title}`) : [];
  switch (source.type) {
    case "base64":
      return [...title, { inlineData: { mimeType: source.media_type, data: source.data } }];
    case "text":
      return [...title, ...textParts(source.data)];
    case "content":
      if (typeof source.content === "string") return [...title, ...textParts(source.content)];
      return [
        ...title,
        ...source.content.flatMap((item, k) =>
          item.type === "text" ? textParts(item.text) : [imagePart(item, `${at}.source.content[${k}]`)],
        ),
      ];
    case "url":
      throw invalidRequest(
        `${at}: document source type "url" (${source.url}) was not inlined; Gemini needs the bytes`,
      );
    case "file":
      throw invalidRequest(
        `${at}: document source type "file" (${source.file_id}) is an Anthropic Files API id Gemini cannot read`,
      );
    default: {
      const never: never = source;
      throw invalidRequest(`${at}: unsupported document source ${JSON.stringify(never)}`);
    }
  }
}
