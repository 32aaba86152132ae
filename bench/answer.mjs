/**
 * The fake Gemini's answer, shared by the fake (which sends it) and the checks (which expect it).
 *
 * The number of streamed chunks is carried by the model name (`gemini-bench-n100` → 100 chunks), so
 * the same number reaches the fake whether the request comes directly, through the bare proxy or
 * through the gateway (whose `gemini-*` pass-through route keeps the model name).
 */

/** Model names of the scenarios: the suffix is the number of chunks in the answer. */
export const SMALL_MODEL = "gemini-bench-n10";
export const CLAUDE_CODE_MODEL = "gemini-bench-n100";

/** Upper bound on chunks, so a typo cannot make the fake write gigabytes. */
const MAX_CHUNKS = 10_000;
const CHUNK_CHARS = 80;
const TOKENS_PER_CHUNK = 20;

/** Chunks for a model name (`…-n<N>`); 1 for any other name. */
export function chunkCountOf(model) {
  const match = /-n(\d+)$/.exec(model);
  if (match === null) return 1;
  return Math.min(Math.max(Number(match[1]), 1), MAX_CHUNKS);
}

/** Text of chunk `i` (0-based): plain ASCII, exactly CHUNK_CHARS long, deterministic. */
export function chunkText(i) {
  const line = `Chunk ${i} of the answer:${" lorem ipsum dolor sit amet".repeat(4)}`;
  return `${line.slice(0, CHUNK_CHARS - 1)} `;
}

/** The whole answer text of an N-chunk answer. */
export function expectedText(n) {
  let text = "";
  for (let i = 0; i < n; i++) text += chunkText(i);
  return text;
}

function usage(promptTokens, candidates) {
  return {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidates,
    totalTokenCount: promptTokens + candidates,
  };
}

/**
 * The `alt=sse` body of an N-chunk answer as separate frames (protocol.md F.3): one
 * GenerateContentResponse per `data:` line, `\r\n\r\n` after each, running usage totals,
 * `finishReason: STOP` on the last chunk only.
 */
export function geminiSseFrames(n, model, promptTokens) {
  const frames = [];
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const candidate = {
      content: { role: "model", parts: [{ text: chunkText(i) }] },
      ...(last ? { finishReason: "STOP" } : {}),
      index: 0,
    };
    const response = {
      candidates: [candidate],
      usageMetadata: usage(promptTokens, (i + 1) * TOKENS_PER_CHUNK),
      modelVersion: model,
      responseId: "bench-response-0001",
    };
    frames.push(Buffer.from(`data: ${JSON.stringify(response)}\r\n\r\n`));
  }
  return frames;
}

/** The `:generateContent` (non-stream) body of the same answer. */
export function geminiJson(n, model, promptTokens) {
  return Buffer.from(
    JSON.stringify({
      candidates: [
        { content: { role: "model", parts: [{ text: expectedText(n) }] }, finishReason: "STOP", index: 0 },
      ],
      usageMetadata: usage(promptTokens, n * TOKENS_PER_CHUNK),
      modelVersion: model,
      responseId: "bench-response-0001",
    }),
  );
}
