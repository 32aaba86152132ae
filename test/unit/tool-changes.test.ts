import { describe, expect, it } from "vitest";
import type { MessageParam, ToolDefinition } from "../../src/protocol/anthropic/request-schema.js";
import { toolsInEffect } from "../../src/protocol/anthropic/tool-changes.js";

const tool = (name: string): ToolDefinition => ({ name, input_schema: { type: "object" } });
const system = (...content: unknown[]) => ({ role: "system", content }) as MessageParam;
const add = (name: string) => ({ type: "tool_addition", tool: { type: "tool_reference", name } });
const remove = (name: string) => ({ type: "tool_removal", tool: { type: "tool_reference", name } });
const define = (name: string) => ({
  type: "tool_addition",
  tool: { type: "tool_definition", definition: tool(name) },
});
const user: MessageParam = { role: "user", content: "hi" };

describe("toolsInEffect", () => {
  it("is the request's own tools array when nothing changes them", () => {
    const tools = [tool("A")];
    expect(toolsInEffect({ tools, messages: [user, system({ type: "text", text: "x" })] })).toBe(tools);
    expect(toolsInEffect({ messages: [user] })).toBeUndefined();
  });

  it("applies additions by definition and removals in conversation order", () => {
    const tools = [tool("A"), tool("B")];
    const messages = [user, system(define("C"), remove("A")), user, system(add("A"), remove("B"))];
    expect(toolsInEffect({ tools, messages })?.map((t) => t.name)).toEqual(["C", "A"]);
  });

  it("a definition replaces the declared tool of that name; MCP references and unknown names change nothing", () => {
    const tools = [tool("A")];
    const redefined = { ...tool("A"), description: "new" };
    const messages = [
      system({ type: "tool_addition", tool: { type: "tool_definition", definition: redefined } }),
      system(add("Nope"), {
        type: "tool_removal",
        tool: { type: "mcp_tool_reference", server_name: "s", name: "A" },
      }),
    ];
    expect(toolsInEffect({ tools, messages })).toEqual([redefined]);
  });

  it("tool changes outside system messages are not read", () => {
    const tools = [tool("A")];
    const messages = [{ role: "user", content: [remove("A")] } as unknown as MessageParam];
    expect(toolsInEffect({ tools, messages })).toBe(tools);
  });
});
