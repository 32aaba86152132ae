/**
 * A `type: vertex` provider end to end: the official SDK → ccgate → the fake Vertex AI front
 * (project/location paths, bearer tokens checked against the fake OAuth endpoint) → the strict
 * fake Gemini. Tokens come from a real JWT-bearer exchange with a test service account.
 *
 * Needs the vertex wiring in create-provider.ts and gateway.ts (see vertexUpstreamKeys); until
 * then the file is skipped, detected the same way as the conformance harness does.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import type { RunningGateway } from "../../src/server.js";
import {
  type FakeGemini,
  functionCalls,
  startFakeGemini,
  textChunks,
  thinkingThenText,
} from "../fakes/gemini.js";
import {
  createTestServiceAccount,
  type FakeGoogleOAuth,
  type FakeVertex,
  startFakeGoogleOAuth,
  startFakeVertex,
  type TestServiceAccount,
  writeKeyFile,
} from "../fakes/google-oauth.js";
import { postRaw, sdkClient, startTestGateway } from "../helpers/gateway.js";

const PROJECT = "ccgate-test";
const LOCATION = "us-east5";
const MODEL_PATH = `/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/gemini-2.5-pro`;

let dir: string;
let account: TestServiceAccount;
let oauth: FakeGoogleOAuth;
let gemini: FakeGemini;
let vertex: FakeVertex;
let gateway: RunningGateway;
let client: Anthropic;
let keyFile: string;

/** A gateway whose only provider is Vertex, routing every model to gemini-2.5-pro. */
function vertexGateway(options: Record<string, unknown>): Promise<RunningGateway> {
  return startTestGateway({
    configure(config) {
      config.providers = [
        providerSchema.parse({
          name: "vertex",
          type: "vertex",
          baseUrl: vertex.url,
          options: { project: PROJECT, location: LOCATION, tokenUrl: oauth.tokenUrl, ...options },
        }),
      ];
      config.routes = [routeSchema.parse({ name: "all", match: ["*"], targets: ["vertex/gemini-2.5-pro"] })];
    },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ccgate-vertex-"));
  account = createTestServiceAccount({ projectId: PROJECT });
  keyFile = writeKeyFile(account, dir);
  oauth = await startFakeGoogleOAuth({ accounts: [account] });
  gemini = await startFakeGemini();
  vertex = await startFakeVertex({ oauth, geminiUrl: gemini.url, project: PROJECT, location: LOCATION });
  gateway = await vertexGateway({ credentialsFile: keyFile });
  client = sdkClient(gateway);
});
afterAll(async () => {
  await gateway?.close();
  await vertex?.close();
  await gemini?.close();
  await oauth?.close();
});
beforeEach(() => {
  gemini.reset();
  vertex.reset();
  oauth.expiresInSeconds = 3599;
});

const user = (text: string) => ({ role: "user" as const, content: text });

describe("messages through a vertex provider", () => {
  it("streams from the project's model with a service-account token, exchanged once", async () => {
    const issuedBefore = oauth.issued;
    gemini.enqueue({ chunks: textChunks("Hello from Vertex.", { parts: 3 }) });
    const stream = client.messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 512,
      messages: [user("hi")],
    });
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const message = await stream.finalMessage();

    expect(message.content).toEqual([{ type: "text", text: "Hello from Vertex." }]);
    expect(message.model).toBe("claude-sonnet-4-6");
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    const seen = vertex.requests[0];
    expect(seen?.path).toBe(`${MODEL_PATH}:streamGenerateContent`);
    expect(seen?.query.alt).toBe("sse");
    expect(seen?.account).toBe(account.clientEmail);
    expect(seen?.apiKey).toBeUndefined();
    expect(seen?.status).toBe(200);

    // Later requests reuse the cached token.
    gemini.enqueue({ chunks: textChunks("again") }, { chunks: textChunks("and again") });
    await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 64, messages: [user("x")] });
    await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 64, messages: [user("y")] });
    expect(new Set(vertex.requests.map((r) => r.token)).size).toBe(1);
    expect(oauth.issued - issuedBefore).toBe(1);
  });

  it("keeps thinking signatures and tool calls working across turns", async () => {
    gemini.enqueue({
      chunks: functionCalls([{ name: "Read", args: { file_path: "/a.ts" } }], {
        signature: true,
        thought: "I should read the file",
      }),
    });
    const tools: Anthropic.Tool[] = [
      {
        name: "Read",
        description: "read a file",
        input_schema: {
          type: "object",
          properties: { file_path: { type: "string" } },
          required: ["file_path"],
        },
      },
    ];
    const params = {
      model: "claude-sonnet-4-6",
      max_tokens: 4096,
      thinking: { type: "enabled" as const, budget_tokens: 1024 },
      tools,
    };
    const first = await client.messages.create({ ...params, messages: [user("read it")] });
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");

    gemini.enqueue({ chunks: thinkingThenText("The file is short", "It says A.") });
    const second = await client.messages.create({
      ...params,
      messages: [
        user("read it"),
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call!.id, content: "A" }] },
      ],
    });
    expect(second.content.at(-1)).toEqual({ type: "text", text: "It says A." });
    // The strict fake accepted the replayed signature (it rejects invented ones).
    expect(gemini.requests[1]?.status).toBe(200);
    const body = gemini.requests[1]?.body as { generationConfig: Record<string, unknown> };
    expect(body.generationConfig.thinkingConfig).toMatchObject({ includeThoughts: true });
  });

  it("counts tokens with Vertex's countTokens body", async () => {
    const res = await fetch(`${gateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({
        model: "claude-sonnet-4-6",
        system: "You are terse.",
        tools: [
          { name: "Bash", input_schema: { type: "object", properties: { command: { type: "string" } } } },
        ],
        messages: [user("how many tokens?")],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ccgate-count-source")).toBe("upstream");
    const { input_tokens } = (await res.json()) as { input_tokens: number };
    expect(input_tokens).toBeGreaterThan(0);
    const seen = vertex.requests.at(-1);
    expect(seen?.path).toBe(`${MODEL_PATH}:countTokens`);
    expect(seen?.status).toBe(200);
    expect(Object.keys(seen?.body as object).sort()).toEqual(["contents", "systemInstruction", "tools"]);
  });

  it("fetches a new token when the cached one is about to expire", async () => {
    // A token that lives less than the refresh margin is never reused.
    oauth.expiresInSeconds = 30;
    const fresh = await vertexGateway({ credentialsFile: keyFile });
    try {
      const issuedBefore = oauth.issued;
      const freshClient = sdkClient(fresh);
      gemini.enqueue({ chunks: textChunks("one") }, { chunks: textChunks("two") });
      await freshClient.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 64,
        messages: [user("1")],
      });
      await freshClient.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 64,
        messages: [user("2")],
      });
      expect(oauth.issued - issuedBefore).toBe(2);
      const [a, b] = vertex.requests;
      expect(a?.token).not.toBe(b?.token);
      expect(vertex.requests.every((r) => r.status === 200 && r.account === account.clientEmail)).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});

describe("credential failures", () => {
  it("a service account the token endpoint rejects gives the client a 401, and Vertex is never called", async () => {
    const stranger = createTestServiceAccount({ clientEmail: "nobody@elsewhere.iam.gserviceaccount.com" });
    const other = await vertexGateway({ credentialsFile: writeKeyFile(stranger, dir, "stranger.json") });
    try {
      const res = await postRaw(other, { model: "claude-sonnet-4-6", max_tokens: 64, messages: [user("x")] });
      expect(res.status).toBe(401);
      const body = JSON.parse(res.text) as { type: string; error: { type: string; message: string } };
      expect(body.error.type).toBe("authentication_error");
      expect(body.error.message).toContain("invalid_grant");
      expect(body.error.message).toContain("nobody@elsewhere.iam.gserviceaccount.com");
      expect(vertex.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it("a project the account cannot use gives the client Vertex's 403", async () => {
    const other = await vertexGateway({ credentialsFile: keyFile, project: "someone-elses" });
    try {
      const res = await postRaw(other, { model: "claude-sonnet-4-6", max_tokens: 64, messages: [user("x")] });
      expect(res.status).toBe(403);
      const body = JSON.parse(res.text) as { error: { type: string; message: string } };
      expect(body.error.type).toBe("permission_error");
      expect(body.error.message).toMatch(/^Vertex AI: Permission 'aiplatform\.endpoints\.predict' denied/);
      expect(vertex.requests[0]?.project).toBe("someone-elses");
    } finally {
      await other.close();
    }
  });

  it("a missing key file stops the gateway at start-up with the option named", async () => {
    await expect(vertexGateway({ credentialsFile: join(dir, "absent.json") })).rejects.toThrow(
      /credentialsFile.*absent\.json: no such file/,
    );
  });
});
