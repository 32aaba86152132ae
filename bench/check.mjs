/**
 * Correctness of the answers while benchmarking. Two levels:
 * - `fullCheck`: parse the whole answer and compare it with what the fake sent (text, chunk
 *   count, stop reason, event order). Run on the first answers of every cell.
 * - `quickCheck`: cheap enough for every measured request (tail bytes, or a small JSON parse),
 *   the same work for every target so it does not bias the comparison.
 * Both return undefined when the answer is right, else a short reason.
 */
import { expectedText } from "./answer.mjs";

/** SSE frames → [{event, data}] (any of the three line-break styles). */
export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    if (block.trim() === "") continue;
    let event = "message";
    const data = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    events.push({ event, data: data.join("\n") });
  }
  return events;
}

function geminiStream(text, chunks) {
  const frames = parseSse(text).map((e) => JSON.parse(e.data));
  if (frames.length !== chunks) return `expected ${chunks} Gemini frames, got ${frames.length}`;
  const joined = frames.map((f) => f.candidates?.[0]?.content?.parts?.[0]?.text ?? "").join("");
  if (joined !== expectedText(chunks)) return "Gemini stream text differs from what the fake sent";
  if (frames.at(-1)?.candidates?.[0]?.finishReason !== "STOP")
    return "last Gemini frame has no finishReason STOP";
  return undefined;
}

function geminiJson(text, chunks) {
  const body = JSON.parse(text);
  if (body.candidates?.[0]?.content?.parts?.[0]?.text !== expectedText(chunks))
    return "Gemini JSON text differs";
  return undefined;
}

function anthropicStream(text, chunks) {
  const events = parseSse(text);
  const names = events.map((e) => e.event);
  if (names[0] !== "message_start") return `first event is ${names[0]}, not message_start`;
  if (names.at(-1) !== "message_stop") return `stream does not end with message_stop (last: ${names.at(-1)})`;
  if (names.includes("error"))
    return `stream carries an error event: ${events.find((e) => e.event === "error")?.data}`;
  let joined = "";
  let stopReason;
  for (const { event, data } of events) {
    const payload = JSON.parse(data);
    if (payload.type !== event) return `event ${event} carries type ${payload.type}`;
    if (event === "content_block_delta" && payload.delta?.type === "text_delta") joined += payload.delta.text;
    if (event === "message_delta") stopReason = payload.delta?.stop_reason;
  }
  if (joined !== expectedText(chunks))
    return `streamed text differs from the fake's (${joined.length} vs ${expectedText(chunks).length} chars)`;
  if (stopReason !== "end_turn") return `stop_reason ${stopReason}, expected end_turn`;
  return undefined;
}

function anthropicJson(text, chunks) {
  const message = JSON.parse(text);
  if (message.type !== "message") return `type ${message.type}, expected message: ${text.slice(0, 300)}`;
  const joined = (message.content ?? []).map((b) => (b.type === "text" ? b.text : "")).join("");
  if (joined !== expectedText(chunks)) return `message text differs from the fake's (${joined.length} chars)`;
  if (message.stop_reason !== "end_turn") return `stop_reason ${message.stop_reason}, expected end_turn`;
  return undefined;
}

/**
 * @param {"gemini"|"anthropic"} dialect what the target answers in
 * @param {boolean} stream
 */
export function fullCheck(dialect, stream, chunks, text) {
  try {
    if (dialect === "gemini") return stream ? geminiStream(text, chunks) : geminiJson(text, chunks);
    return stream ? anthropicStream(text, chunks) : anthropicJson(text, chunks);
  } catch (err) {
    return `unparseable answer (${err instanceof Error ? err.message : String(err)}): ${text.slice(0, 200)}`;
  }
}

const GEMINI_END = '"finishReason":"STOP"';
const ANTHROPIC_END = "event: message_stop";

/** `tail`: the last ≤ 512 bytes (stream) or the whole body (non-stream), as latin1/utf8 text. */
export function quickCheck(dialect, stream, chunks, tail) {
  if (stream) {
    const marker = dialect === "gemini" ? GEMINI_END : ANTHROPIC_END;
    return tail.includes(marker) ? undefined : `stream does not end with ${marker}: …${tail.slice(-160)}`;
  }
  return fullCheck(dialect, false, chunks, tail);
}
