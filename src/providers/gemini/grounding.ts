/**
 * Anthropic's web search server tool ↔ Gemini's Grounding with Google Search (protocol.md A.3, A.4).
 *
 * Request: a tool typed `web_search_*` becomes `{googleSearch: {}}` (the Gemini 2.x/3 tool;
 * `googleSearchRetrieval` is the Gemini 1.5 one). Gemini runs the searches itself, so nothing of
 * the tool's options maps: `max_uses` (Gemini decides how many queries), `allowed_domains` and
 * `user_location` have no Gemini API field, and `blocked_domains` would be `excludeDomains`, which
 * only Vertex AI accepts (the Gemini API rejects it, and both share this translation). They are
 * ignored. Web search is only sent without custom tools: Gemini 2.x answers "Tool use with function
 * calling is unsupported" to the mix, and Gemini 3's preview tool combination needs
 * `includeServerSideToolInvocations` plus Google's `toolCall`/`toolResponse` parts replayed in later
 * turns, which Anthropic history cannot carry. A request with both keeps its custom tools.
 *
 * Response: Gemini reports the searches as `candidates[0].groundingMetadata` (`webSearchQueries`,
 * `groundingChunks[].web{uri,title}`, `groundingSupports[]{segment, groundingChunkIndices}`),
 * normally on the last chunk, after the text it grounds. The text is streamed as it comes (it is
 * not held back); when the metadata arrives:
 * - each query becomes a `server_tool_use` (`web_search`, `{query}`) followed by its
 *   `web_search_tool_result`. Gemini does not say which query found which page, so every source
 *   goes in the first result list and the later lists are empty. Metadata with sources that arrives
 *   before any answer text is emitted at once, so the search blocks come first as on Anthropic's
 *   API; sources that arrive after their search's blocks get one more result list for that search.
 * - each grounding support becomes a `citations_delta` on the answer's text block if that block is
 *   still open (the usual case: the metadata rides on the chunk with the last text). Supports of
 *   text already closed (e.g. the answer was split by a thought) cannot be attached and are dropped.
 * Fields Gemini does not provide are filled the documented way for clients: `url` is Google's
 * grounding redirect link, `title` is what Gemini gives (often the site's domain), `page_age` is
 * null, `cited_text` is the answer sentence the source supports (Gemini returns no excerpt of the
 * page), and `encrypted_content` / `encrypted_index` are opaque placeholders (Claude Code ignores
 * them; they mean nothing to Anthropic's API).
 */
import type { EventBuilder, WebSearchCitation, WebSearchResult } from "../../core/event-builder.js";
import { randomId } from "../../core/ids.js";
import type { ToolChoice, ToolDefinition } from "../../protocol/anthropic/request-schema.js";
import type { StreamEvent } from "../../protocol/anthropic/types.js";

/** Anthropic's web search server tool (`web_search_20250305`, `…_20260209`, `…_20260318`, later ones). */
export function isWebSearchTool(tool: ToolDefinition): boolean {
  return tool.type?.startsWith("web_search_") === true;
}

/**
 * Whether the request gets `{googleSearch: {}}`: it offers web search, `tool_choice` is not `none`,
 * and no custom tool is declared (see the module comment).
 */
export function wantsGoogleSearch(
  tools: readonly ToolDefinition[] | undefined,
  toolChoice: ToolChoice | undefined,
  hasFunctions: boolean,
): boolean {
  if (hasFunctions || toolChoice?.type === "none") return false;
  return (tools ?? []).some(isWebSearchTool);
}

interface Source {
  url: string;
  title: string;
}

interface Support {
  /** The supported answer text, when Gemini sends it. */
  text: string | undefined;
  /** UTF-8 byte offsets into the answer (proto3 JSON omits a 0 start). */
  startByte: number;
  endByte: number | undefined;
  sources: Source[];
}

/** One chunk's `groundingMetadata`, narrowed; undefined when it holds nothing web-search related. */
export interface GroundingPiece {
  queries: string[];
  sources: Source[];
  supports: Support[];
}

/** Lenient read of `candidate.groundingMetadata`: unknown fields ignored, wrong shapes read as absent. */
export function readGroundingMetadata(raw: unknown): GroundingPiece | undefined {
  if (!isRecord(raw)) return undefined;
  const queries = asArray(raw.webSearchQueries).filter((q): q is string => typeof q === "string" && q !== "");
  // Indexes refer to this chunk's list; non-web chunks (maps, retrieval) stay as holes.
  const chunks = asArray(raw.groundingChunks).map((chunk): Source | undefined => {
    const web = isRecord(chunk) && isRecord(chunk.web) ? chunk.web : undefined;
    if (web === undefined || typeof web.uri !== "string" || web.uri === "") return undefined;
    return { url: web.uri, title: typeof web.title === "string" ? web.title : web.uri };
  });
  const supports = asArray(raw.groundingSupports).flatMap((s): Support[] => {
    if (!isRecord(s)) return [];
    const segment = isRecord(s.segment) ? s.segment : {};
    const sources = asArray(s.groundingChunkIndices).flatMap((i) =>
      typeof i === "number" && chunks[i] !== undefined ? [chunks[i]] : [],
    );
    if (sources.length === 0) return [];
    return [
      {
        text: typeof segment.text === "string" && segment.text !== "" ? segment.text : undefined,
        startByte: typeof segment.startIndex === "number" ? segment.startIndex : 0,
        endByte: typeof segment.endIndex === "number" ? segment.endIndex : undefined,
        sources,
      },
    ];
  });
  const sources = chunks.filter((c): c is Source => c !== undefined);
  if (queries.length === 0 && sources.length === 0) return undefined;
  return { queries, sources, supports };
}

