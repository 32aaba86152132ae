/**
 * Proposed e2e (test/e2e/, not owned by the web-search helper): Claude Code's WebSearch tool
 * through the gateway to the fake Gemini's Google Search grounding. Verified working on 2.1.330:
 * CC sends the side request `tools: [{type: "web_search_20250305", name: "web_search", max_uses: 8}]`,
 * `tool_choice: {type: "auto"}`, then feeds "Web search results for query … Links: [...]" back.
 * WebSearch is a deferred tool unless ENABLE_TOOL_SEARCH=false.
 */
import { afterEach, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import {
  FAKE_SEARCH_SOURCES,
  type FakeGemini,
  type FakeGeminiRequest,
  functionCalls,
  startFakeGemini,
  textChunks,
} from "../fakes/gemini.js";
import { runClaude } from "../helpers/claude-cli.js";
import { startTestGateway } from "../helpers/gateway.js";
import { callingModelTurns, declaredFunctions, geminiBody, lastFunctionResponses } from "./gemini-body.js";

let fake: FakeGemini | undefined;
let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  await fake?.close();
});

it("runs Claude Code's WebSearch tool on Google Search grounding", async () => {
  fake = await startFakeGemini({
    handler: (req: FakeGeminiRequest) => {
      const body = geminiBody(req);
      if (JSON.stringify(body.tools ?? []).includes("googleSearch")) return undefined; // grounded default
      if (!declaredFunctions(body).includes("WebSearch")) return { chunks: textChunks("side") };
      if (callingModelTurns(body).length === 0) {
        return { chunks: functionCalls([{ name: "WebSearch", args: { query: "ccgate gateway news" } }]) };
      }
      return { chunks: textChunks("FINAL: searched.") };
    },
  });
  gateway = await startTestGateway({ env: { GEMINI_API_KEY: "k", GEMINI_BASE_URL: fake.url } });
  const run = await runClaude({
    baseUrl: gateway.url,
    prompt: "Search the web for ccgate gateway news using the WebSearch tool, then reply.",
    args: ["--allowedTools", "WebSearch"],
    env: { ENABLE_TOOL_SEARCH: "false" },
    timeoutMs: 120_000,
  });
  expect(run.result?.is_error).toBe(false);
  expect(run.result?.result).toBe("FINAL: searched.");
  const search = fake.requests.find((r) =>
    JSON.stringify(geminiBody(r).tools ?? []).includes("googleSearch"),
  );
  if (search === undefined) throw new Error("no Google Search request reached the fake");
  expect(geminiBody(search).tools).toEqual([{ googleSearch: {} }]);
  const last = fake.requests.at(-1);
  if (last === undefined) throw new Error("no request reached the fake");
  const output = JSON.stringify(lastFunctionResponses(geminiBody(last)));
  expect(output).toContain('Web search results for query: \\"ccgate gateway news\\"');
  for (const source of FAKE_SEARCH_SOURCES) expect(output).toContain(source.uri);
}, 150_000);
