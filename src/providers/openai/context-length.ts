/**
 * Context-overflow errors → Anthropic's wording, which Claude Code matches to compact or shrink
 * `max_tokens` (protocol.md C.4). Recognises OpenAI / vLLM / DeepSeek / OpenRouter
 * ("maximum context length is N tokens. However, you requested M tokens (A in the messages,
 * B in the completion)"), llama.cpp / LM Studio (`exceed_context_size_error` with `n_ctx`,
 * `n_prompt_tokens`) and Gemini OpenAI-compat ("input token count (M) exceeds the maximum
 * number of tokens allowed (N)").
 */
import type { UpstreamErrorInfo } from "./error-body.js";

const MAXIMUM = /maximum context length is (\d+) tokens/i;
const SPLIT = /\((\d+) in the messages, (\d+) in the completion\)/i;
const TOTAL = /(?:resulted in|requested)(?: about)? (\d+) tokens/i;
const GEMINI = /input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)/i;

/** The Anthropic-worded message for a context overflow, or undefined when it is none. */
export function contextLengthMessage(error: UpstreamErrorInfo): string | undefined {
  const text = error.message;
  const gemini = GEMINI.exec(text);
  if (gemini !== null) return promptTooLong(Number(gemini[1]), Number(gemini[2]));
  const maximum = MAXIMUM.exec(text);
  const nCtx = num(error.fields.n_ctx);
  const max = maximum !== null ? Number(maximum[1]) : nCtx;
  const split = SPLIT.exec(text);
  if (max !== undefined && split !== null) {
    const input = Number(split[1]);
    const output = Number(split[2]);
    if (input > max) return promptTooLong(input, max);
    return `input length and \`max_tokens\` exceed context limit: ${input} + ${output} > ${max}, decrease input length or \`max_tokens\` and try again`;
  }
  const total = TOTAL.exec(text);
  const prompt = total !== null ? Number(total[1]) : num(error.fields.n_prompt_tokens);
  if (max !== undefined && prompt !== undefined) return promptTooLong(prompt, max);
  const flagged =
    maximum !== null ||
    error.code === "context_length_exceeded" ||
    error.type === "exceed_context_size_error";
  return flagged ? `prompt is too long: ${text}` : undefined;
}

function promptTooLong(tokens: number, maximum: number): string {
  return `prompt is too long: ${tokens} tokens > ${maximum} maximum`;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