/**
 * The web search state of one Gemini answer: the answer text so far (to place citations), the
 * queries and sources seen, and what was already emitted. Emits through the answer's EventBuilder.
 */
export class GroundingEmitter {
  private answer = "";
  /** Where the open text block starts in `answer`, and its block index. */
  private blockStart = 0;
  private blockIndex: number | undefined;
  private readonly queries: string[] = [];
  private readonly sources: Source[] = [];
  private supports: Support[] = [];
  private sentQueries = 0;
  private sentSources = 0;
  private lastSearchId: string | undefined;

  constructor(private readonly builder: EventBuilder) {}

  /** Record answer text the builder just put in its open text block. */
  noteText(text: string): void {
    const index = this.builder.openTextIndex;
    if (index !== this.blockIndex) {
      this.blockIndex = index;
      this.blockStart = this.answer.length;
    }
    this.answer += text;
  }

  /** Merge one chunk's metadata (queries and sources deduplicated, supports kept for citing). */
  add(piece: GroundingPiece): void {
    for (const query of piece.queries) if (!this.queries.includes(query)) this.queries.push(query);
    for (const source of piece.sources) {
      if (!this.sources.some((s) => s.url === source.url)) this.sources.push(source);
    }
    this.supports.push(...piece.supports);
  }

  /** `citations_delta` events for the supports that fall in the still-open answer block. */
  citations(): StreamEvent[] {
    const supports = this.supports;
    this.supports = [];
    if (this.blockIndex === undefined || this.builder.openTextIndex !== this.blockIndex) return [];
    const events: StreamEvent[] = [];
    const seen = new Set<string>();
    for (const support of supports) {
      const placed = this.place(support);
      if (placed === undefined) continue;
      for (const source of support.sources) {
        const key = `${source.url}\n${placed}`;
        if (seen.has(key)) continue;
        seen.add(key);
        events.push(...this.builder.citation(citationOf(source, placed)));
      }
    }
    return events;
  }

  /**
   * The search blocks now, if nothing of the answer was sent yet and the sources are known (so the
   * results are complete): they then lead the answer as on Anthropic's API.
   */
  beforeAnswer(): StreamEvent[] {
    return this.answer !== "" || this.sources.length === this.sentSources ? [] : this.searches();
  }

  /** `server_tool_use` + `web_search_tool_result` pairs for the queries and sources not sent yet. */
  searches(): StreamEvent[] {
    const queries = this.queries.slice(this.sentQueries);
    const sources = this.sources.slice(this.sentSources);
    this.sentQueries = this.queries.length;
    this.sentSources = this.sources.length;
    if (queries.length === 0) {
      if (sources.length === 0) return [];
      // Sources reported after their search's block: one more result list for that search rather
      // than a search that never ran (which would also be counted in usage).
      const events = this.lastSearchId === undefined ? this.search("") : [];
      return [...events, ...this.builder.webSearchResult(this.lastSearchId ?? "", sources.map(resultOf))];
    }
    return queries.flatMap((query, i) => [
      ...this.search(query),
      ...this.builder.webSearchResult(this.lastSearchId ?? "", i === 0 ? sources.map(resultOf) : []),
    ]);
  }

  private search(query: string): StreamEvent[] {
    this.lastSearchId = `srvtoolu_${randomId(24)}`;
    return this.builder.serverToolUse(this.lastSearchId, "web_search", { query });
  }

  /**
   * The cited answer text when the support lies in the open block, else undefined. Located by its
   * text (robust to how offsets count thoughts or parts), else by its UTF-8 byte offsets.
   */
  private place(support: Support): string | undefined {
    if (support.text !== undefined) {
      if (this.answer.indexOf(support.text, this.blockStart) !== -1) return support.text;
      // Found only in an earlier, closed block: that block can no longer take citations.
      if (this.answer.includes(support.text)) return undefined;
      // Not found verbatim (Gemini may normalise whitespace): still a claim of this answer.
      return support.text;
    }
    if (support.endByte === undefined) return undefined;
    const bytes = Buffer.from(this.answer, "utf8");
    const startChar = bytes.subarray(0, support.startByte).toString("utf8").length;
    if (startChar < this.blockStart) return undefined;
    const text = bytes.subarray(support.startByte, support.endByte).toString("utf8");
    return text === "" ? undefined : text;
  }
}

function resultOf(source: Source): WebSearchResult {
  return {
    type: "web_search_result",
    url: source.url,
    title: source.title,
    encrypted_content: opaque("content", source.url),
    page_age: null,
  };
}

function citationOf(source: Source, citedText: string): WebSearchCitation {
  return {
    type: "web_search_result_location",
    url: source.url,
    title: source.title,
    cited_text: citedText,
    encrypted_index: opaque("index", `${source.url}#${citedText.length}`),
  };
}

/** Placeholder for Anthropic's encrypted fields: marked as the gateway's, carrying nothing secret. */
function opaque(kind: string, value: string): string {
  return Buffer.from(`ccgate-gemini-grounding:${kind}:${value}`, "utf8").toString("base64");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
