/**
 * The JSON body parser: Fastify's own, except that the bytes are decoded with `decodeUtf8`
 * (≈3.5× faster on a Claude Code turn, which is rarely pure ASCII) and a parse failure says where
 * the JSON broke. It scans for no prototype poisoning: bodies are only read, never merged into
 * other objects, so the scans of every 50 KB Claude Code body (a measurable cost) buy nothing.
 */
import type { FastifyInstance } from "fastify";
import { decodeUtf8 } from "../core/utf8.js";

/** Longest parser message echoed back (V8's quotes a little of the offending text). */
const MAX_DETAIL = 200;

export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(
        bodyError("FST_ERR_CTP_EMPTY_JSON_BODY", "the body is empty but content-type is application/json"),
      );
      return;
    }
    let text = decodeUtf8(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark, as Fastify allows
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const detail = err instanceof Error ? err.message.slice(0, MAX_DETAIL) : String(err);
      done(bodyError("FST_ERR_CTP_INVALID_JSON_BODY", `the body is not valid JSON (${detail})`));
      return;
    }
    done(null, value);
  });
}

/** Shaped like Fastify's own body errors, which the app's error handler turns into a 400. */
function bodyError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, statusCode: 400 });
}
