/**
 * Conformance harness for the Vertex AI adapter: a real OAuth token exchange (JWT-bearer, signed
 * with a test service account's key) against the fake Google token endpoint, then the Vertex
 * front (project/location/publisher-model URLs, bearer tokens this endpoint issued) forwarding to
 * the strict fake Gemini, which scripts the answers — Vertex serves the Gemini wire format.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { providerSchema } from "../../src/config/schema.js";
import { type FakeGemini, googleError, startFakeGemini, thinkingThenText } from "../fakes/gemini.js";
import {
  createTestServiceAccount,
  type FakeGoogleOAuth,
  type FakeVertex,
  startFakeGoogleOAuth,
  startFakeVertex,
  type TestServiceAccount,
  writeKeyFile,
} from "../fakes/google-oauth.js";
import { geminiError, geminiInspect, geminiScripts } from "./gemini-harness.js";
import type { ProviderHarness, Received } from "./harness.js";

const MODEL = "gemini-3-pro-preview";
const PROJECT = "conformance-project";
const LOCATION = "us-central1";

interface Running {
  gemini: FakeGemini;
  oauth: FakeGoogleOAuth;
  vertex: FakeVertex;
  account: TestServiceAccount;
  keyFile: string;
  dir: string;
}

export function vertexHarness(): ProviderHarness {
  let running: Running | undefined;
  const need = (): Running => {
    if (running === undefined) throw new Error("vertex harness not started");
    return running;
  };
  const account = createTestServiceAccount({ projectId: PROJECT });
  return {
    name: "vertex",
    upstreamModel: MODEL,
    usageAtStart: true,
    // Tokens are random: the fake reports whose they are, so the expected credential is the
    // service account the gateway exchanged its signed assertion for.
    credential: account.clientEmail,
    thinkingEcho: "text",
    async start() {
      const oauth = await startFakeGoogleOAuth({ accounts: [account] });
      const gemini = await startFakeGemini();
      const vertex = await startFakeVertex({
        oauth,
        geminiUrl: gemini.url,
        project: PROJECT,
        location: LOCATION,
      });
      const dir = mkdtempSync(join(tmpdir(), "ccgate-conformance-vertex-"));
      running = { gemini, oauth, vertex, account, keyFile: writeKeyFile(account, dir), dir };
    },
    async close() {
      if (running === undefined) return;
      await running.vertex.close();
      await running.gemini.close();
      await running.oauth.close();
      rmSync(running.dir, { recursive: true, force: true });
    },
    reset() {
      need().gemini.reset();
      need().vertex.reset();
    },
    provider: (name) =>
      providerSchema.parse({
        name,
        type: "vertex",
        baseUrl: need().vertex.url,
        options: {
          project: PROJECT,
          location: LOCATION,
          credentialsFile: need().keyFile,
          tokenUrl: need().oauth.tokenUrl,
        },
      }),
    text: (parts) => need().gemini.enqueue({ chunks: geminiScripts.text(parts) }),
    toolCall: (call) => need().gemini.enqueue({ chunks: geminiScripts.calls([call]) }),
    parallelToolCalls: (calls) => need().gemini.enqueue({ chunks: geminiScripts.calls(calls) }),
    thinkingThenText: (thought, text) => need().gemini.enqueue({ chunks: thinkingThenText(thought, text) }),
    stopReason: (kind, text) => need().gemini.enqueue({ chunks: geminiScripts.stop(kind, text) }),
    usage: (usage, text) => need().gemini.enqueue({ chunks: geminiScripts.usage(usage, text) }),
    httpError(kind) {
      if (kind === "auth") {
        // Vertex rejects an expired or revoked token with 401 UNAUTHENTICATED, not a key error.
        const message = "Request had invalid authentication credentials. Expected OAuth 2 access token.";
        const details = [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "ACCESS_TOKEN_EXPIRED",
            domain: "googleapis.com",
          },
        ];
        need().gemini.enqueue(googleError(401, "UNAUTHENTICATED", message, details));
        return message;
      }
      const { script, message } = geminiError(kind);
      need().gemini.enqueue(script);
      return message;
    },
    midStreamCut: (parts) => need().gemini.enqueue({ chunks: geminiScripts.text(parts), cutAfterChunks: 1 }),
    received(): Received[] {
      const { vertex, gemini } = need();
      const forwarded = gemini.requests.filter(
        (r) => r.action === "streamGenerateContent" || r.action === "generateContent",
      );
      return vertex.requests
        .filter((r) => r.method === "streamGenerateContent" || r.method === "generateContent")
        .map((r, i) => ({
          body: r.body,
          streaming: r.method === "streamGenerateContent" && forwarded[i]?.query.alt === "sse",
          model: r.model,
          credential: r.account,
        }));
    },
    ...geminiInspect,
  };
}
