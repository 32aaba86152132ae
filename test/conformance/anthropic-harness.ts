/**
 * Conformance harness for the Anthropic relay adapter against the strict fake Anthropic Messages
 * API (protocol.md B: named SSE events, tool pairing rule, thinking signatures).
 */
import { providerSchema } from "../../src/config/schema.js";
import {
  apiError,
  cutAfter,
  type FakeAnthropic,
  type FakeStreamScript,
  httpError,
  parallelToolUseReply,
  rateLimited,
  reply,
  startFakeAnthropic,
  textReply,
  thinkingReply,
  toolUseReply,
} from "../fakes/anthropic.js";
import {
  isRecord,
  lastWhere,
  type ProviderHarness,
  records,
  type ScriptedUsage,
  type SeenCall,
  type SeenResult,
} from "./harness.js";

const MODEL = "claude-relay-fake";
const KEY = "conformance-anthropic-key";
/** An opaque signature as the real API issues them; the relay must hand it back unchanged. */
export const FAKE_THINKING_SIGNATURE = "EqQBCkgIARABGAIiQFakeSignatureForConformance+/==";

function messagesOf(body: unknown): Record<string, unknown>[] {
  return isRecord(body) ? records(body.messages) : [];
}

/** The fake's reply with Anthropic usage: `input_tokens` excludes the cache read (B.1). */
function withUsage(script: FakeStreamScript, usage: ScriptedUsage): FakeStreamScript {
  const counters = {
    input_tokens: usage.prompt - usage.cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cached,
  };
  const steps = script.steps.map((step) => {
    if (step.kind !== "event") return step;
    const data = step.event.data;
    if (data.type === "message_start" && isRecord(data.message)) {
      const message = { ...data.message, usage: { ...counters, output_tokens: 1 } };
      return { ...step, event: { ...step.event, data: { ...data, message } } };
    }
    if (data.type === "message_delta") {
      const next = { ...data, usage: { ...counters, output_tokens: usage.output } };
      return { ...step, event: { ...step.event, data: next } };
    }
    return step;
  });
  return { ...script, steps };
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  return records(content)
    .map((b) => (typeof b.text === "string" ? b.text : ""))
    .join("");
}

export function anthropicHarness(): ProviderHarness {
  let fake: FakeAnthropic | undefined;
  const need = (): FakeAnthropic => {
    if (fake === undefined) throw new Error("anthropic harness not started");
    return fake;
  };
  return {
    name: "anthropic",
    upstreamModel: MODEL,
    usageAtStart: true,
    credential: KEY,
    thinkingEcho: "verbatim",
    upstreamThinkingSignature: FAKE_THINKING_SIGNATURE,
    async start() {
      fake = await startFakeAnthropic({ validKeys: [KEY] });
    },
    async close() {
      await fake?.close();
    },
    reset: () => {
      need().requests.length = 0;
    },
    provider: (name) =>
      providerSchema.parse({ name, type: "anthropic", baseUrl: need().url, apiKeys: [KEY] }),
    text: (parts) => need().enqueue(textReply(parts.join(""), { chunks: parts.length })),
    toolCall: (call) => need().enqueue(toolUseReply({ id: call.id, name: call.name, input: call.args })),
    parallelToolCalls: (calls) =>
      need().enqueue(parallelToolUseReply(calls.map((c) => ({ id: c.id, name: c.name, input: c.args })))),
    thinkingThenText: (thought, text) =>
      need().enqueue(thinkingReply(thought, FAKE_THINKING_SIGNATURE, text)),
    stopReason: (kind, text) => need().enqueue(reply([{ type: "text", text }], { stopReason: kind })),
    usage: (usage, text) => need().enqueue(withUsage(textReply(text), usage)),
    httpError(kind) {
      switch (kind) {
        case "rate_limit":
          need().enqueue(rateLimited(2));
          return "This request would exceed the rate limit";
        case "server":
          need().enqueue(apiError());
          return "Internal server error";
        case "bad_request": {
          const message = "temperature: Input should be a valid number";
          need().enqueue(httpError(400, "invalid_request_error", message));
          return message;
        }
        case "auth": {
          const message = "invalid x-api-key";
          need().enqueue(httpError(401, "authentication_error", message));
          return message;
        }
        default: {
          const never: never = kind;
          throw new Error(`unknown error kind ${String(never)}`);
        }
      }
    },
    // message_start, content_block_start, the first text_delta — then the socket is destroyed.
    midStreamCut(parts) {
      const cut = cutAfter(textReply(parts.join(""), { chunks: parts.length }), 3);
      // Workaround: the fake writes events without waiting for them to flush and destroys the
      // socket right after, which drops them, so the "cut after content" would arrive as a cut
      // before any byte. A pause lets the written events reach the gateway first.
      need().enqueue({ ...cut, steps: [...cut.steps, { kind: "delay", ms: 50 }] });
    },
    received: () =>
      need()
        .requests.filter((r) => r.path === "/v1/messages")
        .map((r) => ({
          body: r.body,
          streaming: isRecord(r.body) && r.body.stream === true,
          model: isRecord(r.body) && typeof r.body.model === "string" ? r.body.model : undefined,
          credential: r.key,
        })),
    imageArrived(body, image) {
      const user = lastWhere(messagesOf(body), (m) => m.role === "user");
      return records(user?.content).some(
        (b) =>
          b.type === "image" &&
          isRecord(b.source) &&
          b.source.type === "base64" &&
          b.source.media_type === image.mediaType &&
          b.source.data === image.data,
      );
    },
    toolCallsIn(body): SeenCall[] {
      const assistant = lastWhere(messagesOf(body), (m) => m.role === "assistant");
      return records(assistant?.content)
        .filter((b) => b.type === "tool_use")
        .map((b) => ({
          id: typeof b.id === "string" ? b.id : undefined,
          name: String(b.name),
          args: b.input,
        }));
    },
    toolResultsIn(body): SeenResult[] {
      const user = lastWhere(messagesOf(body), (m) => m.role === "user");
      return records(user?.content)
        .filter((b) => b.type === "tool_result")
        .map((b) => ({
          id: typeof b.tool_use_id === "string" ? b.tool_use_id : undefined,
          output: textOf(b.content),
        }));
    },
    thinkingIn(body) {
      return messagesOf(body)
        .filter((m) => m.role === "assistant")
        .flatMap((m) => records(m.content))
        .filter((b) => b.type === "thinking")
        .map((b) => ({
          text: typeof b.thinking === "string" ? b.thinking : "",
          signature: typeof b.signature === "string" ? b.signature : undefined,
        }));
    },
  };
}
