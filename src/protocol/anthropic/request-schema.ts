/**
 * zod schema for `POST /v1/messages` and `/v1/messages/count_tokens` bodies.
 *
 * The body is an open object (protocol.md A.1): unknown top-level and block fields pass through
 * untouched. Known fields are checked for type, so a wrong type is a 400 naming the field, and an
 * unknown content block type is a 400 naming the block.
 */
import { z } from "zod";

const cacheControl = z.looseObject({ type: z.string() }).nullish();

/** Standard base64 (RFC 4648 §4), padding optional, whitespace not allowed. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const base64Data = z.string().refine((s) => BASE64.test(s) && s.length % 4 !== 1, {
  message: "is not valid base64",
});

const base64Source = z.looseObject({ type: z.literal("base64"), media_type: z.string(), data: base64Data });
const urlSource = z.looseObject({ type: z.literal("url"), url: z.string().min(1) });
const fileSource = z.looseObject({ type: z.literal("file"), file_id: z.string() });
const textSource = z.looseObject({
  type: z.literal("text"),
  media_type: z.string().optional(),
  data: z.string(),
});

export const textBlock = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
  cache_control: cacheControl,
});
export const imageBlock = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [base64Source, urlSource, fileSource]),
  cache_control: cacheControl,
});
const contentSource = z.looseObject({
  type: z.literal("content"),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))]),
});
export const documentBlock = z.looseObject({
  type: z.literal("document"),
  source: z.discriminatedUnion("type", [base64Source, urlSource, fileSource, textSource, contentSource]),
  title: z.string().nullish(),
  context: z.string().nullish(),
  cache_control: cacheControl,
});
const searchResultBlock = z.looseObject({
  type: z.literal("search_result"),
  source: z.string(),
  title: z.string(),
  content: z.array(textBlock),
});
const toolReferenceBlock = z.looseObject({ type: z.literal("tool_reference"), tool_name: z.string() });
const tool = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  type: z.string().optional(),
});
/**
 * Mid-conversation tool changes, in `role: "system"` messages (protocol.md A.2): a tool of
 * `tools` by name (`tool_reference`), an MCP tool or toolset, or a whole definition by value.
 */
const toolChangeTarget = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  server_name: z.string().optional(),
  definition: tool.optional(),
});
const toolAdditionBlock = z.looseObject({ type: z.literal("tool_addition"), tool: toolChangeTarget });
const toolRemovalBlock = z.looseObject({ type: z.literal("tool_removal"), tool: toolChangeTarget });
export const thinkingBlock = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().optional(),
});
const redactedThinkingBlock = z.looseObject({ type: z.literal("redacted_thinking"), data: z.string() });
export const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
export const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z
    .union([
      z.string(),
      z.array(
        z.discriminatedUnion("type", [
          textBlock,
          imageBlock,
          documentBlock,
          searchResultBlock,
          toolReferenceBlock,
        ]),
      ),
    ])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});
const serverToolUseBlock = z.looseObject({
  type: z.literal("server_tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
const serverResultTypes = [
  "web_search_tool_result",
  "web_fetch_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
] as const;
const serverToolResultBlock = z.looseObject({
  type: z.enum(serverResultTypes),
  tool_use_id: z.string(),
  content: z.unknown(),
});
const containerUploadBlock = z.looseObject({ type: z.literal("container_upload"), file_id: z.string() });

/** Every block type the Messages API accepts in a request (protocol.md A.3). */
export const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set([
  "text",
  "image",
  "document",
  "search_result",
  "thinking",
  "redacted_thinking",
  "tool_use",
  "tool_result",
  "server_tool_use",
  ...serverResultTypes,
  "tool_reference",
  "container_upload",
  "tool_addition",
  "tool_removal",
]);

/** Chosen by `type` (a plain union would try every block schema in turn on every block). */
export const contentBlock = z.discriminatedUnion("type", [
  textBlock,
  imageBlock,
  documentBlock,
  searchResultBlock,
  thinkingBlock,
  redactedThinkingBlock,
  toolUseBlock,
  toolResultBlock,
  serverToolUseBlock,
  serverToolResultBlock,
  toolReferenceBlock,
  containerUploadBlock,
  toolAdditionBlock,
  toolRemovalBlock,
]);

const messageParam = z.looseObject({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const toolChoice = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({
    type: z.literal("tool"),
    name: z.string(),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({ type: z.literal("none") }),
]);

const thinking = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("enabled"), budget_tokens: z.number().int().nonnegative() }),
  z.looseObject({ type: z.literal("disabled") }),
  z.looseObject({ type: z.literal("adaptive") }),
  z.looseObject({ type: z.literal("between_tools") }),
]);

const outputConfig = z.looseObject({
  effort: z.string().nullish(),
  format: z.looseObject({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional() }).nullish(),
});

const common = {
  model: z.string().min(1),
  messages: z.array(messageParam),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: thinking.nullish(),
  output_config: outputConfig.nullish(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).nullish(),
};

export const messagesRequestSchema = z.looseObject({
  ...common,
  max_tokens: z.number().int().nonnegative(),
  stream: z.boolean().nullish(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  top_k: z.number().int().nullish(),
});

export const countTokensRequestSchema = z.looseObject(common);

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
export type MessageParam = z.infer<typeof messageParam>;
export type RequestContentBlock = z.infer<typeof contentBlock>;
export type RequestTextBlock = z.infer<typeof textBlock>;
export type RequestImageBlock = z.infer<typeof imageBlock>;
export type RequestDocumentBlock = z.infer<typeof documentBlock>;
export type RequestToolUseBlock = z.infer<typeof toolUseBlock>;
export type RequestToolResultBlock = z.infer<typeof toolResultBlock>;
export type RequestThinkingBlock = z.infer<typeof thinkingBlock>;
export type ToolDefinition = z.infer<typeof tool>;
export type RequestToolChangeBlock = z.infer<typeof toolAdditionBlock> | z.infer<typeof toolRemovalBlock>;
export type ToolChoice = z.infer<typeof toolChoice>;
export type ThinkingConfig = z.infer<typeof thinking>;
