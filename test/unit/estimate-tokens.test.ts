import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  estimateInputTokens,
  IMAGE_MAX_TOKENS,
  imageSize,
  PDF_TOKENS_PER_PAGE,
  textTokens,
} from "../../src/core/estimate-tokens.js";
import {
  type CountTokensRequest,
  countTokensRequestSchema,
  messagesRequestSchema,
} from "../../src/protocol/anthropic/request-schema.js";
import { CLAUDE_CODE_FIXTURES } from "../helpers/fixtures.js";

const FIXTURES = CLAUDE_CODE_FIXTURES;

function req(extra: Record<string, unknown> = {}, content: unknown[] = [{ type: "text", text: "hello" }]) {
  return countTokensRequestSchema.parse({ model: "m", messages: [{ role: "user", content }], ...extra });
}

/** A PNG that is only a header: enough for the size rule, like a real screenshot's first bytes. */
function pngHeader(width: number, height: number): string {
  const b = Buffer.alloc(33);
  Buffer.from("\x89PNG\r\n\x1a\n", "latin1").copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write("IHDR", 12, "latin1");
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b.toString("base64");
}
const png = (w: number, h: number) => ({
  type: "image",
  source: { type: "base64", media_type: "image/png", data: pngHeader(w, h) },
});
const pdf = (pages: number) => {
  const body = Array.from(
    { length: pages },
    (_, i) => `${i + 3} 0 obj << /Type /Page /Parent 2 0 R >> endobj`,
  );
  const text = `%PDF-1.4\n2 0 obj << /Type /Pages /Count ${pages} >> endobj\n${body.join("\n")}\n%%EOF`;
  return {
    type: "document",
    source: { type: "base64", media_type: "application/pdf", data: Buffer.from(text).toString("base64") },
  };
};

describe("textTokens", () => {
  it("is ceil(chars / 3.5) for ASCII and one token per non-ASCII unit", () => {
    expect(textTokens("")).toBe(0);
    expect(textTokens("a".repeat(7))).toBe(2);
    expect(textTokens("a".repeat(8))).toBe(3);
    expect(textTokens("日本語")).toBe(3);
  });
});

