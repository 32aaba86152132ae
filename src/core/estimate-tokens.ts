/**
 * A local, deterministic estimate of a request's input tokens, used when no upstream can count
 * (protocol.md D.1). Claude Code decides when to compact from this number and compacts *late* when
 * it is low, so every rule below errs on the high side:
 *
 * - Text: ASCII characters / 3.5 plus one token per non-ASCII UTF-16 unit (CJK, emoji and accented
 *   text tokenize far denser than English), rounded up per piece.
 * - Images: Anthropic charges ≈ width × height / 750 after downscaling the long edge to 1568 px,
 *   which tops out near 1,600 tokens. PNG, GIF and WebP carry their size in the first 30 bytes, so
 *   it is read from there (no decoding); other formats (JPEG) cost bytes / 100, capped at 1,600.
 *   URL and file sources cannot be measured locally and cost the cap.
 * - PDFs: each page is sent as text plus a page image, measured at roughly 1,500–3,000 tokens; we
 *   charge 2,500 per page. Pages are the `/Type /Page` objects visible in the file; when they sit in
 *   compressed object streams the count falls back to one page per 50 KB.
 * - Tools: the JSON of name + description + input_schema, plus the ~350-token system prompt the API
 *   adds whenever tools are present (Anthropic's "tool use system prompt" table).
 * - Every other block: its own text fields, or its JSON when it has no obvious text (server tool
 *   results, unknown shapes). Small fixed overheads per request, message, block and tool.
 */
import type {
  CountTokensRequest,
  MessageParam,
  MessagesRequest,
  RequestContentBlock,
  RequestDocumentBlock,
  RequestImageBlock,
  ToolDefinition,
} from "../protocol/anthropic/request-schema.js";

export const CHARS_PER_TOKEN = 3.5;
const REQUEST_OVERHEAD = 8;
const MESSAGE_OVERHEAD = 5;
const BLOCK_OVERHEAD = 3;
const TOOL_OVERHEAD = 8;
const TOOLS_SYSTEM_PROMPT = 350;
export const IMAGE_MAX_TOKENS = 1_600;
const IMAGE_BYTES_PER_TOKEN = 100;
const IMAGE_MAX_EDGE = 1_568;
const IMAGE_PIXELS_PER_TOKEN = 750;
export const PDF_TOKENS_PER_PAGE = 2_500;
const PDF_BYTES_PER_PAGE = 50_000;

/** Estimated `input_tokens` for a Messages or count_tokens body (see the module comment for the rules). */
export function estimateInputTokens(request: CountTokensRequest | MessagesRequest): number {
  let total = REQUEST_OVERHEAD;
  if (typeof request.system === "string") total += textTokens(request.system);
  else if (request.system !== undefined) total += blocksTokens(request.system);
  for (const message of request.messages) total += messageTokens(message);
  const tools = request.tools ?? [];
  if (tools.length > 0) total += TOOLS_SYSTEM_PROMPT;
  for (const tool of tools) total += TOOL_OVERHEAD + toolTokens(tool);
  const schema = request.output_config?.format?.schema;
  if (schema !== undefined) total += jsonTokens(schema);
  return total;
}

/** Tokens of a piece of text under the rule above. */
export function textTokens(text: string): number {
  let nonAscii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) nonAscii++;
  return Math.ceil((text.length - nonAscii) / CHARS_PER_TOKEN) + nonAscii;
}

function jsonTokens(value: unknown): number {
  return textTokens(JSON.stringify(value) ?? "");
}

function messageTokens(message: MessageParam): number {
  const content =
    typeof message.content === "string" ? textTokens(message.content) : blocksTokens(message.content);
  return MESSAGE_OVERHEAD + content;
}

function blocksTokens(blocks: readonly RequestContentBlock[]): number {
  let total = 0;
  for (const block of blocks) total += BLOCK_OVERHEAD + blockTokens(block);
  return total;
}

function toolTokens(tool: ToolDefinition): number {
  // Versioned server/client tools (`bash_20250124`, ...) have no schema here: their JSON is the proxy.
  const custom = tool.type === undefined || tool.type === "custom" || tool.input_schema !== undefined;
  if (!custom) return jsonTokens(tool);
  return jsonTokens({ name: tool.name, description: tool.description, input_schema: tool.input_schema });
}

