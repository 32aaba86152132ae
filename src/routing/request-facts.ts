/**
 * What routing reads from a request body, each fact computed on first use only: most requests
 * are decided by the model name, and the token estimate walks the whole conversation.
 */
import { estimateInputTokens } from "../core/estimate-tokens.js";
import type { CountTokensRequest, RequestContentBlock } from "../protocol/anthropic/request-schema.js";

/** Thinking as the request asks for it (protocol.md A.5); `budget` only for `enabled`. */
export type ThinkingFact =
  | { mode: "enabled"; budget: number }
  | { mode: "adaptive" }
  | { mode: "between_tools" };

export class RequestFacts {
  private tokens: number | undefined;
  private anyImage: boolean | undefined;

  constructor(readonly request: CountTokensRequest | undefined) {}

  /** Local estimate of the input tokens (src/core/estimate-tokens.ts); 0 without a body. */
  estimatedTokens(): number {
    if (this.request === undefined) return 0;
    this.tokens ??= estimateInputTokens(this.request);
    return this.tokens;
  }

  /** Thinking requested; undefined when off, absent or `disabled`. */
  thinking(): ThinkingFact | undefined {
    const thinking = this.request?.thinking;
    if (thinking === undefined || thinking === null) return undefined;
    switch (thinking.type) {
      case "enabled":
        return { mode: "enabled", budget: thinking.budget_tokens };
      case "adaptive":
      case "between_tools":
        return { mode: thinking.type };
      case "disabled":
        return undefined;
      default: {
        const unknown: never = thinking;
        return unknown;
      }
    }
  }

  /** An image block in the last user turn, inside tool results and documents too. */
  lastUserTurnHasImage(): boolean {
    const messages = this.request?.messages ?? [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const message = messages[i];
      if (message?.role !== "user") continue;
      return typeof message.content !== "string" && containsImage(message.content);
    }
    return false;
  }

  /** An image anywhere in the conversation (what a text-only model could not read). */
  hasImage(): boolean {
    this.anyImage ??= (this.request?.messages ?? []).some(
      (m) => typeof m.content !== "string" && containsImage(m.content),
    );
    return this.anyImage;
  }

  /** Client tools are offered, so the model must support function calling. */
  hasTools(): boolean {
    return (this.request?.tools?.length ?? 0) > 0;
  }

  /** The web search server tool offered (`type: web_search_*` or named `web_search`), if any. */
  webSearchTool(): string | undefined {
    const tool = this.request?.tools?.find(
      (t) => t.type?.startsWith("web_search_") || t.name === "web_search",
    );
    return tool === undefined ? undefined : (tool.type ?? tool.name);
  }
}

function containsImage(blocks: readonly RequestContentBlock[]): boolean {
  return blocks.some((block) => {
    if (block.type === "image") return true;
    if (block.type === "tool_result") return Array.isArray(block.content) && containsImage(block.content);
    if (block.type === "document" && block.source.type === "content")
      return Array.isArray(block.source.content) && containsImage(block.source.content);
    return false;
  });
}
