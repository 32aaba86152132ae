/**
 * Anthropic `tools` / `tool_choice` → Gemini `tools[].functionDeclarations` / `toolConfig`
 * (protocol.md F.5).
 *
 * Only custom tools are declared: Anthropic server and versioned tools (`type` set and not
 * `"custom"`, e.g. `web_search_20250305`) run on Anthropic's side and have no Gemini equivalent.
 */
import type { FunctionCallingConfigMode, FunctionDeclaration } from "@google/genai";
import { invalidRequest } from "../../core/errors.js";
import type { ToolChoice, ToolDefinition } from "../../protocol/anthropic/request-schema.js";
import type { GeminiOptions } from "./options.js";
import { cleanJsonSchema, type OpenApiSchema, toOpenApiSchema } from "./schema.js";

export type GeminiFunctionDeclaration = Pick<FunctionDeclaration, "description" | "parametersJsonSchema"> & {
  name: string;
  parameters?: OpenApiSchema;
};

export interface GeminiTool {
  functionDeclarations: GeminiFunctionDeclaration[];
}

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

/** `tools` + `toolConfig` for the request body; both absent when no custom tool is declared. */
export function buildTools(
  tools: readonly ToolDefinition[] | undefined,
  toolChoice: ToolChoice | undefined,
  options: GeminiOptions,
): GeminiToolsPart {
  const declarations = (tools ?? []).filter(isCustomTool).map((tool) => declareFunction(tool, options));
  // A toolConfig without declarations is meaningless (and ANY/allowedFunctionNames would be a 400).
  if (declarations.length === 0) return {};
  const part: GeminiToolsPart = { tools: [{ functionDeclarations: declarations }] };
  if (toolChoice !== undefined) {
    part.toolConfig = { functionCallingConfig: callingConfig(toolChoice, declarations) };
  }
  return part;
}

function isCustomTool(tool: ToolDefinition): boolean {
  return tool.type === undefined || tool.type === "custom";
}

function declareFunction(tool: ToolDefinition, options: GeminiOptions): GeminiFunctionDeclaration {
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
        throw invalidRequest(`tool_choice: tool "${choice.name}" is not among the request's custom tools`);
      }
      return { mode: "ANY", allowedFunctionNames: [choice.name] };
    default: {
      const never: never = choice;
      throw invalidRequest(`tool_choice: unsupported type ${JSON.stringify(never)}`);
    }
  }
}
