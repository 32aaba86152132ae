/**
 * For the direct and bare-proxy baselines, the same content as a Gemini request: a rough,
 * bench-only translation (protocol.md F.2) so the baselines move a body of the same size and
 * shape as the gateway's upstream request. Not the gateway's translation, and not validated.
 */

function textOf(content) {
  if (typeof content === "string") return content;
  return content.map((b) => (b.type === "text" ? b.text : "")).join("\n");
}

/** Bench-only Anthropic → Gemini translation (protocol.md F.2), for the baselines' body size and shape. */
export function toGeminiBody(anthropic) {
  const contents = [];
  const push = (role, parts) => {
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  const names = new Map();
  for (const message of anthropic.messages) {
    const role = message.role === "assistant" ? "model" : "user";
    if (typeof message.content === "string") {
      push(role, [{ text: message.content }]);
      continue;
    }
    const parts = [];
    for (const block of message.content) {
      if (block.type === "text") parts.push({ text: block.text });
      else if (block.type === "tool_use") {
        names.set(block.id, block.name);
        parts.push({ functionCall: { id: block.id, name: block.name, args: block.input } });
      } else if (block.type === "tool_result") {
        const name = names.get(block.tool_use_id) ?? "unknown";
        parts.push({
          functionResponse: {
            id: block.tool_use_id,
            name,
            response: { output: textOf(block.content ?? "") },
          },
        });
      }
    }
    push(role, parts);
  }
  const system =
    anthropic.system === undefined
      ? []
      : typeof anthropic.system === "string"
        ? [anthropic.system]
        : anthropic.system.map((b) => b.text);
  return {
    contents,
    ...(system.length > 0 ? { systemInstruction: { parts: system.map((text) => ({ text })) } } : {}),
    ...(anthropic.tools
      ? {
          tools: [
            {
              functionDeclarations: anthropic.tools.map(({ name, description, input_schema }) => {
                const { $schema: _, ...parametersJsonSchema } = input_schema;
                return { name, description, parametersJsonSchema };
              }),
            },
          ],
        }
      : {}),
    generationConfig: { maxOutputTokens: anthropic.max_tokens, candidateCount: 1 },
  };
}
