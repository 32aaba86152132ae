/**
 * Anthropic tools / tool_choice → Chat Completions `tools`, `tool_choice`, `parallel_tool_calls`
 * (protocol.md A.4, G.1).
 */
import { invalidRequest } from "../../core/errors.js";
import { TranslationMemo } from "../../core/translation-memo.js";
import type { ToolChoice, ToolDefinition } from "../../protocol/anthropic/request-schema.js";
import type { ChatTool, ChatToolChoice } from "./wire-types.js";

/**
 * Custom tools only: versioned server/client tools (`bash_20250124`, `code_execution_…`, …) are
 * executed by Anthropic's platform and mean nothing to a Chat Completions model. Web search
 * (`web_search_*`) is refused instead of dropped: without it the model would answer a search
 * request from memory, which looks like a search result but is not one.
 */
export function toChatTools(tools: readonly ToolDefinition[] | undefined): ChatTool[] {
  if (tools === undefined) return [];
  if (tools.some((tool) => tool.type?.startsWith("web_search_") === true)) {
    throw invalidRequest(
      "web search is not supported by this OpenAI-compatible target; route web_search requests to a Gemini or Anthropic target (routes[].when.web_search)",
    );
  }
  return tools
    .filter((tool) => tool.type === undefined || tool.type === "custom")
    .map((tool) => CHAT_TOOLS.get(tool.name, tool, toChatTool));
}

/** Made earlier, reused while clients keep sending the same tools; shared, never mutated. */
const CHAT_TOOLS = new TranslationMemo<ToolDefinition, ChatTool>();

function toChatTool(tool: ToolDefinition): ChatTool {
  const fn: ChatTool["function"] = { name: tool.name, parameters: toParameters(tool.input_schema) };
  if (tool.description !== undefined && tool.description !== "") fn.description = tool.description;
  return { type: "function", function: fn };
}

/** The tool's JSON Schema without `$schema` (Claude Code adds it; strict servers reject it). */
function toParameters(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  if (schema === undefined) return { type: "object", properties: {} };
  const { $schema: _dropped, ...rest } = schema;
  return rest;
}

export interface ChatToolChoiceFields {
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
}

/**
 * `auto`→"auto", `any`→"required", `tool`→the named function, `none`→"none";
 * `disable_parallel_tool_use` → `parallel_tool_calls:false`. OpenAI rejects both fields when the
 * request has no tools, so the caller only adds them next to a non-empty `tools`.
 */
export function toChatToolChoice(choice: ToolChoice | undefined): ChatToolChoiceFields {
  if (choice === undefined) return {};
  const fields: ChatToolChoiceFields = {};
  switch (choice.type) {
    case "auto":
      fields.tool_choice = "auto";
      break;
    case "any":
      fields.tool_choice = "required";
      break;
    case "tool":
      fields.tool_choice = { type: "function", function: { name: choice.name } };
      break;
    case "none":
      fields.tool_choice = "none";
      return fields;
    default:
      return assertNever(choice);
  }
  if (choice.disable_parallel_tool_use === true) fields.parallel_tool_calls = false;
  return fields;
}

function assertNever(value: never): never {
  throw new Error(`unexpected tool_choice: ${JSON.stringify(value)}`);
}
