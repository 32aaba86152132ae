/**
 * A Vertex token endpoint that accepts the connection and never answers must not hang requests:
 * the refresh gives up at its deadline with a transient error, the attempt loop fails over to the
 * next target, and a later request starts a fresh exchange (which then serves from Vertex).
 *
 * The deadline is the token cache's default, shortened for this file through the module mock
 * (the Vertex provider options have no knob for it, on purpose).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import { DEFAULT_REFRESH_TIMEOUT_MS } from "../../src/credentials/token-cache.js";
import type { RunningGateway } from "../../src/server.js";
import { type FakeGemini, startFakeGemini, textChunks } from "../fakes/gemini.js";
import {
  createTestServiceAccount,
  type FakeGoogleOAuth,
  type FakeVertex,
  startFakeGoogleOAuth,
  startFakeVertex,
  writeKeyFile,
} from "../fakes/google-oauth.js";
import { sdkClient, startTestGateway } from "../helpers/gateway.js";
import {
  type StallingTokenEndpoint,
  startStallingTokenEndpoint,
} from "../helpers/stalling-token-endpoint.js";

const { DEADLINE_MS } = vi.hoisted(() => ({ DEADLINE_MS: 400 }));
vi.mock("../../src/credentials/token-cache.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/credentials/token-cache.js")>()),
  DEFAULT_REFRESH_TIMEOUT_MS: DEADLINE_MS,
}));

const PROJECT = "ccgate-test";
const LOCATION = "us-east5";

let oauth: FakeGoogleOAuth;
let endpoint: StallingTokenEndpoint;
let vertexGemini: FakeGemini;
let vertex: FakeVertex;
let direct: FakeGemini;
let gateway: RunningGateway;
let client: Anthropic;

beforeAll(async () => {
  const account = createTestServiceAccount({ projectId: PROJECT });
  const keyFile = writeKeyFile(account, mkdtempSync(join(tmpdir(), "ccgate-vertex-deadline-")));
  oauth = await startFakeGoogleOAuth({ accounts: [account] });
  endpoint = await startStallingTokenEndpoint(oauth);
  vertexGemini = await startFakeGemini();
  vertex = await startFakeVertex({
    oauth,
    geminiUrl: vertexGemini.url,
    project: PROJECT,
    location: LOCATION,
  });
  direct = await startFakeGemini();
  gateway = await startTestGateway({
    configure(config) {
      config.providers = [
        providerSchema.parse({
          name: "vertex",
          type: "vertex",
          baseUrl: vertex.url,
          options: {
            project: PROJECT,
            location: LOCATION,
            credentialsFile: keyFile,
            tokenUrl: endpoint.tokenUrl,
          },
        }),
        providerSchema.parse({ name: "gemini", type: "gemini", baseUrl: direct.url, apiKeys: ["gem-key"] }),
      ];
      config.routes = [
        routeSchema.parse({
          name: "all",
          match: ["*"],
          targets: ["vertex/gemini-2.5-pro", "gemini/gemini-2.5-pro"],
        }),
      ];
    },
  });
  client = sdkClient(gateway);
});
afterAll(async () => {
  await gateway?.close();
  await direct?.close();
  await vertex?.close();
  await vertexGemini?.close();
  await endpoint?.close();
  await oauth?.close();
});

const ask = {
  model: "claude-sonnet-4-6",
  max_tokens: 64,
  messages: [{ role: "user" as const, content: "hi" }],
};

describe("a Vertex token endpoint that never answers", () => {
  it("fails over to the next target within the deadline, and a later request refreshes afresh", {
    timeout: 20_000,
  }, async () => {
    expect(DEFAULT_REFRESH_TIMEOUT_MS).toBe(DEADLINE_MS);
    endpoint.stall = Number.POSITIVE_INFINITY;
    direct.enqueue({ chunks: textChunks("from the fallback") }, { chunks: textChunks("fallback again") });

    const started = Date.now();
    const first = await client.messages.create(ask);
    expect(first.content).toEqual([{ type: "text", text: "from the fallback" }]);
    // Each Vertex attempt waits at most one deadline (the loop may try the target again first).
    expect(Date.now() - started).toBeLessThan(8 * DEADLINE_MS + 2_000);
    expect(endpoint.hits).toBeGreaterThanOrEqual(1);
    expect(vertex.requests).toHaveLength(0);
    const hitsAfterFirst = endpoint.hits;

    // The endpoint recovers: a later request does not join the abandoned exchange.
    endpoint.stall = 0;
    vertexGemini.enqueue({ chunks: textChunks("from vertex") });
    let answer = "";
    // The failed target may be cooling down in the resilience layer; then the fallback answers.
    for (let i = 0; i < 20 && answer !== "from vertex"; i++) {
      const res = await client.messages.create(ask);
      answer = res.content[0]?.type === "text" ? res.content[0].text : "";
      if (answer !== "from vertex") {
        direct.enqueue({ chunks: textChunks("fallback again") });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(answer).toBe("from vertex");
    expect(endpoint.hits).toBeGreaterThan(hitsAfterFirst);
    expect(oauth.issued).toBe(1);
    expect(vertex.requests.at(-1)?.status).toBe(200);
  });
});
