import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { inlineUrlSources, type UrlFetchOptions } from "../../src/core/inline-url-sources.js";
import { isBlockedAddress } from "../../src/core/public-address.js";
import { type MessagesRequest, messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";

// `*.test` names resolve through this table (RFC 2606 reserves `.test`, so the system resolver
// would answer ENOTFOUND): a fetch that reaches the server proves the connection used the checked
// address, not a second DNS query.
const fakeDns: Record<string, { address: string; family: number }[]> = {
  "pinned.test": [{ address: "127.0.0.1", family: 4 }],
  "mixed.test": [
    { address: "93.184.215.14", family: 4 },
    { address: "10.0.0.7", family: 4 },
  ],
};
vi.mock("node:dns/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:dns/promises")>();
  const lookup = async (host: string, options: object) =>
    fakeDns[host] ?? real.lookup(host, { ...options, all: true });
  return { ...real, lookup, default: { ...real, lookup } };
});

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF\n", "latin1");
const MAX_BYTES = 1_000;

const routes: Record<string, (res: ServerResponse) => void> = {
  "/img.png": (res) => res.writeHead(200, { "content-type": "image/png" }).end(PNG),
  "/img.bin": (res) => res.writeHead(200, { "content-type": "application/octet-stream" }).end(PNG),
  "/doc.pdf": (res) => res.writeHead(200, { "content-type": "application/pdf" }).end(PDF),
  "/notes.txt": (res) =>
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("héllo notes"),
  "/big.png": (res) => res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(MAX_BYTES + 1)),
  "/big-chunked.png": (res) => {
    // No content-length: the cap must hold while streaming.
    res.writeHead(200, { "content-type": "image/png" });
    for (let i = 0; i < 4; i++) res.write(Buffer.alloc(400));
    res.end();
  },
  "/r1": (res) => res.writeHead(302, { location: "/r2" }).end(),
  "/r2": (res) => res.writeHead(301, { location: "r3" }).end(),
  "/r3": (res) => res.writeHead(307, { location: "/img.png" }).end(),
  "/loop0": (res) => res.writeHead(302, { location: "/loop1" }).end(),
  "/loop1": (res) => res.writeHead(302, { location: "/loop2" }).end(),
  "/loop2": (res) => res.writeHead(302, { location: "/loop3" }).end(),
  "/loop3": (res) => res.writeHead(302, { location: "/loop4" }).end(),
  "/loop4": (res) => res.writeHead(302, { location: "/img.png" }).end(),
  "/to-file": (res) => res.writeHead(302, { location: "file:///etc/passwd" }).end(),
  "/page.html": (res) => res.writeHead(200, { "content-type": "text/html" }).end("<html></html>"),
  "/slow.png": () => {
    // Never answers: the deadline must fire.
  },
};

