/**
 * Conformance harness for the OpenAI Chat Completions adapter against the strict fake OpenAI
 * server (protocol.md G: `data:` chunks, usage in a final `choices: []` chunk, `[DONE]`).
 */
import { providerSchema } from "../../src/config/schema.js";
import {
  type FakeOpenAI,
  httpError,
  rateLimited,
  reasoningStream,
  resetAfter,
  serverError,
  startFakeOpenAI,
  textStream,
  toolCallStream,
} from "../fakes/openai.js";
import {
  isRecord,
  lastWhere,
  type ProviderHarness,
  records,
  type ScriptedCall,
  type SeenCall,
  type SeenResult,
  type StopKind,
} from "./harness.js";

const MODEL = "gpt-fake";
const KEY = "conformance-openai-key";

const FINISH: Record<StopKind, string> = { max_tokens: "length", refusal: "content_filter" };

function messagesOf(body: unknown): Record<string, unknown>[] {
  return isRecord(body) ? records(body.messages) : [];
}

function parseArgs(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function openaiHarness(): ProviderHarness {
  let fake: FakeOpenAI | undefined;
  const need = (): FakeOpenAI => {
    if (fake === undefined) throw new Error("openai harness not started");
    return fake;
  };
  const calls = (list: ScriptedCall[]) =>
    // Interleaved fragments: the hardest order a server may use for parallel calls (G.2).
    toolCallStream(
      list.map((c) => ({ id: c.id, name: c.name, arguments: c.args })),
      { interleave: list.length > 1 },
    );
  return {
    name: "openai",
    upstreamModel: MODEL,
    usageAtStart: false,
    credential: KEY,
    // Chat Completions has no input slot for reasoning; the adapter drops it by default (G.1).
    thinkingEcho: "dropped",
    async start() {
      fake = await startFakeOpenAI({ validKeys: [KEY], models: [MODEL] });
    },
    async close() {
      await fake?.close();
    },
    reset: () => {
      need().requests.length = 0;
    },
    provider: (name) =>
      providerSchema.parse({ name, type: "openai", baseUrl: `${need().url}/v1`, apiKeys: [KEY] }),
    text: (parts) => need().enqueue(textStream(parts)),
    toolCall: (call) => need().enqueue(calls([call])),
    parallelToolCalls: (list) => need().enqueue(calls(list)),
    thinkingThenText: (thought, text) => need().enqueue(reasoningStream(thought, text)),
    stopReason: (kind, text) => need().enqueue(textStream(text, { finishReason: FINISH[kind] })),
    usage: (usage, text) =>
      need().enqueue(
        textStream(text, {
          usage: { prompt: usage.prompt, cached: usage.cached, completion: usage.output },
        }),
      ),
    httpError(kind) {
      switch (kind) {
        case "rate_limit":
          need().enqueue(rateLimited(2));
          return "Rate limit reached for requests";
        case "server":
          need().enqueue(serverError(500));
          return "The server had an error while processing your request";
        case "bad_request": {
          const message = "Invalid type for 'temperature': expected a decimal, but got a string instead.";
          need().enqueue(httpError(400, message, { param: "temperature", code: "invalid_type" }));
          return message;
        }
        case "auth": {
          const message = "Incorrect API key provided: sk-***beef.";
          need().enqueue(httpError(401, message, { code: "invalid_api_key" }));
          return message;
        }
        default: {
          const never: never = kind;
          throw new Error(`unknown error kind ${String(never)}`);
        }
      }
    },
    // Chunk 1 is the role chunk (no content), chunk 2 carries parts[0]; then a TCP reset.
    midStreamCut: (parts) => need().enqueue(resetAfter(textStream(parts), 2)),
    received: () =>
      need()
        .requests.filter((r) => r.method === "POST")
        .map((r) => ({
          body: r.body,
          streaming: isRecord(r.body) && r.body.stream === true,
          model: isRecord(r.body) && typeof r.body.model === "string" ? r.body.model : undefined,
          credential: r.key,
        })),
    imageArrived(body, image) {
      const user = lastWhere(messagesOf(body), (m) => m.role === "user");
      const url = `data:${image.mediaType};base64,${image.data}`;
      return records(user?.content).some(
        (p) => p.type === "image_url" && isRecord(p.image_url) && p.image_url.url === url,
      );
    },
    toolCallsIn(body): SeenCall[] {
      const assistant = lastWhere(messagesOf(body), (m) => m.role === "assistant");
      return records(assistant?.tool_calls).map((c) => {
        const fn = isRecord(c.function) ? c.function : {};
        return {
          id: typeof c.id === "string" ? c.id : undefined,
          name: String(fn.name),
          args: parseArgs(fn.arguments),
        };
      });
    },
    toolResultsIn(body): SeenResult[] {
      const messages = messagesOf(body);
      const after = messages.slice(messages.findLastIndex((m) => m.role === "assistant") + 1);
      return after
        .filter((m) => m.role === "tool")
        .map((m) => ({
          id: typeof m.tool_call_id === "string" ? m.tool_call_id : undefined,
          output: typeof m.content === "string" ? m.content : JSON.stringify(m.content),
        }));
    },
    thinkingIn(body) {
      return messagesOf(body)
        .filter((m) => m.role === "assistant")
        .flatMap((m) => {
          const text = m.reasoning_content ?? m.reasoning;
          return typeof text === "string" ? [{ text, signature: undefined }] : [];
        });
    },
  };
}
