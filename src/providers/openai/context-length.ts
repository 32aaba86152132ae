/**
 * Context-overflow errors → Anthropic's wording, which Claude Code matches (protocol.md C.4):
 * `prompt is too long: M tokens > N maximum` makes it compact the conversation;
 * `input length and \`max_tokens\` exceed context limit: A + B > N, …` makes it retry with a
 * smaller `max_tokens`. Which one depends on whether the input alone is over the limit.
 *
 * Recognised wordings:
 * - OpenAI, DeepSeek, older vLLM: "maximum context length is N tokens. However, you requested M
 *   tokens (A in the messages, B in the completion)" / "your messages resulted in M tokens";
 * - vLLM: "'max_tokens' or 'max_completion_tokens' is too large: B. This model's maximum context
 *   length is N tokens and your request has A input tokens (B > N - A)" and "maximum context
 *   length is N tokens. However, your request has M input tokens";
 * - OpenRouter: "maximum context length is N tokens. However, you requested about M tokens
 *   (A of text input, T of tool input, B in the output)";
 * - llama.cpp / LM Studio: `exceed_context_size_error` with `n_ctx`, `n_prompt_tokens`;
 * - Gemini OpenAI-compat: "input token count (M) exceeds the maximum number of tokens allowed (N)".
 */
import type { UpstreamErrorInfo } from "./error-body.js";

const MAXIMUM = /maximum context length is (\d+) tokens/i;
const TOTAL = /(?:resulted in|requested(?: about)?|your request has) (\d+)(?: input)? tokens/i;
const GEMINI = /input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)/i;

/** How the upstream split the request: input tokens, and the completion it asked room for. */
interface Split {
  input: number;
  output: number | undefined;
}

/** Each wording that names the input and output parts separately → those parts. */
const SPLITS: readonly { pattern: RegExp; read: (m: RegExpExecArray) => Split }[] = [
  {
    pattern: /\((\d+) in the messages, (\d+) in the completion\)/i,
    read: (m) => ({ input: Number(m[1]), output: Number(m[2]) }),
  },
  {
    pattern:
      /is too large: (\d+)\. This model's maximum context length is \d+ tokens and your request has (\d+) input tokens/i,
    read: (m) => ({ input: Number(m[2]), output: Number(m[1]) }),
  },
  {
    pattern: /\((\d+) of text input(?:, (\d+) of tool input)?(?:, (\d+) in the output)?\)/i,
    read: (m) => ({ input: Number(m[1]) + Number(m[2] ?? 0), output: optionalNumber(m[3]) }),
  },
];

/** The Anthropic-worded message for a context overflow, or undefined when it is none. */
export function contextLengthMessage(error: UpstreamErrorInfo): string | undefined {
  const text = error.message;
  const gemini = GEMINI.exec(text);
  if (gemini !== null) return promptTooLong(Number(gemini[1]), Number(gemini[2]));
  const maximum = MAXIMUM.exec(text);
  const max = maximum !== null ? Number(maximum[1]) : num(error.fields.n_ctx);
  const split = splitOf(text);
  if (max !== undefined && split !== undefined) return splitMessage(split, max);
  const total = TOTAL.exec(text);
  const prompt = total !== null ? Number(total[1]) : num(error.fields.n_prompt_tokens);
  if (max !== undefined && prompt !== undefined) return promptTooLong(prompt, max);
  const flagged =
    maximum !== null ||
    error.code === "context_length_exceeded" ||
    error.type === "exceed_context_size_error";
  return flagged ? `prompt is too long: ${text}` : undefined;
}

function splitOf(text: string): Split | undefined {
  for (const { pattern, read } of SPLITS) {
    const match = pattern.exec(text);
    if (match !== null) return read(match);
  }
  return undefined;
}

/**
 * Input over the limit by itself: only compacting helps. Otherwise the completion's room is the
 * problem, and Claude Code retries at once with `max_tokens` = limit − input − a margin.
 */
function splitMessage(split: Split, max: number): string {
  if (split.output === undefined || split.input > max) return promptTooLong(split.input, max);
  return `input length and \`max_tokens\` exceed context limit: ${split.input} + ${split.output} > ${max}, decrease input length or \`max_tokens\` and try again`;
}

function promptTooLong(tokens: number, maximum: number): string {
  return `prompt is too long: ${tokens} tokens > ${maximum} maximum`;
}

function optionalNumber(digits: string | undefined): number | undefined {
  return digits === undefined ? undefined : Number(digits);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
