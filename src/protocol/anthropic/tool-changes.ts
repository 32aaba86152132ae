/**
 * Mid-conversation tool changes (protocol.md A.2): `tool_addition` / `tool_removal` blocks in
 * `role: "system"` messages offer or withdraw a tool from that point of the conversation on,
 * without touching `tools` (whose edit would invalidate Anthropic's prompt cache).
 *
 * Upstreams with one tool list per request (Gemini, OpenAI) get the list in effect at the end of
 * the conversation — the tools the model may call now: `tools`, plus the tools added by
 * definition, minus the ones removed. A tool added by reference is already in `tools` and stays
 * declared; MCP references have no counterpart off Anthropic and change nothing.
 */
import type {
  MessageParam,
  RequestContentBlock,
  RequestToolChangeBlock,
  ToolDefinition,
} from "./request-schema.js";

interface ToolsRequest {
  messages: readonly MessageParam[];
  tools?: readonly ToolDefinition[] | undefined;
}

/** `request.tools` itself (same array) when no message changes the tools, as nearly always. */
export function toolsInEffect(request: ToolsRequest): readonly ToolDefinition[] | undefined {
  const changes = toolChanges(request.messages);
  if (changes.length === 0) return request.tools;
  const inEffect = new Map<string, ToolDefinition>();
  for (const tool of request.tools ?? []) inEffect.set(tool.name, tool);
  for (const change of changes) {
    const target = change.tool;
    const name = target.type === "tool_definition" ? target.definition?.name : target.name;
    if (target.type !== "tool_definition" && target.type !== "tool_reference") continue; // MCP
    if (name === undefined) continue;
    if (change.type === "tool_removal") inEffect.delete(name);
    else if (target.definition !== undefined) inEffect.set(name, target.definition);
    else if (!inEffect.has(name)) {
      const declared = request.tools?.find((t) => t.name === name);
      if (declared !== undefined) inEffect.set(name, declared);
    }
  }
  return [...inEffect.values()];
}

/**
 * A mid-conversation system message as text, for upstreams that read it as text: its text blocks,
 * and a line for each tool change where it was made.
 */
export function systemMessageText(content: string | readonly RequestContentBlock[]): string {
  if (typeof content === "string") return content;
  return content
    .flatMap((block) => {
      if (isToolChange(block)) return [describeToolChange(block)];
      return block.type === "text" && block.text !== "" ? [block.text] : [];
    })
    .join("\n\n");
}

function describeToolChange(block: RequestToolChangeBlock): string {
  const target = block.tool;
  const name =
    target.type === "tool_definition"
      ? (target.definition?.name ?? "a tool")
      : target.type === "mcp_toolset_reference"
        ? `the tools of MCP server ${target.server_name ?? "?"}`
        : (target.name ?? "a tool");
  return block.type === "tool_addition"
    ? `Tool available from here on: ${name}.`
    : `Tool no longer available: ${name}.`;
}

function toolChanges(messages: readonly MessageParam[]): RequestToolChangeBlock[] {
  const changes: RequestToolChangeBlock[] = [];
  for (const message of messages) {
    if (message.role !== "system" || typeof message.content === "string") continue;
    for (const block of message.content) if (isToolChange(block)) changes.push(block);
  }
  return changes;
}

export function isToolChange(block: RequestContentBlock): block is RequestToolChangeBlock {
  return block.type === "tool_addition" || block.type === "tool_removal";
}