function blockTokens(block: RequestContentBlock): number {
  switch (block.type) {
    case "text":
      return textTokens(block.text);
    case "image":
      return imageTokens(block.source);
    case "document":
      return documentTokens(block);
    case "search_result":
      return textTokens(block.source) + textTokens(block.title) + blocksTokens(block.content);
    case "thinking":
      return textTokens(block.thinking);
    case "redacted_thinking":
      return textTokens(block.data);
    case "tool_use":
    case "server_tool_use":
      return textTokens(block.name) + jsonTokens(block.input);
    case "tool_result":
      if (block.content === undefined) return 0;
      return typeof block.content === "string" ? textTokens(block.content) : blocksTokens(block.content);
    case "web_search_tool_result":
    case "web_fetch_tool_result":
    case "code_execution_tool_result":
    case "bash_code_execution_tool_result":
    case "text_editor_code_execution_tool_result":
    case "tool_search_tool_result":
    case "tool_reference":
    case "container_upload":
      return jsonTokens(block);
    case "tool_addition":
    case "tool_removal":
      // A tool added by value is declared from here on: it costs what a tools[] entry costs.
      return block.tool.definition !== undefined ? toolTokens(block.tool.definition) : jsonTokens(block);
    default: {
      const unknownBlock: never = block;
      return jsonTokens(unknownBlock);
    }
  }
}

function documentTokens(block: RequestDocumentBlock): number {
  const meta = textTokens(block.title ?? "") + textTokens(block.context ?? "");
  const source = block.source;
  switch (source.type) {
    case "text":
      return meta + textTokens(source.data);
    case "content":
      return (
        meta +
        (typeof source.content === "string" ? textTokens(source.content) : blocksTokens(source.content))
      );
    case "base64":
      return meta + pdfTokens(source.data);
    case "url":
    case "file":
      return meta + PDF_TOKENS_PER_PAGE; // size unknown locally: at least one page
    default: {
      const unknownSource: never = source;
      return meta + jsonTokens(unknownSource);
    }
  }
}

function imageTokens(source: RequestImageBlock["source"]): number {
  if (source.type !== "base64") return IMAGE_MAX_TOKENS;
  const size = imageSize(Buffer.from(source.data.slice(0, 40), "base64"));
  if (size === undefined) {
    return Math.min(IMAGE_MAX_TOKENS, Math.ceil(base64Bytes(source.data) / IMAGE_BYTES_PER_TOKEN));
  }
  const scale = Math.min(1, IMAGE_MAX_EDGE / Math.max(size.width, size.height));
  const pixels = size.width * scale * (size.height * scale);
  return Math.min(IMAGE_MAX_TOKENS, Math.ceil(pixels / IMAGE_PIXELS_PER_TOKEN));
}

/** Width and height from a PNG, GIF or WebP header (the first 30 bytes), when the format is one of them. */
export function imageSize(head: Buffer): { width: number; height: number } | undefined {
  const is = (sig: string, at = 0) => head.subarray(at, at + sig.length).toString("latin1") === sig;
  let width = 0;
  let height = 0;
  if (is("\x89PNG\r\n\x1a\n") && is("IHDR", 12) && head.length >= 24) {
    width = head.readUInt32BE(16);
    height = head.readUInt32BE(20);
  } else if ((is("GIF87a") || is("GIF89a")) && head.length >= 10) {
    width = head.readUInt16LE(6);
    height = head.readUInt16LE(8);
  } else if (is("RIFF") && is("WEBP", 8) && head.length >= 30) {
    if (is("VP8X", 12)) {
      width = 1 + head.readUIntLE(24, 3);
      height = 1 + head.readUIntLE(27, 3);
    } else if (is("VP8L", 12)) {
      const bits = head.readUInt32LE(21);
      width = 1 + (bits & 0x3fff);
      height = 1 + ((bits >>> 14) & 0x3fff);
    } else if (is("VP8 ", 12)) {
      width = head.readUInt16LE(26) & 0x3fff;
      height = head.readUInt16LE(28) & 0x3fff;
    }
  }
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function pdfTokens(base64: string): number {
  const bytes = Buffer.from(base64, "base64");
  const pages = countPdfPages(bytes) || Math.ceil(bytes.length / PDF_BYTES_PER_PAGE);
  return Math.max(1, pages) * PDF_TOKENS_PER_PAGE;
}

/** Counts `/Type /Page` objects (not `/Pages`) visible in the file; bounded by the buffer length. */
function countPdfPages(pdf: Buffer): number {
  let pages = 0;
  for (let at = pdf.indexOf("/Type"); at !== -1; at = pdf.indexOf("/Type", at + 5)) {
    let i = at + 5;
    while (i < pdf.length && (pdf[i] === 0x20 || pdf[i] === 0x0a || pdf[i] === 0x0d || pdf[i] === 0x09)) i++;
    if (pdf.toString("latin1", i, i + 5) !== "/Page") continue;
    const next = pdf[i + 5];
    const isLetter = next !== undefined && ((next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a));
    if (!isLetter) pages++;
  }
  return pages;
}

function base64Bytes(data: string): number {
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return Math.floor((data.length * 3) / 4) - padding;
}