describe("estimateInputTokens", () => {
  it("is deterministic", () => {
    const r = req({ system: "be brief" });
    expect(estimateInputTokens(r)).toBe(estimateInputTokens(structuredClone(r)));
  });

  it("grows with text", () => {
    let last = 0;
    for (const n of [0, 10, 100, 1_000, 10_000]) {
      const count = estimateInputTokens(req({}, [{ type: "text", text: "word ".repeat(n) }]));
      expect(count).toBeGreaterThan(last);
      last = count;
    }
  });

  const base = estimateInputTokens(req());
  const tool = (description: string) => ({
    name: "Read",
    description,
    input_schema: { type: "object", properties: { path: { type: "string" } } },
  });
  const hello = { type: "text", text: "hello" };
  // Each case puts `p` in one block type only: a field the estimate forgot would not grow the count
  // (a fixed per-block overhead cannot make this pass).
  it.each<[string, (p: string) => CountTokensRequest]>([
    ["a string system prompt", (p) => req({ system: p })],
    ["a block system prompt", (p) => req({ system: [{ type: "text", text: p }] })],
    ["a tool", (p) => req({ tools: [tool(p)] })],
    ["a versioned tool", (p) => req({ tools: [{ type: "bash_20250124", name: "bash", note: p }] })],
    [
      "a structured output schema",
      (p) => req({ output_config: { format: { type: "json_schema", schema: { description: p } } } }),
    ],
    [
      "a text document",
      (p) =>
        req({}, [hello, { type: "document", source: { type: "text", media_type: "text/plain", data: p } }]),
    ],
    [
      "a content document",
      (p) => req({}, [hello, { type: "document", source: { type: "content", content: p } }]),
    ],
    [
      "a document title",
      (p) => req({}, [hello, { type: "document", title: p, source: { type: "text", data: "" } }]),
    ],
    ["a thinking block", (p) => req({}, [hello, { type: "thinking", thinking: p, signature: "s" }])],
    ["a redacted thinking block", (p) => req({}, [hello, { type: "redacted_thinking", data: p }])],
    ["a tool_use", (p) => req({}, [hello, { type: "tool_use", id: "t", name: "Read", input: { path: p } }])],
    ["a string tool_result", (p) => req({}, [{ type: "tool_result", tool_use_id: "t", content: p }, hello])],
    [
      "a block tool_result",
      (p) => req({}, [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: p }] }]),
    ],
    [
      "a search_result",
      (p) =>
        req({}, [
          hello,
          { type: "search_result", source: "s", title: "t", content: [{ type: "text", text: p }] },
        ]),
    ],
    [
      "a server_tool_use",
      (p) => req({}, [hello, { type: "server_tool_use", id: "s", name: "web_search", input: { query: p } }]),
    ],
    [
      "a server tool result",
      (p) => req({}, [hello, { type: "web_search_tool_result", tool_use_id: "s", content: [{ text: p }] }]),
    ],
    [
      "a tool_reference",
      (p) =>
        req({}, [
          {
            type: "tool_result",
            tool_use_id: "t",
            content: [{ type: "tool_reference", tool_name: "x", note: p }],
          },
        ]),
    ],
    ["a container_upload", (p) => req({}, [hello, { type: "container_upload", file_id: "f", note: p }])],
    [
      "a mid-conversation system message",
      (p) =>
        countTokensRequestSchema.parse({
          model: "m",
          messages: [
            { role: "user", content: [hello] },
            { role: "system", content: p },
          ],
        }),
    ],
  ])("counts the text of %s", (_name, build) => {
    const small = estimateInputTokens(build("x"));
    const big = estimateInputTokens(build("x".repeat(701)));
    expect(small).toBeGreaterThan(base - 5);
    expect(big - small).toBeGreaterThanOrEqual(200);
  });

  it.each<[string, unknown]>([
    ["an image", png(640, 480)],
    ["a url image", { type: "image", source: { type: "url", url: "https://x/y.png" } }],
    ["a file image", { type: "image", source: { type: "file", file_id: "f" } }],
    ["a PDF", pdf(1)],
    ["a url PDF", { type: "document", source: { type: "url", url: "https://x/y.pdf" } }],
  ])("counts %s at its fixed cost", (_name, block) => {
    expect(estimateInputTokens(req({}, [hello, block])) - base).toBeGreaterThanOrEqual(400);
  });

  it("counts tool_result content arrays, including images", () => {
    const text = estimateInputTokens(
      req({}, [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "a" }] }]),
    );
    const withImage = estimateInputTokens(
      req({}, [
        { type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "a" }, png(750, 100)] },
      ]),
    );
    expect(withImage - text).toBeGreaterThanOrEqual(100);
  });

  it("adds the tool-use system prompt once, not per tool", () => {
    const one = estimateInputTokens(req({ tools: [tool("d")] }));
    const two = estimateInputTokens(req({ tools: [tool("d"), { ...tool("d"), name: "Read2" }] }));
    expect(one - base).toBeGreaterThan(350);
    expect(two - one).toBeLessThan(350);
  });

  it("prices images by their size, capped at 1600", () => {
    const withImage = (w: number, h: number) =>
      estimateInputTokens(req({}, [png(w, h)])) - estimateInputTokens(req({}, []));
    expect(withImage(750, 100)).toBeLessThan(withImage(750, 750));
    expect(withImage(4000, 3000)).toBeLessThanOrEqual(IMAGE_MAX_TOKENS + 10);
    expect(withImage(4000, 3000)).toBeGreaterThanOrEqual(IMAGE_MAX_TOKENS);
  });

  it("prices a JPEG (no readable size) by bytes, capped", () => {
    const jpeg = (bytes: number) => ({
      type: "image",
      source: {
        type: "base64",
        media_type: "image/jpeg",
        data: Buffer.alloc(bytes, 0xff).toString("base64"),
      },
    });
    const cost = (bytes: number) =>
      estimateInputTokens(req({}, [jpeg(bytes)])) - estimateInputTokens(req({}, []));
    expect(cost(10_000)).toBeLessThan(cost(50_000));
    expect(cost(5_000_000)).toBeLessThanOrEqual(IMAGE_MAX_TOKENS + 10);
  });

  it("prices PDFs per page", () => {
    const cost = (pages: number) =>
      estimateInputTokens(req({}, [pdf(pages)])) - estimateInputTokens(req({}, []));
    expect(cost(1)).toBeGreaterThanOrEqual(PDF_TOKENS_PER_PAGE);
    expect(cost(4) - cost(1)).toBe(3 * PDF_TOKENS_PER_PAGE);
  });

  it("accepts a Messages request as well", () => {
    const m = messagesRequestSchema.parse({
      model: "m",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(estimateInputTokens(m)).toBeGreaterThan(0);
  });
});

describe("imageSize", () => {
  it("reads PNG, GIF and WebP (VP8X) headers", () => {
    expect(imageSize(Buffer.from(pngHeader(640, 480), "base64"))).toEqual({ width: 640, height: 480 });
    const gif = Buffer.alloc(13);
    gif.write("GIF89a", 0, "latin1");
    gif.writeUInt16LE(320, 6);
    gif.writeUInt16LE(200, 8);
    expect(imageSize(gif)).toEqual({ width: 320, height: 200 });
    const webp = Buffer.alloc(30);
    webp.write("RIFF", 0, "latin1");
    webp.write("WEBPVP8X", 8, "latin1");
    webp.writeUIntLE(1023, 24, 3);
    webp.writeUIntLE(767, 27, 3);
    expect(imageSize(webp)).toEqual({ width: 1024, height: 768 });
    expect(imageSize(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBeUndefined();
  });
});

describe("Claude Code fixtures", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".json"));
  it("exist", () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    const raw = readFileSync(join(FIXTURES, file), "utf8");
    const body = messagesRequestSchema.parse((JSON.parse(raw) as { body: unknown }).body);
    const tokens = estimateInputTokens(body);
    const bytes = Buffer.byteLength(raw);
    // ~57 KB bodies carry ~31 KB of tool schemas + ~7 KB system: 8k–40k tokens is plausible.
    const [low, high] = bytes > 50_000 ? [8_000, 40_000] : [2_000, 40_000];
    it(`${file} (${bytes} bytes) ≈ ${tokens} tokens`, () => {
      expect(tokens, `${file}: ${tokens} tokens`).toBeGreaterThanOrEqual(low);
      expect(tokens, `${file}: ${tokens} tokens`).toBeLessThanOrEqual(high);
    });
  }
});
