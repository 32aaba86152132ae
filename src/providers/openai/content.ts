/**
 * Anthropic user-side content blocks → Chat Completions content parts (protocol.md A.3, G.1).
 *
 * Images become `image_url` parts (base64 → data URL, url → the URL, which OpenAI fetches itself);
 * PDFs become `file` parts with a data URL; text documents and search results become text.
 * `file_id` sources refer to Anthropic's Files API, which no OpenAI-compatible server can read,
 * so they fail loudly instead of disappearing.
 */
import { invalidRequest } from "../../core/errors.js";
import type {
  RequestContentBlock,
  RequestDocumentBlock,
  RequestImageBlock,
} from "../../protocol/anthropic/request-schema.js";
import type { ChatContentPart } from "./wire-types.js";

export function imagePart(block: RequestImageBlock): ChatContentPart {
  const source = block.source;
  switch (source.type) {
    case "base64":
      return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } };
    case "url":
      return { type: "image_url", image_url: { url: source.url } };
    case "file":
      throw invalidRequest(`image source type "file" (${source.file_id}) is not supported by this upstream`);
    default:
      return assertNever(source);
  }
}

export function documentParts(block: RequestDocumentBlock): ChatContentPart[] {
  const source = block.source;
  const title = block.title ?? undefined;
  switch (source.type) {
    case "base64": {
      if (source.media_type.startsWith("text/")) {
        return [textPart(withTitle(title, Buffer.from(source.data, "base64").toString("utf8")))];
      }
      const extension = source.media_type === "application/pdf" ? "pdf" : "bin";
      return [
        {
          type: "file",
          file: {
            filename: title ?? `document.${extension}`,
            file_data: `data:${source.media_type};base64,${source.data}`,
          },
        },
      ];
    }
    case "text":
      return [textPart(withTitle(title, source.data))];
    case "content": {
      if (typeof source.content === "string") return [textPart(withTitle(title, source.content))];
      return source.content.map((inner) => (inner.type === "text" ? textPart(inner.text) : imagePart(inner)));
    }
    case "url":
      // The core inlines URL documents before the adapter runs; a leftover one stays visible as text.
      return [textPart(withTitle(title, `Document: ${source.url}`))];
    case "file":
      throw invalidRequest(
        `document source type "file" (${source.file_id}) is not supported by this upstream`,
      );
    default:
      return assertNever(source);
  }
}

/**
 * Parts for one block of a user turn (tool results are handled by the caller). Blocks with no
 * meaning to a Chat Completions model (thinking echoed in the wrong role, server-tool results,
 * which Claude Code does not use on non-Anthropic base URLs) give no parts.
 */
export function userBlockParts(block: RequestContentBlock): ChatContentPart[] {
  switch (block.type) {
    case "text":
      return block.text === "" ? [] : [textPart(block.text)];
    case "image":
      return [imagePart(block)];
    case "document":
      return documentParts(block);
    case "search_result":
      return [textPart(searchResultText(block.title, block.source, block.content))];
    default:
      return [];
  }
}

export function searchResultText(
  title: string,
  source: string,
  content: ReadonlyArray<{ text: string }>,
): string {
  return [`${title} (${source})`, ...content.map((c) => c.text)].join("\n");
}

export function textPart(text: string): ChatContentPart {
  return { type: "text", text };
}

function withTitle(title: string | undefined, text: string): string {
  return title === undefined || title === "" ? text : `${title}\n\n${text}`;
}

function assertNever(value: never): never {
  throw new Error(`unexpected source: ${JSON.stringify(value)}`);
}
