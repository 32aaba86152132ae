/**
 * Gemini `streamGenerateContent?alt=sse` body → Anthropic stream events (protocol.md F.3, B.2–B.5).
 *
 * Each SSE `data:` is one GenerateContentResponse holding only new parts; events are emitted as
 * each chunk arrives. The stream ends on connection close (no `[DONE]`), so an answer is only
 * complete once a `finishReason` was seen: anything else throws a transient `GatewayError` and a
 * truncated answer never looks complete. Block numbering, signature placement and usage totals
 * are the `EventBuilder`'s job; Google Search grounding becomes web search blocks and citations
 * (grounding.ts).
 */
import type { GenerateContentResponse, Part } from "@google/genai";
import { type GatewayError, upstreamBroken } from "../../core/errors.js";
import { decodeWith, type EventBatch, emit, type StreamDecoder } from "../../core/event-batches.js";
import { EventBuilder } from "../../core/event-builder.js";
import type { AttemptContext } from "../../core/provider.js";
import type { SseMessage } from "../../core/sse-decode.js";
import type { StreamEvent } from "../../protocol/anthropic/types.js";
import { decodeGeminiError } from "./errors.js";
import { GroundingEmitter, type GroundingPiece, readGroundingMetadata } from "./grounding.js";
import { mapGeminiFinishReason } from "./map-finish-reason.js";
import { encodeThinkingSignature, encodeToolUseId } from "./signatures.js";
import { type GeminiUsage, mapGeminiUsage } from "./usage.js";

/** The parts of a chunk this decoder reads, narrowed from `unknown`. */
interface Chunk {
  parts: Part[];
  finishReason: string | undefined;
  finishMessage: string | undefined;
  /** The chunk had a candidate (possibly without content). */
  hasCandidate: boolean;
  blockReason: string | undefined;
  blockMessage: string | undefined;
  usage: GeminiUsage | undefined;
  grounding: GroundingPiece | undefined;
}

/** The GenerateContentResponse fields read here (the rest, e.g. modelVersion, is ignored). */
type ResponseField = keyof Pick<GenerateContentResponse, "candidates" | "promptFeedback" | "usageMetadata">;

/** Decode one Gemini SSE response body; see the module comment for the guarantees. */
export function decodeGeminiStream(
  body: AsyncIterable<Uint8Array>,
  ctx: AttemptContext,
): AsyncGenerator<EventBatch> {
  return decodeWith(body, new GeminiStreamDecoder(ctx));
}

class GeminiStreamDecoder implements StreamDecoder {
  private readonly builder: EventBuilder;
  private readonly grounding: GroundingEmitter;
  private readonly model: string;
  private chunks = 0;
  // Some chunk held a part or a finish reason (not just empty candidates or usage).
  private answered = false;
  private finishReason: string | undefined;
  private blocked = false;
  // Which kind of block the builder has open, so a thinking block gets its signature once.
  private open: "thinking" | "other" | undefined;

  constructor(ctx: AttemptContext) {
    this.builder = new EventBuilder({ model: ctx.requestedModel });
    this.grounding = new GroundingEmitter(this.builder);
    this.model = ctx.upstreamModel;
  }

  message(message: SseMessage, out: StreamEvent[]): boolean {
    const data = message.data.trim();
    if (data === "" || data === "[DONE]") return false; // not Gemini's, but harmless from a relay
    const { builder, grounding } = this;
    const chunk = parseChunk(data);
    this.chunks++;
    if (chunk.usage !== undefined) builder.setUsage(mapGeminiUsage(chunk.usage));
    emit(out, builder.start());
    this.answered ||= chunk.parts.length > 0 || chunk.finishReason !== undefined;

    for (const part of chunk.parts) this.part(part, out);

    if (chunk.grounding !== undefined) {
      grounding.add(chunk.grounding);
      // Searches complete before any answer text lead the answer, as on Anthropic's API.
      const early = grounding.beforeAnswer();
      if (early.length > 0) this.open = undefined;
      emit(out, early);
    }

    if (chunk.blockReason !== undefined && !chunk.hasCandidate && !this.blocked) {
      // Prompt blocked, no candidate (F.3): a valid refusal whose only text says why.
      const detail = chunk.blockMessage !== undefined ? `: ${chunk.blockMessage}` : "";
      emit(out, builder.text(`Gemini blocked the prompt (${chunk.blockReason})${detail}`));
      this.blocked = true;
    }
    if (chunk.finishReason !== undefined) {
      const outcome = mapGeminiFinishReason(chunk.finishReason, builder.hasToolCalls);
      if (outcome.kind === "malformed") {
        const detail = chunk.finishMessage !== undefined ? `: ${chunk.finishMessage.slice(0, 300)}` : "";
        throw malformed(`Gemini ended the answer with ${outcome.reason}, no usable output${detail}`);
      }
      this.finishReason = chunk.finishReason;
      // Citations go on the answer block while it is still open, then the search blocks follow.
      emit(out, grounding.citations());
      emit(out, grounding.searches());
      // Close the block now; usage may still follow, so the message ends when the body does.
      emit(out, builder.closeBlock());
      this.open = undefined;
    }
    return false;
  }