let server: Server;
let base: string;
const hits = new Map<string, number>();
const totalHits = () => [...hits.values()].reduce((a, b) => a + b, 0);

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[path];
    if (route === undefined) res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    else route(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

beforeEach(() => hits.clear());

const allow: UrlFetchOptions = {
  fetchUrls: true,
  maxBytes: MAX_BYTES,
  timeoutMs: 2_000,
  allowPrivateNetworks: true,
};
const strict: UrlFetchOptions = { ...allow, allowPrivateNetworks: false };
const never = () => new AbortController().signal;

function request(content: unknown[]): MessagesRequest {
  return messagesRequestSchema.parse({ model: "m", max_tokens: 10, messages: [{ role: "user", content }] });
}
const image = (url: string) => ({ type: "image", source: { type: "url", url } });
const document = (url: string) => ({ type: "document", source: { type: "url", url } });

function blocks(req: MessagesRequest): Record<string, unknown>[] {
  const content = req.messages[0]?.content;
  if (!Array.isArray(content)) throw new Error("expected blocks");
  return content as Record<string, unknown>[];
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(err)}`);
  return err;
}

describe("inlineUrlSources", () => {
  it("returns the very same object when there is no url source", async () => {
    const req = request([
      { type: "text", text: "hi" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG.toString("base64") } },
    ]);
    expect(await inlineUrlSources(req, { ...allow, fetchUrls: false }, never())).toBe(req);
  });

  it("inlines a PNG as base64 with the served bytes and content-type", async () => {
    const req = request([{ type: "text", text: "look" }, image(`${base}/img.png`)]);
    const out = await inlineUrlSources(req, allow, never());
    expect(blocks(out)[1]).toEqual({
      type: "image",
      source: { type: "base64", media_type: "image/png", data: PNG.toString("base64") },
    });
    expect(blocks(out)[0]).toBe(blocks(req)[0]); // untouched blocks are shared, not copied
    expect(blocks(req)[1]).toEqual(image(`${base}/img.png`)); // the input is not mutated
  });

  it("sniffs the type of an application/octet-stream image", async () => {
    const out = await inlineUrlSources(request([image(`${base}/img.bin`)]), allow, never());
    expect(blocks(out)[0]?.source).toMatchObject({ type: "base64", media_type: "image/png" });
  });

  it("inlines PDFs as base64 and text/plain documents as text sources", async () => {
    const out = await inlineUrlSources(
      request([document(`${base}/doc.pdf`), document(`${base}/notes.txt`)]),
      allow,
      never(),
    );
    expect(blocks(out)[0]?.source).toEqual({
      type: "base64",
      media_type: "application/pdf",
      data: PDF.toString("base64"),
    });
    expect(blocks(out)[1]?.source).toEqual({ type: "text", media_type: "text/plain", data: "héllo notes" });
  });

  it("reaches url sources inside tool_result and document content, fetching a repeated url once", async () => {
    const req = request([
      {
        type: "tool_result",
        tool_use_id: "t1",
        content: [{ type: "text", text: "x" }, image(`${base}/img.png`)],
      },
      { type: "document", source: { type: "content", content: [image(`${base}/img.png`)] } },
    ]);
    const out = JSON.stringify(await inlineUrlSources(req, allow, never()));
    expect(out).not.toContain('"url"');
    expect(out.split(PNG.toString("base64")).length - 1).toBe(2);
    expect(hits.get("/img.png")).toBe(1);
  });

  it("connects to the checked address, never resolving the host again", async () => {
    const port = new URL(base).port;
    const out = await inlineUrlSources(
      request([image(`http://pinned.test:${port}/img.png`)]),
      allow,
      never(),
    );
    expect(blocks(out)[0]?.source).toMatchObject({ media_type: "image/png", data: PNG.toString("base64") });
  });

  it("reaches localhost when private networks are allowed", async () => {
    const port = new URL(base).port;
    const out = await inlineUrlSources(request([image(`http://localhost:${port}/img.png`)]), allow, never());
    expect(blocks(out)[0]?.source).toMatchObject({ media_type: "image/png" });
  });

  it("follows up to 3 redirects", async () => {
    const out = await inlineUrlSources(request([image(`${base}/r1`)]), allow, never());
    expect(blocks(out)[0]?.source).toMatchObject({ media_type: "image/png", data: PNG.toString("base64") });
    expect([hits.get("/r1"), hits.get("/r2"), hits.get("/r3"), hits.get("/img.png")]).toEqual([1, 1, 1, 1]);
  });

  it("checks every redirect hop like the first URL", async () => {
    const err = await failure(inlineUrlSources(request([image(`${base}/to-file`)]), allow, never()));
    expect(err.message).toContain("http or https");
    expect(hits.get("/to-file")).toBe(1);
  });

  it("refuses a 4th redirect", async () => {
    const err = await failure(inlineUrlSources(request([image(`${base}/loop0`)]), allow, never()));
    expect(err.status).toBe(400);
    expect(err.message).toContain("redirects more than 3 times");
    expect(hits.get("/loop4")).toBeUndefined();
  });

  it.each([
    ["/big.png", "declared"],
    ["/big-chunked.png", "streamed"],
  ])("caps the body size (%s, %s length)", async (path) => {
    const err = await failure(inlineUrlSources(request([image(`${base}${path}`)]), allow, never()));
    expect(err.status).toBe(400);
    expect(err.type).toBe("invalid_request_error");
    expect(err.message).toBe(`image at ${base}${path} is larger than ${MAX_BYTES} bytes`);
  });

  it("names the status of a non-2xx answer and never echoes the query string", async () => {
    const err = await failure(
      inlineUrlSources(request([image(`${base}/missing.png?token=SECRET#frag`)]), allow, never()),
    );
    expect(err.status).toBe(400);
    expect(err.message).toContain("404");
    expect(err.message).toContain(`${base}/missing.png`);
    expect(err.message).not.toContain("SECRET");
  });

  it("refuses an unsupported content-type", async () => {
    const err = await failure(inlineUrlSources(request([image(`${base}/page.html`)]), allow, never()));
    expect(err.status).toBe(400);
    expect(err.message).toContain('unsupported content-type "text/html"');
  });

  it("refuses a PDF url given as an image", async () => {
    const err = await failure(inlineUrlSources(request([image(`${base}/doc.pdf`)]), allow, never()));
    expect(err.message).toContain('"application/pdf"');
  });

  it("gives up after timeoutMs", async () => {
    const started = Date.now();
    const err = await failure(
      inlineUrlSources(request([image(`${base}/slow.png`)]), { ...allow, timeoutMs: 300 }, never()),
    );
    expect(err.status).toBe(400);
    expect(err.message).toContain("timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("turns a client abort into CLIENT_ABORTED", async () => {
    const controller = new AbortController();
    const pending = inlineUrlSources(request([image(`${base}/slow.png`)]), allow, controller.signal);
    setTimeout(() => controller.abort(), 50);
    const err = await failure(pending);
    expect(err.code).toBe("CLIENT_ABORTED");
  });

  it("rejects non-http schemes", async () => {
    const err = await failure(inlineUrlSources(request([image("file:///etc/passwd")]), allow, never()));
    expect(err.status).toBe(400);
    expect(err.message).toContain("http or https");
  });

  it("answers 400 when url sources are disabled", async () => {
    const err = await failure(
      inlineUrlSources(request([image(`${base}/img.png`)]), { ...allow, fetchUrls: false }, never()),
    );
    expect(err.status).toBe(400);
    expect(err.message).toContain("disabled");
    expect(err.message).toContain("base64");
    expect(totalHits()).toBe(0);
  });

  describe("without allowPrivateNetworks", () => {
    const port = () => new URL(base).port;
    it.each([
      ["127.0.0.1", () => `${base}/img.png`],
      ["localhost", () => `http://localhost:${port()}/img.png`],
      ["[::ffff:127.0.0.1]", () => `http://[::ffff:127.0.0.1]:${port()}/img.png`],
      ["[::1]", () => `http://[::1]:${port()}/img.png`],
    ])("refuses %s before any request is sent", async (host, url) => {
      const err = await failure(inlineUrlSources(request([image(url())]), strict, never()));
      expect(err.status).toBe(400);
      expect(err.message).toContain(
        host.replace(/^\[(.*)\]$/, "$1").replace("::ffff:127.0.0.1", "::ffff:7f00:1"),
      );
      expect(err.message).toContain("allowPrivateNetworks");
      expect(totalHits()).toBe(0);
    });

    it("refuses a host when any of its addresses is private", async () => {
      const err = await failure(
        inlineUrlSources(request([image("http://mixed.test/a.png")]), strict, never()),
      );
      expect(err.message).toContain("mixed.test is refused: it resolves to the non-public address 10.0.0.7");
    });

    it("refuses a document url too", async () => {
      const err = await failure(inlineUrlSources(request([document(`${base}/doc.pdf`)]), strict, never()));
      expect(err.message).toContain("document URL host 127.0.0.1 is refused");
      expect(totalHits()).toBe(0);
    });
  });
});

describe("isBlockedAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "64:ff9b::10.0.0.1",
    "not-an-ip",
  ])("blocks %s", (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "allows %s",
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});
