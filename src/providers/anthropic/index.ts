/**
 * The Anthropic-compatible relay provider: forwards to another Anthropic Messages API endpoint
 * (api.anthropic.com, a relay, any service that speaks `/v1/messages`), rewriting only the model
 * and the credential, and passing the upstream's events and errors through (design.md §2).
 */
import type { Provider } from "../../core/provider.js";
import { decodeCountTokensResponse } from "./count-tokens.js";
import { decodeAnthropicError } from "./errors.js";
import {
  type AuthHeaderStyle,
  buildCountTokensRequest,
  buildMessagesBody,
  buildMessagesRequest,
} from "./request.js";
import { decodeAnthropicStream } from "./stream.js";

export type { AuthHeaderStyle } from "./request.js";

export interface AnthropicProviderOptions {
  /** `x-api-key` (default, what api.anthropic.com expects) or `bearer` (`Authorization: Bearer`). */
  authHeader?: AuthHeaderStyle;
}

/** A Provider for an Anthropic-compatible upstream; `baseUrl` excludes `/v1`. */
export function createAnthropicProvider(options: AnthropicProviderOptions = {}): Provider {
  const auth = options.authHeader ?? "x-api-key";
  return {
    type: "anthropic",
    handlesStopSequences: true,
    buildBody: buildMessagesBody,
    buildRequest: (ctx, body) => buildMessagesRequest(ctx, body, auth),
    decodeStream: (body, ctx) => decodeAnthropicStream(body, ctx),
    decodeError: (status, headers, body) => decodeAnthropicError(status, headers, body),
    // A count_tokens call costs nothing and proves the relay and the key.
    probe: (ctx) =>
      buildCountTokensRequest(
        {
          ...ctx,
          requestedModel: ctx.upstreamModel,
          request: { model: ctx.upstreamModel, messages: [{ role: "user", content: "ping" }] },
        },
        auth,
      ),
    countTokens: {
      buildRequest: (ctx) => buildCountTokensRequest(ctx, auth),
      decodeResponse: (json) => decodeCountTokensResponse(json),
    },
  };
}
