import type { AttemptContext, BodyContext, Provider, UpstreamRequest } from "../../src/core/provider.js";

/** An upstream request body (bytes or text, core/provider.ts) parsed as JSON. */
export function bodyJson(body: string | Uint8Array | undefined): unknown {
  if (body === undefined) throw new Error("the upstream request has no body");
  return JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
}

/** What a whole upstream request is made from: the body's inputs and the attempt's target. */
export type RequestContext = AttemptContext & BodyContext;

/** A provider's upstream request for one attempt, built as the attempt loop builds it. */
export function buildUpstream(provider: Provider, ctx: RequestContext): UpstreamRequest {
  return provider.buildRequest(ctx, provider.buildBody(ctx));
}
