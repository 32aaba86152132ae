/**
 * Anthropic `tool_result` blocks → Chat Completions `role:"tool"` messages (protocol.md G.1).
 *
 * Tool messages carry text only: images and PDFs inside a result are returned separately so the
 * caller can put them in a `user` message after the tool messages. `is_error` has no field, so
 * the text is prefixed with "Error: ".
 */
import type { RequestToolResultBlock } from "../../protocol/anthropic/request-schema.js";
import { documentParts, imagePart, searchResultText } from "./content.js";
import type { ChatContentPart, ChatToolMessage } from "./wire-types.js";

export interface ConvertedToolResult {
  message: ChatToolMessage;
  /** Images / files the tool returned: they go to a following `user` message. */
  media: ChatContentPart[];
}

export function convertToolResult(block: RequestToolResultBlock, toolCallId: string): ConvertedToolResult {
  const texts: string[] = [];
  const media: ChatContentPart[] = [];
  const content = block.content;
  if (typeof content === "string") {
    texts.push(content);
  } else if (content !== undefined) {
    for (const item of content) {
      switch (item.type) {
        case "text":
          texts.push(item.text);
          break;
        case "image":
          media.push(imagePart(item));
          break;
        case "document":
          for (const part of documentParts(item)) {
            if (part.type === "text") texts.push(part.text);
            else media.push(part);
          }
          break;
        case "search_result":
          texts.push(searchResultText(item.title, item.source, item.content));
          break;
        case "tool_reference":
          texts.push(`Tool ${item.tool_name} is now available.`);
          break;
        default:
          break;
      }
    }
  }
  const text = texts.join("\n");
  return {
    message: {
      role: "tool",
      tool_call_id: toolCallId,
      content: block.is_error === true ? `Error: ${text}` : text,
    },
    media,
  };
}
