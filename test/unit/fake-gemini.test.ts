/**
 * Tests of the fake Gemini API itself: it must reject what Google rejects (with Google's status
 * and wording), accept what Google accepts, and play scripts (including faults) faithfully.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FakeGemini,
  functionCalls,
  promptTooLong,
  rateLimited,
  startFakeGemini,
  streamErrorChunk,
  textChunks,
  thinkingThenText,
  unavailable,
} from "../fakes/gemini.js";

const KEY = "test-key";
let fake: FakeGemini;

beforeAll(async () => {
  fake = await startFakeGemini({ validKeys: [KEY, "other-key"], hangMaxMs: 5_000 });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

type Json = Record<string, unknown>;

interface CallOptions {
  key?: string | null;
  action?: "generateContent" | "streamGenerateContent" | "countTokens";
  signal?: AbortSignal;
  rawBody?: string;
}

function call(model: string, body: unknown, opts: CallOptions = {}): Promise<Response> {
  const action = opts.action ?? "generateContent";
  const query = action === "streamGenerateContent" ? "?alt=sse" : "";
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== null) headers["x-goog-api-key"] = opts.key ?? KEY;
  const init: RequestInit = { method: "POST", headers, body: opts.rawBody ?? JSON.stringify(body) };
  if (opts.signal !== undefined) init.signal = opts.signal;
  return fetch(`${fake.url}/v1beta/models/${model}:${action}${query}`, init);
}

async function errorOf(
  res: Response,
): Promise<{ code: number; status: string; message: string; details?: Json[] }> {
  const body = (await res.json()) as {
    error: { code: number; status: string; message: string; details?: Json[] };
  };
  return body.error;
}

async function expect400(model: string, body: unknown, fragment: string): Promise<string> {
  const res = await call(model, body);
  const error = await errorOf(res);
  expect(res.status).toBe(400);
  expect(error.status).toBe("INVALID_ARGUMENT");
  expect(error.message).toContain(fragment);
  return error.message;
}

async function expectOk(model: string, body: unknown): Promise<Json> {
  const res = await call(model, body);
  const json = (await res.json()) as Json;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

const user = (text: string): Json => ({ role: "user", parts: [{ text }] });
const hello = { contents: [user("hi")] };

function sseEvents(text: string): Json[] {
  return text
    .split("\r\n\r\n")
    .filter((e) => e !== "")
    .map((e) => {
      expect(e.startsWith("data: ")).toBe(true);
      return JSON.parse(e.slice("data: ".length)) as Json;
    });
}

function partsOf(chunk: Json): Json[] {
  const candidates = chunk.candidates as Array<{ content: { parts: Json[] } }>;
  return candidates[0]?.content.parts ?? [];
}

async function readUntilEnd(res: Response): Promise<{ text: string; error: unknown }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (let i = 0; i < 1_000; i++) {
    try {
      const { done, value } = await reader.read();
      if (done) return { text, error: undefined };
      text += decoder.decode(value, { stream: true });
    } catch (error) {
      return { text, error };
    }
  }
  throw new Error("stream did not end");
}

describe("auth and routing", () => {
  it("answers 403 PERMISSION_DENIED without a key", async () => {
    const res = await call("gemini-2.5-flash", hello, { key: null });
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.status).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("unregistered callers");
  });

  it("answers 400 API_KEY_INVALID for a key it does not know", async () => {
    const res = await call("gemini-2.5-flash", hello, { key: "nope" });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.message).toBe("API key not valid. Please pass a valid API key.");
    expect(error.details?.[0]).toMatchObject({ reason: "API_KEY_INVALID", domain: "googleapis.com" });
  });

  it("accepts ?key= and counts hits per key", async () => {
    const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash:generateContent?key=other-key`, {
      method: "POST",
      body: JSON.stringify(hello),
    });
    expect(res.status).toBe(200);
    await res.text();
    await (await call("gemini-2.5-flash", hello)).text();
    expect(fake.hits("other-key")).toBe(1);
    expect(fake.hits(KEY)).toBe(1);
    expect(fake.hits()).toBe(2);
    expect(fake.requests[0]).toMatchObject({ apiKey: "other-key", model: "gemini-2.5-flash", status: 200 });
  });

  it("answers 404 NOT_FOUND for an unknown model", async () => {
    const res = await call("gemini-9-ultra", hello);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toContain(
      "models/gemini-9-ultra is not found for API version v1beta",
    );
  });

  it("lists models with token limits and serves one model", async () => {
    const list = await fetch(`${fake.url}/v1beta/models`, { headers: { "x-goog-api-key": KEY } });
    const models = ((await list.json()) as { models: Json[] }).models;
    for (const name of [
      "gemini-2.5-pro",
      "gemini-2.5-flash",
      "gemini-3-pro-preview",
      "gemini-3-flash-preview",
    ]) {
      expect(models).toContainEqual(
        expect.objectContaining({
          name: `models/${name}`,
          inputTokenLimit: 1_048_576,
          outputTokenLimit: 65_536,
        }),
      );
    }
    const one = await fetch(`${fake.url}/v1beta/models/gemini-3-pro-preview?key=${KEY}`);
    expect(((await one.json()) as Json).name).toBe("models/gemini-3-pro-preview");
    const missing = await fetch(`${fake.url}/v1beta/models/nope?key=${KEY}`);
    expect(missing.status).toBe(404);
  });
});

describe("request strictness", () => {
  it("accepts a valid request and answers with the default text", async () => {
    const json = await expectOk("gemini-2.5-flash", {
      contents: [user("hi")],
      systemInstruction: { parts: [{ text: "be brief" }] },
      generationConfig: { maxOutputTokens: 1024, temperature: 1, thinkingConfig: { thinkingBudget: 0 } },
      safetySettings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "OFF" }],
    });
    expect(partsOf(json)).toEqual([{ text: "Hello from fake Gemini." }]);
    expect(json).toMatchObject({ modelVersion: "gemini-2.5-flash", candidates: [{ finishReason: "STOP" }] });
    const usage = json.usageMetadata as Json;
    expect(usage.promptTokenCount).toBeGreaterThan(0);
    expect(usage.totalTokenCount).toBe(
      (usage.promptTokenCount as number) + (usage.candidatesTokenCount as number),
    );
  });

  it("accepts snake_case aliases", async () => {
    await expectOk("gemini-2.5-flash", {
      contents: [user("hi")],
      system_instruction: { parts: [{ text: "x" }] },
      generation_config: {
        max_output_tokens: 100,
        thinking_config: { thinking_budget: 512, include_thoughts: true },
      },
    });
  });

  it("rejects unknown top-level fields without a path", async () => {
    const message = await expect400("gemini-2.5-flash", { ...hello, max_tokens: 5 }, "");
    expect(message).toBe('Invalid JSON payload received. Unknown name "max_tokens": Cannot find field.');
  });

  it("rejects unknown fields in Content, Part, generationConfig, thinkingConfig and FunctionDeclaration", async () => {
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ text: "x" }], name: "me" }] },
      `Unknown name "name" at 'contents[0]': Cannot find field.`,
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ text: "x", cache_control: {} }] }] },
      `Unknown name "cache_control" at 'contents[0].parts[0]': Cannot find field.`,
    );
    await expect400(
      "gemini-2.5-flash",
      { ...hello, generationConfig: { effortLevel: "HIGH" } },
      `Unknown name "effortLevel" at 'generation_config': Cannot find field.`,
    );
    await expect400(
      "gemini-2.5-flash",
      { ...hello, generationConfig: { thinkingConfig: { budget: 1 } } },
      `Unknown name "budget" at 'generation_config.thinking_config': Cannot find field.`,
    );
    await expect400(
      "gemini-2.5-flash",
      { ...hello, tools: [{ functionDeclarations: [{ name: "Bash", strict: true }] }] },
      `Unknown name "strict" at 'tools[0].function_declarations[0]': Cannot find field.`,
    );
  });

  it("reports every unknown name at once, with BadRequest details", async () => {
    const res = await call("gemini-2.5-flash", { ...hello, foo: 1, bar: 2 });
    const error = await errorOf(res);
    expect(error.message.split("\n")).toHaveLength(2);
    expect(error.details?.[0]).toMatchObject({ "@type": "type.googleapis.com/google.rpc.BadRequest" });
  });

  it("rejects missing or empty contents, empty parts and parts without data", async () => {
    await expect400("gemini-2.5-flash", {}, "* GenerateContentRequest.contents: contents is not specified");
    await expect400("gemini-2.5-flash", { contents: [] }, "contents is not specified");
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [] }] },
      "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.",
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ text: "a" }, {}] }] },
      "* GenerateContentRequest.contents[0].parts[1].data: required oneof field 'data' must have one initialized field",
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ text: "" }] }] },
      "contents[0].parts[0].data: required oneof field 'data'",
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ thoughtSignature: "c2ln" }] }] },
      "required oneof field 'data'",
    );
  });

  it("accepts an empty text part that carries a signature (Google's trailing signature part)", async () => {
    const signature = fake.issueSignature("gemini-3-pro-preview");
    await expectOk("gemini-3-pro-preview", {
      contents: [
        user("hi"),
        { role: "model", parts: [{ text: "Hello" }, { text: "", thoughtSignature: signature }] },
        user("more"),
      ],
    });
  });

  it("rejects two data fields in one part", async () => {
    await expect400(
      "gemini-2.5-flash",
      {
        contents: [
          { role: "user", parts: [{ text: "a", inlineData: { mimeType: "image/png", data: "AAAA" } }] },
        ],
      },
      "Oneof field 'data' is already set",
    );
  });

  it("rejects image types Gemini does not read", async () => {
    const gif = { inlineData: { mimeType: "image/gif", data: "R0lGODlh" } };
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ text: "a" }, gif] }] },
      "Unsupported MIME type: image/gif",
    );
    await expectOk("gemini-2.5-flash", {
      contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/webp", data: "AAAA" } }] }],
    });
  });

  it("rejects roles other than user and model", async () => {
    await expect400(
      "gemini-2.5-flash",
      { contents: [user("a"), { role: "assistant", parts: [{ text: "b" }] }, user("c")] },
      "Please use a valid role: user, model.",
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [user("a"), { parts: [{ text: "b" }] }] },
      "Please use a valid role: user, model.",
    );
  });

  it("rejects wrongly typed values and args sent as a string", async () => {
    await expect400(
      "gemini-2.5-flash",
      { contents: [user("a"), { role: "model", parts: [{ functionCall: { name: "f", args: '{"a":1}' } }] }] },
      "Invalid value at 'contents[1].parts[0].function_call.args' (type.googleapis.com/google.protobuf.Struct)",
    );
    await expect400(
      "gemini-2.5-flash",
      { ...hello, systemInstruction: "be brief" },
      "Invalid value at 'system_instruction'",
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [{ role: "user", parts: [{ text: 5 }] }] },
      "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 5",
    );
    await expect400(
      "gemini-3-pro-preview",
      {
        contents: [
          user("a"),
          { role: "model", parts: [{ text: "b", thoughtSignature: "gm1.not base64" }] },
          user("c"),
        ],
      },
      "(TYPE_BYTES)",
    );
  });
});

describe("function declarations", () => {
  const withTool = (decl: Json): Json => ({ ...hello, tools: [{ functionDeclarations: [decl] }] });

  it("accepts the OpenAPI subset in parameters and full JSON Schema in parametersJsonSchema", async () => {
    await expectOk(
      "gemini-2.5-flash",
      withTool({
        name: "mcp__srv__read.file:v2",
        description: "d",
        parameters: {
          type: "object",
          properties: {
            path: { type: "STRING", description: "p", minLength: 1 },
            mode: {
              anyOf: [
                { type: "string", enum: ["a", "b"] },
                { type: "integer", minimum: 0 },
              ],
            },
            list: { type: "array", items: { type: "string" }, maxItems: 3 },
          },
          required: ["path"],
          propertyOrdering: ["path", "mode", "list"],
        },
      }),
    );
    await expectOk(
      "gemini-2.5-flash",
      withTool({
        name: "Bash",
        parametersJsonSchema: {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          properties: { command: { type: "string" } },
          additionalProperties: false,
        },
      }),
    );
  });

  it("rejects JSON-Schema keywords inside parameters, recursively, with Google's paths", async () => {
    const message = await expect400(
      "gemini-2.5-flash",
      withTool({
        name: "Edit",
        parameters: {
          $schema: "x",
          type: "object",
          additionalProperties: false,
          properties: {
            a: { type: "string" },
            b: { anyOf: [{ type: "string" }, { const: "x" }] },
            c: { type: "array", items: { type: "number", exclusiveMinimum: 0 } },
          },
        },
      }),
      `Unknown name "$schema" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
    );
    expect(message).toContain(
      `Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
    );
    expect(message).toContain(
      `Unknown name "const" at 'tools[0].function_declarations[0].parameters.properties[1].value.any_of[1]': Cannot find field.`,
    );
    expect(message).toContain(
      `Unknown name "exclusiveMinimum" at 'tools[0].function_declarations[0].parameters.properties[2].value.items': Cannot find field.`,
    );
  });

  it("rejects invalid type names and type arrays", async () => {
    await expect400(
      "gemini-2.5-flash",
      withTool({ name: "f", parameters: { type: "object", properties: { a: { type: "text" } } } }),
      `Invalid value at 'tools[0].function_declarations[0].parameters.properties[0].value.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "text"`,
    );
    await expect400(
      "gemini-2.5-flash",
      withTool({
        name: "f",
        parameters: { type: "object", properties: { a: { type: ["string", "null"] } } },
      }),
      `Unknown name "type" at 'tools[0].function_declarations[0].parameters.properties[0].value': Proto field is not repeating, cannot start list.`,
    );
  });

  it("rejects parameters together with parametersJsonSchema", async () => {
    await expect400(
      "gemini-2.5-flash",
      withTool({ name: "f", parameters: { type: "object" }, parametersJsonSchema: { type: "object" } }),
      "mutually exclusive",
    );
  });

  it("rejects invalid function names", async () => {
    for (const name of ["1abc", "has space", `a${"b".repeat(128)}`]) {
      await expect400(
        "gemini-2.5-flash",
        withTool({ name }),
        "* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name.",
      );
    }
  });
});

describe("generationConfig", () => {
  const config = (generationConfig: Json): Json => ({ ...hello, generationConfig });

  it("rejects thinkingBudget together with thinkingLevel", async () => {
    await expect400(
      "gemini-3-flash-preview",
      config({ thinkingConfig: { thinkingBudget: 1024, thinkingLevel: "low" } }),
      "You can only set only one of thinking budget and thinking level.",
    );
  });

  it("rejects thinkingLevel on 2.5 models and unsupported levels on Gemini 3 Pro", async () => {
    await expect400(
      "gemini-2.5-flash",
      config({ thinkingConfig: { thinkingLevel: "HIGH" } }),
      "Thinking level is not supported for this model.",
    );
    await expect400(
      "gemini-3-pro-preview",
      config({ thinkingConfig: { thinkingLevel: "medium" } }),
      "Thinking level MEDIUM is not supported for this model.",
    );
    await expectOk(
      "gemini-3-pro-preview",
      config({ thinkingConfig: { thinkingLevel: "high", includeThoughts: true } }),
    );
    await expectOk("gemini-3-flash-preview", config({ thinkingConfig: { thinkingLevel: "minimal" } }));
    await expect400(
      "gemini-3-flash-preview",
      config({ thinkingConfig: { thinkingLevel: "ultra" } }),
      "Invalid value at 'generation_config.thinking_config.thinking_level'",
    );
  });

  it("rejects thinkingBudget 0 on gemini-2.5-pro and out-of-range budgets", async () => {
    await expect400(
      "gemini-2.5-pro",
      config({ thinkingConfig: { thinkingBudget: 0 } }),
      "Budget 0 is invalid. This model only works in thinking mode.",
    );
    await expect400(
      "gemini-2.5-pro",
      config({ thinkingConfig: { thinkingBudget: 52428 } }),
      "The thinking budget (52428) is invalid.",
    );
    await expectOk("gemini-2.5-pro", config({ thinkingConfig: { thinkingBudget: -1 } }));
    await expectOk("gemini-2.5-pro", config({ thinkingConfig: { thinkingBudget: 128 } }));
    await expectOk("gemini-3-pro-preview", config({ thinkingConfig: { thinkingBudget: 2048 } }));
  });

  it("rejects maxOutputTokens above the model's output limit", async () => {
    await expect400(
      "gemini-2.5-flash",
      config({ maxOutputTokens: 65_537 }),
      "maxOutputTokens value of 65537 but the supported range is from 1 (inclusive) to 65537 (exclusive)",
    );
    await expectOk("gemini-2.5-flash", config({ maxOutputTokens: 65_536 }));
  });
});

describe("function calling turns and thought signatures", () => {
  const callTurn = (names: string[], signature?: string): Json => ({
    role: "model",
    parts: names.map((name, i) => {
      const part: Json = { functionCall: { name, args: {} } };
      if (i === 0 && signature !== undefined) part.thoughtSignature = signature;
      return part;
    }),
  });
  const responses = (names: string[]): Json => ({
    role: "user",
    parts: names.map((name) => ({ functionResponse: { name, response: { output: "ok" } } })),
  });

  it("requires as many function responses as function calls", async () => {
    await expect400(
      "gemini-2.5-flash",
      { contents: [user("go"), callTurn(["Read", "Read"]), responses(["Read"])] },
      "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
    );
    await expectOk("gemini-2.5-flash", {
      contents: [user("go"), callTurn(["Read", "Read"]), responses(["Read", "Read"])],
    });
  });

  it("rejects function turns out of order", async () => {
    await expect400(
      "gemini-2.5-flash",
      { contents: [callTurn(["Read"]), responses(["Read"])] },
      "Please ensure that function call turn comes immediately after a user turn or after a function response turn.",
    );
    await expect400(
      "gemini-2.5-flash",
      { contents: [user("go"), responses(["Read"])] },
      "Please ensure that function response turn comes immediately after a function call turn.",
    );
  });

  it("Gemini 3: requires a signature on the first call of each step in the current turn", async () => {
    const sig1 = fake.issueSignature("gemini-3-pro-preview");
    const message = await expect400(
      "gemini-3-pro-preview",
      {
        contents: [
          user("go"),
          callTurn(["Read", "Read"], sig1),
          responses(["Read", "Read"]),
          callTurn(["Bash"]),
          responses(["Bash"]),
        ],
      },
      "Function call is missing a thought_signature in functionCall parts.",
    );
    expect(message).toContain("function call `default_api:Bash` , position 4.");
    expect(message).toContain("https://ai.google.dev/gemini-api/docs/thought-signatures");
    // Gemini 2.5 does not enforce it.
    await expectOk("gemini-2.5-flash", { contents: [user("go"), callTurn(["Bash"]), responses(["Bash"])] });
  });

  it("Gemini 3: does not check calls from earlier turns", async () => {
    await expectOk("gemini-3-flash-preview", {
      contents: [
        user("go"),
        callTurn(["Bash"]),
        responses(["Bash"]),
        { role: "model", parts: [{ text: "done" }] },
        user("next"),
      ],
    });
  });

  it("Gemini 3: accepts the documented skip values", async () => {
    for (const skip of ["skip_thought_signature_validator", "context_engineering_is_the_way_to_go"]) {
      await expectOk("gemini-3-pro-preview", {
        contents: [user("go"), callTurn(["Bash"], skip), responses(["Bash"])],
      });
    }
  });

  it("rejects signatures the fake never issued, or issued for another model", async () => {
    await expect400(
      "gemini-3-pro-preview",
      { contents: [user("go"), callTurn(["Bash"], "c29tZXRoaW5nIGludmVudGVk"), responses(["Bash"])] },
      "Thought signature is not valid.",
    );
    const flashSignature = fake.issueSignature("gemini-3-flash-preview");
    await expect400(
      "gemini-3-pro-preview",
      { contents: [user("go"), callTurn(["Bash"], flashSignature), responses(["Bash"])] },
      "Thought signature is not valid.",
    );
    await expectOk("gemini-3-flash-preview", {
      contents: [user("go"), callTurn(["Bash"], flashSignature), responses(["Bash"])],
    });
  });

  it("round trip: a served call with its fresh signature and id is accepted back", async () => {
    fake.enqueue({
      chunks: functionCalls(
        [
          { name: "Read", args: { file_path: "/a" } },
          { name: "Read", args: { file_path: "/b" } },
        ],
        { thought: "Planning" },
      ),
    });
    const res = await call("gemini-3-pro-preview", hello, { action: "streamGenerateContent" });
    const events = sseEvents(await res.text());
    const parts = events.flatMap(partsOf);
    const calls = parts.filter((p) => p.functionCall !== undefined);
    expect(calls).toHaveLength(2);
    expect(typeof calls[0]?.thoughtSignature).toBe("string");
    expect(calls[1]?.thoughtSignature).toBeUndefined();
    expect((calls[0]?.functionCall as Json | undefined)?.id).toMatch(/^fc_/);
    expect(fake.isIssuedSignature("gemini-3-pro-preview", calls[0]?.thoughtSignature as string)).toBe(true);
    const last = events[events.length - 1] as Json;
    expect(last).toMatchObject({ candidates: [{ finishReason: "STOP" }] });
    expect((last.usageMetadata as Json).thoughtsTokenCount).toBeGreaterThan(0);

    const history = {
      contents: [
        user("hi"),
        { role: "model", parts },
        {
          role: "user",
          parts: calls.map((c) => {
            const fc = c.functionCall as Json;
            return { functionResponse: { id: fc.id, name: fc.name, response: { output: "x" } } };
          }),
        },
      ],
    };
    await expectOk("gemini-3-pro-preview", history);
    await expect400("gemini-3-flash-preview", history, "Thought signature is not valid.");
  });

  it("strips call ids when functionCallIds is false", async () => {
    const noIds = await startFakeGemini({ functionCallIds: false });
    try {
      noIds.enqueue({ chunks: functionCalls([{ name: "Bash", args: {} }]) });
      const res = await fetch(`${noIds.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
        method: "POST",
        body: JSON.stringify(hello),
      });
      const part = partsOf((await res.json()) as Json)[0] as Json;
      expect(part.functionCall).toEqual({ name: "Bash", args: {} });
    } finally {
      await noIds.close();
    }
  });
});

describe("countTokens", () => {
  it("counts contents, or the whole generateContentRequest, deterministically", async () => {
    const count = async (body: Json): Promise<number> => {
      const res = await call("gemini-2.5-pro", body, { action: "countTokens" });
      expect(res.status).toBe(200);
      return ((await res.json()) as { totalTokens: number }).totalTokens;
    };
    const contents = [user("hello there")];
    const plain = await count({ contents });
    expect(plain).toBe(Math.ceil(JSON.stringify({ contents }).length / 4));
    expect(await count({ contents })).toBe(plain);
    const full = await count({
      generateContentRequest: {
        model: "models/gemini-2.5-pro",
        contents,
        systemInstruction: { parts: [{ text: "a long system prompt ".repeat(20) }] },
      },
    });
    expect(full).toBeGreaterThan(plain + 50);
  });

  it("requires exactly one of contents and generateContentRequest", async () => {
    const both = await call(
      "gemini-2.5-pro",
      { contents: [user("a")], generateContentRequest: { contents: [user("a")] } },
      { action: "countTokens" },
    );
    expect(both.status).toBe(400);
    expect((await errorOf(both)).message).toContain("only one of generate_content_request or contents");
    const neither = await call("gemini-2.5-pro", {}, { action: "countTokens" });
    expect((await errorOf(neither)).message).toBe(
      "CountTokens requires generate_content_request or contents to be set.",
    );
    const bad = await call(
      "gemini-2.5-pro",
      { contents: [{ role: "user", parts: [{}] }] },
      { action: "countTokens" },
    );
    expect((await errorOf(bad)).message).toContain("* CountTokensRequest.contents[0].parts[0].data");
  });
});

describe("scripts", () => {
  it("streams SSE chunks framed with \\r\\n\\r\\n, no [DONE], and plays scripts in order", async () => {
    fake.enqueue(
      { chunks: textChunks("first answer", { parts: 3 }) },
      { chunks: thinkingThenText("hmm", "second") },
    );
    const res1 = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    expect(res1.headers.get("content-type")).toContain("text/event-stream");
    const raw = await res1.text();
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
    expect(raw).not.toContain("[DONE]");
    const events = sseEvents(raw);
    expect(events).toHaveLength(3);
    expect(
      events
        .flatMap(partsOf)
        .map((p) => p.text)
        .join(""),
    ).toBe("first answer");
    const usages = events.map((e) => (e.usageMetadata as Json).candidatesTokenCount as number);
    expect(usages).toEqual([...usages].sort((a, b) => a - b)); // running totals
    expect(events.slice(0, 2).every((e) => (e.candidates as Json[])[0]?.finishReason === undefined)).toBe(
      true,
    );

    const res2 = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    const parts = sseEvents(await res2.text()).flatMap(partsOf);
    expect(parts).toEqual([{ text: "hmm", thought: true }, { text: "second" }]);
    expect(fake.pending).toBe(0);
  });

  it("merges chunks for generateContent", async () => {
    fake.enqueue({ chunks: textChunks("abcdef", { parts: 3 }) });
    const json = await expectOk("gemini-2.5-flash", hello);
    expect(partsOf(json)).toEqual([{ text: "abcdef" }]);
  });

  it("streams a JSON array without alt=sse", async () => {
    fake.enqueue({ chunks: textChunks("ab", { parts: 2 }) });
    const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=${KEY}`, {
      method: "POST",
      body: JSON.stringify(hello),
    });
    const array = (await res.json()) as Json[];
    expect(array).toHaveLength(2);
  });

  it("validates before scripts and keeps the script queued", async () => {
    fake.enqueue(unavailable());
    await expect400("gemini-2.5-flash", { contents: [] }, "contents is not specified");
    expect(fake.pending).toBe(1);
    const res = await call("gemini-2.5-flash", hello);
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({
      status: "UNAVAILABLE",
      message: "The model is overloaded. Please try again later.",
    });
  });

  it("serves error helpers with Google's shapes", async () => {
    fake.enqueue(rateLimited(7, { model: "gemini-2.5-flash" }), promptTooLong(1_200_000, 1_048_576));
    const limited = await call("gemini-2.5-flash", hello);
    expect(limited.status).toBe(429);
    const error = await errorOf(limited);
    expect(error.status).toBe("RESOURCE_EXHAUSTED");
    expect(error.details).toContainEqual({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: "7s",
    });
    expect(error.details).toContainEqual(
      expect.objectContaining({ "@type": "type.googleapis.com/google.rpc.QuotaFailure" }),
    );
    const long = await call("gemini-2.5-flash", hello);
    expect(long.status).toBe(400);
    expect((await errorOf(long)).message).toBe(
      "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
    );
  });

  it("serves raw SSE bytes verbatim and mid-stream error chunks", async () => {
    fake.enqueue(
      { status: 200, rawSse: 'data: {"candidates": [\r\n\r\n' },
      { chunks: [...textChunks("a"), streamErrorChunk(500, "INTERNAL", "boom")] },
    );
    const raw = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    expect(await raw.text()).toBe('data: {"candidates": [\r\n\r\n');
    const withError = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    const events = sseEvents(await withError.text());
    expect(events[1]).toEqual({ error: { code: 500, message: "boom", status: "INTERNAL" } });
  });

  it("omitFinish strips finishReason", async () => {
    fake.enqueue({ chunks: textChunks("ab", { parts: 2 }), omitFinish: true });
    const res = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    const text = await res.text();
    expect(text).not.toContain("finishReason");
  });

  it("uses options.handler first and falls back to the queue", async () => {
    const dynamic = await startFakeGemini({
      handler: (req) => (req.model === "gemini-2.5-pro" ? { chunks: textChunks("from handler") } : undefined),
    });
    try {
      dynamic.enqueue({ chunks: textChunks("from queue") });
      const post = async (model: string): Promise<string> => {
        const res = await fetch(`${dynamic.url}/v1beta/models/${model}:generateContent?key=k`, {
          method: "POST",
          body: JSON.stringify(hello),
        });
        return partsOf((await res.json()) as Json)[0]?.text as string;
      };
      expect(await post("gemini-2.5-pro")).toBe("from handler");
      expect(await post("gemini-2.5-flash")).toBe("from queue");
      expect(await post("gemini-2.5-flash")).toBe("Hello from fake Gemini.");
    } finally {
      await dynamic.close();
    }
  });

  it("delays the first byte", async () => {
    fake.enqueue({ chunks: textChunks("slow"), firstByteDelayMs: 150 });
    const started = Date.now();
    const res = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await res.text();
  });
});

describe("faults", () => {
  it("cutAfterChunks destroys the socket mid-stream", async () => {
    fake.enqueue({ chunks: textChunks("abcdef", { parts: 3 }), cutAfterChunks: 1 });
    const res = await call("gemini-2.5-flash", hello, { action: "streamGenerateContent" });
    expect(res.status).toBe(200);
    const { text, error } = await readUntilEnd(res);
    expect(error).toBeDefined();
    expect(sseEvents(text)).toHaveLength(1);
    expect(fake.requests[0]?.aborted).toBe(false);
  });

  it("cuts a generateContent answer halfway through its JSON", async () => {
    fake.enqueue({ chunks: textChunks("abcdef"), cutAfterChunks: 0 });
    const res = await call("gemini-2.5-flash", hello);
    await expect(res.json()).rejects.toThrow();
  });

  it("stallAfterChunks keeps the socket open without writing; the client's abort is recorded", async () => {
    fake.enqueue({ chunks: textChunks("abcdef", { parts: 3 }), stallAfterChunks: 1 });
    const controller = new AbortController();
    const res = await call("gemini-2.5-flash", hello, {
      action: "streamGenerateContent",
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"text":"ab"');
    const next = await Promise.race([
      reader.read().then(
        () => "data" as const,
        () => "error" as const,
      ),
      new Promise<"stalled">((resolve) => setTimeout(() => resolve("stalled"), 250)),
    ]);
    expect(next).toBe("stalled");
    expect(fake.openConnections).toBeGreaterThanOrEqual(1);
    controller.abort();
    const closed = await fake.waitForClientClose();
    expect(closed.aborted).toBe(true);
    expect(closed.action).toBe("streamGenerateContent");
  });

  it("reset destroys the connection without an answer", async () => {
    fake.enqueue({ reset: true });
    await expect(call("gemini-2.5-flash", hello)).rejects.toThrow();
    expect(fake.requests[0]?.status).toBeUndefined();
  });

  it("hang never answers until the client gives up", async () => {
    fake.enqueue({ hang: true });
    await expect(call("gemini-2.5-flash", hello, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    const closed = await fake.waitForClientClose();
    expect(closed.aborted).toBe(true);
    expect(closed.status).toBeUndefined();
  });

  it("rejects bodies over the size cap", async () => {
    const small = await startFakeGemini({ maxBodyBytes: 1_000 });
    try {
      const res = await fetch(`${small.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
        method: "POST",
        body: JSON.stringify({ contents: [user("x".repeat(2_000))] }),
      });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toBe("Request payload size exceeds the limit: 1000 bytes.");
    } finally {
      await small.close();
    }
  });

  it("rejects a body that is not JSON", async () => {
    const res = await call("gemini-2.5-flash", undefined, { rawBody: "{nope" });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain("Invalid JSON payload received.");
  });

  it("close() ends promptly even with a hanging request", async () => {
    const other = await startFakeGemini();
    other.enqueue({ hang: true });
    const pending = fetch(`${other.url}/v1beta/models/gemini-2.5-flash:generateContent?key=k`, {
      method: "POST",
      body: JSON.stringify(hello),
    }).catch((error: unknown) => error);
    for (let i = 0; i < 50 && other.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(await pending).toBeInstanceOf(Error);
    expect(other.errors).toEqual([]);
  });
});
