/**
 * The body's max-tokens member, written first so it can be lowered in the finished bytes.
 *
 * The attempt loop builds one body per target before the first upstream call and then drops
 * the client request (attempt-loop.ts, `BodyContext`), so a retry cannot rebuild the body: when
 * an upstream has just stated a model's completion limit, `buildRequest` lowers the value in the
 * bytes instead. As the first member it sits at a fixed place: no parsing, one copy.
 */

export type MaxTokensField = "max_completion_tokens" | "max_tokens";

/** `{[field]: tokens}` as the object literal that starts the body. */
export function maxTokensMember(
  field: MaxTokensField,
  tokens: number,
): { max_completion_tokens: number } | { max_tokens: number } {
  return field === "max_tokens" ? { max_tokens: tokens } : { max_completion_tokens: tokens };
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * `body` with its leading `{"<field>":N` lowered to `ceiling` when N is above it; the same body
 * otherwise (also when it does not start that way: nothing else is touched).
 */
export function clampBodyMaxTokens(
  body: string | Uint8Array,
  field: MaxTokensField,
  ceiling: number,
): string | Uint8Array {
  const bytes =
    typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const prefix = Buffer.from(`{"${field}":`);
  if (bytes.length <= prefix.length || !bytes.subarray(0, prefix.length).equals(prefix)) return body;
  let end = prefix.length;
  while (end < bytes.length && bytes[end]! >= DIGIT_0 && bytes[end]! <= DIGIT_9) end++;
  const value = Number(bytes.subarray(prefix.length, end).toString("latin1"));
  if (end === prefix.length || value <= ceiling) return body;
  return Buffer.concat([prefix, Buffer.from(String(ceiling)), bytes.subarray(end)]);
}
