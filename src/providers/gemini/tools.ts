/**
 * Anthropic `tools` / `tool_choice` → Gemini `tools[].functionDeclarations` / `toolConfig`
 * (protocol.md F.5), and the web search server tool → `{googleSearch: {}}` (grounding.ts).
 *
 * Custom tools are declared as functions. Of Anthropic's server and versioned tools (`type` set
 * and not `"custom"`), only web search has a Gemini counterpart; the others (`bash_20250124`,
 * `code_execution_…`, …) run on Anthropic's side and are left out.
 */
import type { FunctionCallingConfigMode, FunctionDeclaration } from "@google/genai";
import { invalidRequest } from "../../core/errors.js";
import { TranslationMemo } from "../../core/translation-memo.js";
import type { ToolChoice, ToolDefinition } from "../../protocol/anthropic/request-schema.js";
import { isWebSearchTool, wantsGoogleSearch } from "./grounding.js";
import type { GeminiOptions } from "./options.js";
import { cleanJsonSchema, type OpenApiSchema, toOpenApiSchema } from "./schema.js";

export type GeminiFunctionDeclaration = Pick<FunctionDeclaration, "description" | "parametersJsonSchema"> & {
  name: string;
  parameters?: OpenApiSchema;
};

export interface GeminiFunctionTool {
  functionDeclarations: GeminiFunctionDeclaration[];
}

/** Grounding with Google Search; its options (`excludeDomains`, `timeRangeFilter`) are not used. */
export interface GeminiSearchTool {
  googleSearch: Record<string, never>;
  /** Never beside Google Search (see grounding.ts); declared so `tool.functionDeclarations` reads as absent. */
  functionDeclarations?: never;
}

export type GeminiTool = GeminiFunctionTool | GeminiSearchTool;

export interface GeminiToolConfig {
  functionCallingConfig: {
    mode: `${FunctionCallingConfigMode}`;
    allowedFunctionNames?: string[];
  };
}

export interface GeminiToolsPart {
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
}

/**
 * `tools` + `toolConfig` for the request body: the custom tools as functions, or — when there are
 * none — Google Search for a web search tool; both absent when neither applies.
 */
export function buildTools(
  tools: readonly ToolDefinition[] | undefined,
  toolChoice: ToolChoice | undefined,
  options: GeminiOptions,
): GeminiToolsPart {
  const declarations = (tools ?? []).filter(isCustomTool).map((tool) => declareFunction(tool, options));
  // No toolConfig without declarations: Gemini rejects "Function calling config is set without
  // function_declarations", and Google Search cannot be forced (an Anthropic `any` or
  // `{type: "tool", name: "web_search"}` leaves the search to the model).
  if (declarations.length === 0) {
    return wantsGoogleSearch(tools, toolChoice, false) ? { tools: [{ googleSearch: {} }] } : {};
  }
  const part: GeminiToolsPart = { tools: [{ functionDeclarations: declarations }] };
  if (toolChoice !== undefined) {
    part.toolConfig = { functionCallingConfig: callingConfig(toolChoice, declarations, tools ?? []) };
  }
  return part;
}

function isCustomTool(tool: ToolDefinition): boolean {
  return tool.type === undefined || tool.type === "custom";
}

/**
 * Declarations made earlier, reused while clients keep sending the same tools (Claude Code: every
 * turn); one memo per schema dialect. Shared between requests, so never mutated.
 */
const DECLARATIONS: Record<
  GeminiOptions["toolSchema"],
  TranslationMemo<ToolDefinition, GeminiFunctionDeclaration>
> = { "json-schema": new TranslationMemo(), openapi: new TranslationMemo() };

function declareFunction(tool: ToolDefinition, options: GeminiOptions): GeminiFunctionDeclaration {
  return DECLARATIONS[options.toolSchema].get(tool.name, tool, (source) =>
    translateFunction(source, options),
  );
}

function translateFunction(tool: ToolDefinition, options: GeminiOptions): GeminiFunctionDeclaration {
  const declaration: GeminiFunctionDeclaration = { name: tool.name };
  if (tool.description !== undefined && tool.description !== "") declaration.description = tool.description;
  if (tool.input_schema === undefined) return declaration;
  const schema = withObjectRoot(tool.input_schema);
  if (options.toolSchema === "json-schema") {
    declaration.parametersJsonSchema = cleanJsonSchema(schema);
    return declaration;
  }
  const parameters = toOpenApiSchema(schema);
  // A parameterless function leaves `parameters` unset: an OBJECT with no properties is a 400.
  if (parameters.properties !== undefined) declaration.parameters = parameters;
  return declaration;
}

/** Gemini requires the parameters root to be an object schema; Anthropic implies it. */
function withObjectRoot(schema: Record<string, unknown>): Record<string, unknown> {
  return schema.type === undefined ? { ...schema, type: "object" } : schema;
}

function callingConfig(
  choice: ToolChoice,
  declarations: readonly GeminiFunctionDeclaration[],
  tools: readonly ToolDefinition[],
): GeminiToolConfig["functionCallingConfig"] {
  switch (choice.type) {
    case "auto":
      return { mode: "AUTO" };
    case "any":
      return { mode: "ANY" };
    case "none":
      return { mode: "NONE" };
    case "tool":
      if (!declarations.some((d) => d.name === choice.name)) {
        const search = tools.some((t) => t.name === choice.name && isWebSearchTool(t));
        throw invalidRequest(
          search
            ? `tool_choice: tool "${choice.name}" is web search, which Gemini cannot run next to custom tools (function calling); send it without custom tools, or route such requests to an Anthropic target (routes[].when.web_search)`
            : `tool_choice: tool "${choice.name}" is not among the request's custom tools`,
        );
      }
      return { mode: "ANY", allowedFunctionNames: [choice.name] };
    default: {
      const never: never = choice;
      throw invalidRequest(`tool_choice: unsupported type ${JSON.stringify(never)}`);
    }
  }
}