  private part(part: Part, out: StreamEvent[]): void {
    const { builder } = this;
    if (part.functionCall !== undefined) {
      const call = part.functionCall;
      if (typeof call.name !== "string" || call.name === "") {
        throw malformed("Gemini returned a function call without a name");
      }
      const id = encodeToolUseId({
        model: this.model,
        ...(part.thoughtSignature !== undefined && { signature: part.thoughtSignature }),
        ...(call.id !== undefined && { geminiId: call.id }),
      });
      emit(out, builder.toolCall(id, call.name, call.args ?? {}));
      this.open = undefined;
    } else if (part.thought === true) {
      const text = typeof part.text === "string" ? part.text : "";
      const signature = part.thoughtSignature;
      if (text === "" && signature === undefined) return;
      // Every thinking block carries a signature (Claude Code echoes it, F.6): the block's
      // first part sets one (with or without Gemini's), a later part's signature replaces it.
      const fresh = this.open !== "thinking";
      emit(
        out,
        builder.thinking(
          text,
          fresh || signature !== undefined ? encodeThinkingSignature(this.model, signature) : undefined,
        ),
      );
      this.open = "thinking";
    } else if (typeof part.text === "string" && part.text !== "") {
      // A signature on a text part has no Anthropic slot; echoing it is recommended, not
      // enforced (F.6), so it is dropped. So is an empty-text part that only carries one.
      emit(out, builder.text(part.text));
      this.grounding.noteText(part.text);
      this.open = "other";
    }
    // Other part kinds (inlineData, executableCode, …) are never requested by the gateway.
  }

  end(out: StreamEvent[]): void {
    const { builder, finishReason } = this;
    if (finishReason !== undefined) {
      const outcome = mapGeminiFinishReason(finishReason, builder.hasToolCalls);
      if (outcome.kind === "malformed") throw malformed(`Gemini ended the answer with ${outcome.reason}`);
      emit(out, this.grounding.searches()); // metadata that trailed the finish reason
      emit(out, builder.finish(outcome.stopReason));
      return;
    }
    if (this.blocked) {
      emit(out, builder.finish("refusal"));
      return;
    }
    if (this.chunks > 0 && !this.answered) {
      throw malformed("Gemini stream held no candidates and no finish reason");
    }
    throw upstreamBroken(
      `Gemini stream ended before a finish reason (${this.chunks} chunks received); the answer is incomplete`,
      undefined,
      "UPSTREAM_TRUNCATED",
    );
  }
}

function malformed(message: string, cause?: unknown): GatewayError {
  return upstreamBroken(message, cause, "UPSTREAM_MALFORMED");
}

/** Lenient narrowing of one chunk: unknown fields are ignored, wrong shapes read as absent. */
function parseChunk(data: string): Chunk {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    throw malformed(`Gemini sent a chunk that is not JSON: ${data.slice(0, 80)}`, err);
  }
  if (!isRecord(value)) throw malformed("Gemini sent a chunk that is not a JSON object");
  // A mid-stream failure arrives as a data chunk holding Google's error object (F.9).
  if (value.error !== undefined) throw decodeGeminiError(200, {}, data);
  const response: Partial<Record<ResponseField, unknown>> = value;
  // candidateCount is 1: the first candidate is the answer.
  const candidate: unknown = Array.isArray(response.candidates) ? response.candidates[0] : undefined;
  const feedback: unknown = response.promptFeedback;
  return {
    parts: isRecord(candidate) ? readParts(candidate) : [],
    finishReason:
      isRecord(candidate) && typeof candidate.finishReason === "string" ? candidate.finishReason : undefined,
    finishMessage:
      isRecord(candidate) && typeof candidate.finishMessage === "string"
        ? candidate.finishMessage
        : undefined,
    hasCandidate: isRecord(candidate),
    blockReason:
      isRecord(feedback) && typeof feedback.blockReason === "string" ? feedback.blockReason : undefined,
    blockMessage:
      isRecord(feedback) && typeof feedback.blockReasonMessage === "string"
        ? feedback.blockReasonMessage
        : undefined,
    usage: isRecord(response.usageMetadata) ? readUsage(response.usageMetadata) : undefined,
    grounding: isRecord(candidate) ? readGroundingMetadata(candidate.groundingMetadata) : undefined,
  };
}

function readParts(candidate: Record<string, unknown>): Part[] {
  const parts: unknown = isRecord(candidate.content) ? candidate.content.parts : undefined;
  if (!Array.isArray(parts)) return [];
  const out: Part[] = [];
  for (const raw of parts) {
    if (!isRecord(raw)) continue;
    const part: Part = {};
    if (typeof raw.text === "string") part.text = raw.text;
    if (raw.thought === true) part.thought = true;
    if (typeof raw.thoughtSignature === "string" && raw.thoughtSignature !== "") {
      part.thoughtSignature = raw.thoughtSignature;
    }
    if (raw.functionCall !== undefined) {
      const call = raw.functionCall;
      if (!isRecord(call)) throw malformed("Gemini sent a functionCall that is not an object");
      if (call.args !== undefined && call.args !== null && !isRecord(call.args)) {
        throw malformed("Gemini sent functionCall.args that are not a JSON object");
      }
      part.functionCall = {
        ...(typeof call.name === "string" && { name: call.name }),
        ...(typeof call.id === "string" && call.id !== "" && { id: call.id }),
        ...(isRecord(call.args) && { args: call.args }),
      };
    }
    out.push(part);
  }
  return out;
}

function readUsage(raw: Record<string, unknown>): GeminiUsage {
  const usage: GeminiUsage = {};
  const keys = [
    "promptTokenCount",
    "cachedContentTokenCount",
    "toolUsePromptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
  ] as const;
  for (const key of keys) {
    const value = raw[key];
    if (typeof value === "number") usage[key] = value;
  }
  return usage;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
