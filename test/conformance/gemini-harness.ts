/**
 * Conformance harness for the Gemini adapter against the strict fake Gemini API (native
 * `streamGenerateContent?alt=sse`, protocol.md F). Also the base of the Vertex harness: Vertex
 * speaks the same body and stream format, only the URL and the credential differ.
 */
import { providerSchema } from "../../src/config/schema.js";
import {
  type FakeGemini,
  type FakeGeminiRequest,
  functionCalls,
  type GeminiChunkSpec,
  googleError,
  internal,
  rateLimited,
  startFakeGemini,
  textChunks,
  thinkingThenText,
} from "../fakes/gemini.js";
import {
  type ErrorKind,
  type ImageSpec,
  isRecord,
  lastWhere,
  type ProviderHarness,
  type Received,
  records,
  type ScriptedCall,
  type SeenCall,
  type SeenResult,
  type SeenThinking,
  type StopKind,
} from "./harness.js";

const MODEL = "gemini-3-pro-preview";
const KEY = "conformance-gemini-key";

const FINISH: Record<StopKind, string> = { max_tokens: "MAX_TOKENS", refusal: "SAFETY" };

/** `contents` of a generateContent body. */
export function geminiContents(body: unknown): Record<string, unknown>[] {
  return isRecord(body) ? records(body.contents) : [];
}

function partsOf(content: Record<string, unknown> | undefined): Record<string, unknown>[] {
  return content === undefined ? [] : records(content.parts);
}

/** Provider-neutral readers of a Gemini request body (shared with the Vertex harness). */
export const geminiInspect = {
  imageArrived(body: unknown, image: ImageSpec): boolean {
    const user = lastWhere(geminiContents(body), (c) => c.role === "user");
    return partsOf(user).some(
      (p) =>
        isRecord(p.inlineData) &&
        p.inlineData.mimeType === image.mediaType &&
        p.inlineData.data === image.data,
    );
  },
  toolCallsIn(body: unknown): SeenCall[] {
    const model = lastWhere(geminiContents(body), (c) => c.role === "model");
    return partsOf(model).flatMap((p) => {
      const call = p.functionCall;
      if (!isRecord(call)) return [];
      return [
        { id: typeof call.id === "string" ? call.id : undefined, name: String(call.name), args: call.args },
      ];
    });
  },
  toolResultsIn(body: unknown): SeenResult[] {
    const user = lastWhere(geminiContents(body), (c) => c.role === "user");
    return partsOf(user).flatMap((p) => {
      const response = p.functionResponse;
      if (!isRecord(response)) return [];
      const inner = isRecord(response.response) ? response.response : {};
      const output = typeof inner.output === "string" ? inner.output : JSON.stringify(inner);
      return [{ id: typeof response.id === "string" ? response.id : undefined, output }];
    });
  },
  thinkingIn(body: unknown): SeenThinking[] {
    return geminiContents(body)
      .filter((c) => c.role === "model")
      .flatMap(partsOf)
      .filter((p) => p.thought === true)
      .map((p) => ({
        text: typeof p.text === "string" ? p.text : "",
        signature: typeof p.thoughtSignature === "string" ? p.thoughtSignature : undefined,
      }));
  },
};

/** Gemini's scripted answers, as chunk lists (shared with the Vertex harness). */
export const geminiScripts = {
  text: (parts: string[]): GeminiChunkSpec[] => textChunks(parts.join(""), { parts: parts.length }),
  calls: (calls: ScriptedCall[]): GeminiChunkSpec[] =>
    functionCalls(
      calls.map((c) => ({ id: c.id, name: c.name, args: c.args })),
      { signature: true },
    ),
  stop: (kind: StopKind, text: string): GeminiChunkSpec[] =>
    textChunks(text, { parts: 2, finishReason: FINISH[kind] }),
  /** Usage as Gemini reports it: promptTokenCount includes cachedContentTokenCount (F.8). */
  usage: (usage: { prompt: number; cached: number; output: number }, text: string): GeminiChunkSpec[] => [
    {
      candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: usage.prompt,
        cachedContentTokenCount: usage.cached,
        candidatesTokenCount: usage.output,
        totalTokenCount: usage.prompt + usage.output,
      },
    },
  ],
};

/** A Google-shaped error for each kind; the message is returned for assertions. */
export function geminiError(kind: ErrorKind): { script: ReturnType<typeof googleError>; message: string } {
  switch (kind) {
    case "rate_limit": {
      const script = rateLimited(2, { model: MODEL });
      return { script, message: "You exceeded your current quota" };
    }
    case "server":
      return { script: internal(), message: "An internal error has occurred" };
    case "bad_request": {
      const message = "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"";
      return { script: googleError(400, "INVALID_ARGUMENT", message), message };
    }
    case "auth": {
      const message = "API key not valid. Please pass a valid API key.";
      const details = [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
        },
      ];
      return { script: googleError(400, "INVALID_ARGUMENT", message, details), message };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown error kind ${String(never)}`);
    }
  }
}

/** A generation request the fake Gemini recorded, in neutral terms. */
export function geminiReceived(r: FakeGeminiRequest, credential: string | undefined): Received {
  return {
    body: r.body,
    streaming: r.action === "streamGenerateContent" && r.query.alt === "sse",
    model: r.model,
    credential,
  };
}

export function geminiHarness(): ProviderHarness {
  let fake: FakeGemini | undefined;
  const need = (): FakeGemini => {
    if (fake === undefined) throw new Error("gemini harness not started");
    return fake;
  };
  return {
    name: "gemini",
    upstreamModel: MODEL,
    usageAtStart: true,
    credential: KEY,
    thinkingEcho: "text",
    async start() {
      fake = await startFakeGemini({ validKeys: [KEY] });
    },
    async close() {
      await fake?.close();
    },
    reset: () => need().reset(),
    provider: (name) => providerSchema.parse({ name, type: "gemini", baseUrl: need().url, apiKeys: [KEY] }),
    text: (parts) => need().enqueue({ chunks: geminiScripts.text(parts) }),
    toolCall: (call) => need().enqueue({ chunks: geminiScripts.calls([call]) }),
    parallelToolCalls: (calls) => need().enqueue({ chunks: geminiScripts.calls(calls) }),
    thinkingThenText: (thought, text) => need().enqueue({ chunks: thinkingThenText(thought, text) }),
    stopReason: (kind, text) => need().enqueue({ chunks: geminiScripts.stop(kind, text) }),
    usage: (usage, text) => need().enqueue({ chunks: geminiScripts.usage(usage, text) }),
    httpError(kind) {
      const { script, message } = geminiError(kind);
      need().enqueue(script);
      return message;
    },
    midStreamCut: (parts) => need().enqueue({ chunks: geminiScripts.text(parts), cutAfterChunks: 1 }),
    received: () =>
      need()
        .requests.filter((r) => r.action === "streamGenerateContent" || r.action === "generateContent")
        .map((r) => geminiReceived(r, r.apiKey)),
    ...geminiInspect,
  };
}
