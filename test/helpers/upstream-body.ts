/** An upstream request body (bytes or text, core/provider.ts) parsed as JSON. */
export function bodyJson(body: string | Uint8Array | undefined): unknown {
  if (body === undefined) throw new Error("the upstream request has no body");
  return JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
}
