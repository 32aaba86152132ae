/**
 * End to end: the real Claude Code CLI (headless, `-p … --output-format json`) → a real gateway →
 * the strict fake OpenAI (Chat Completions) and the strict fake Anthropic relay. Each run is a Write
 * tool round trip that writes a file on disk: the fake answers the main agent with a tool call, the
 * follow-up carries Claude Code's tool result paired to the fake's call id (protocol.md A.3, G.1),
 * and the final text reaches the CLI's result.
 *
 * HTTP taps sit in front of each fake (the fakes answer validation failures themselves without
 * recording a status, so the tap is what proves no request got a 4xx) and, for the relay, in front
 * of the gateway (to compare the `anthropic-beta` the CLI sent with what reached the upstream).
 *
 * Runs as root, so tools are allowed with `--allowedTools Bash,Write` (fixtures/README.md).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { providerSchema, type RouteConfig, routeSchema } from "../../src/config/schema.js";
import type { RunningGateway } from "../../src/server.js";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic.js";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai.js";
import { type ClaudeRun, runClaude } from "../helpers/claude-cli.js";
import { startTestGateway } from "../helpers/gateway.js";
import {
  type AgentAnswer,
  anthropicAgent,
  anthropicCallingTurns,
  anthropicLastToolResults,
  anthropicToolUses,
  isRecord,
  openaiAgent,
  openaiCallingTurns,
  openaiLastToolResults,
  type ProviderAgentScript,
  records,
  userText,
} from "./providers-agents.js";
import { type HttpTap, startHttpTap } from "./providers-http-tap.js";

const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 30_000;
const OPENAI_KEY = "e2e-openai-key";
const RELAY_KEY = "e2e-relay-key";
/** Claude Code's background model (haiku) gets its own upstream model, so side calls never look like the agent. */
const BACKGROUND_GLOB = "*haiku*";

/** Servers of the running test, closed in reverse order after it. */
let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const close of pending) await close();
});

function routes(provider: string, main: string, side: string): RouteConfig[] {
  return [
    { name: "background", match: [BACKGROUND_GLOB], targets: [`${provider}/${side}`] },
    { name: "main", match: ["*"], targets: [`${provider}/${main}`] },
  ].map((r) => routeSchema.parse(r));
}

async function tap(url: string): Promise<HttpTap> {
  const t = await startHttpTap(url);
  cleanups.push(() => t.close());
  return t;
}

function workDir(): string {
  return mkdtempSync(join(tmpdir(), "ccgate-e2e-cwd-"));
}

function describeExchanges(t: HttpTap): string {
  return t.exchanges.map((e) => `${e.method} ${e.url} → ${e.status ?? e.error ?? "no answer"}`).join("; ");
}

async function claude(
  baseUrl: string,
  prompt: string,
  cwd: string,
  upstream: HttpTap,
  answers: AgentAnswer[],
): Promise<ClaudeRun> {
  const run = await runClaude({
    baseUrl,
    prompt,
    cwd,
    args: ["--allowedTools", "Bash,Write"],
    timeoutMs: RUN_TIMEOUT_MS,
  });
  // On failure show what the CLI said and what reached the fake: the assertion alone hides the cause.
  if (run.code !== 0 || run.result?.is_error !== false) {
    throw new Error(
      `claude failed (exit ${run.code}; 143 = killed by the ${RUN_TIMEOUT_MS} ms timeout)\n` +
        `upstream calls: ${describeExchanges(upstream) || "none"}\n` +
        `agent answers: ${JSON.stringify(answers)}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
  return run;
}

/** Every request (under `prefix`) got through the tap and was answered 200: no 4xx, no 5xx. */
function expectAllAnswered200(t: HttpTap, prefix = "/"): void {
  const seen = t.exchanges.filter((e) => e.url.startsWith(prefix));
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.map((e) => `${e.method} ${e.url} ${e.status ?? e.error}`)).toEqual(
    seen.map((e) => `${e.method} ${e.url} 200`),
  );
}

/** The recorded bodies of the main agent (its model, its marker), in arrival order. */
function mainBodies(requests: readonly { body: unknown }[], model: string, marker: string): unknown[] {
  return requests
    .map((r) => r.body)
    .filter((b) => isRecord(b) && b.model === model && userText(b).includes(marker));
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

describe("Claude Code CLI → ccgate → OpenAI / Anthropic relay (fakes)", () => {
  it(
    "openai: runs a Write tool round trip and pairs the tool result with the OpenAI call id",
    async () => {
      const marker = "E2E-OPENAI-WRITE-4b1e";
      const model = "gpt-e2e-main";
      const cwd = workDir();
      const file = join(cwd, "openai.txt");
      const callId = "call_e2eWriteOpenAI01";
      const finalText = "I wrote openai.txt through the OpenAI provider.";
      const script: ProviderAgentScript = {
        model,
        marker,
        steps: [[{ id: callId, name: "Write", input: { file_path: file, content: "written via openai\n" } }]],
        finalText,
      };
      let fake: FakeOpenAI | undefined;
      const agent = openaiAgent(script, () => fake);
      fake = await startFakeOpenAI({ validKeys: [OPENAI_KEY], defaultScript: agent.defaultScript });
      const openai = fake;
      cleanups.push(() => openai.close());
      const upstream = await tap(openai.url);
      const gateway: RunningGateway = await startTestGateway({
        configure(config) {
          config.providers = [
            providerSchema.parse({
              name: "oai",
              type: "openai",
              baseUrl: `${upstream.url}/v1`,
              apiKeys: [OPENAI_KEY],
            }),
          ];
          config.routes = routes("oai", model, "gpt-e2e-side");
        },
      });
      cleanups.push(() => gateway.close());

      const run = await claude(gateway.url, `Create openai.txt. (${marker})`, cwd, upstream, agent.answers);

      expect(readFileSync(file, "utf8")).toBe("written via openai\n");
      expect(run.result?.result).toContain(finalText);
      expect(agent.answers).toEqual(expect.arrayContaining([{ step: 0 }, "final"]));

      const main = mainBodies(openai.requests, model, marker);
      const followUp = main.find((b) => openaiLastToolResults(b).length > 0);
      expect(followUp).toBeDefined();
      // The assistant turn Claude Code echoed back holds the fake's call, id unchanged on the wire.
      const turns = openaiCallingTurns(followUp);
      expect(turns).toHaveLength(1);
      const [call] = records(turns[0]?.tool_calls);
      expect(call?.id).toBe(callId);
      const fn = isRecord(call?.function) ? call.function : {};
      expect(fn.name).toBe("Write");
      expect(JSON.parse(String(fn.arguments))).toMatchObject({ file_path: file });
      // …and is answered right after by one tool message carrying the Write result.
      const results = openaiLastToolResults(followUp);
      expect(results).toHaveLength(1);
      expect(results[0]?.tool_call_id).toBe(callId);
      expect(JSON.stringify(results[0]?.content)).toContain("openai.txt");

      expect(openai.requests.every((r) => r.key === OPENAI_KEY)).toBe(true);
      expectAllAnswered200(upstream);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "anthropic relay: runs a Write tool round trip, rewrites the model and forwards anthropic-beta",
    async () => {
      const marker = "E2E-RELAY-WRITE-8c3d";
      const model = "claude-relay-e2e-main";
      const cwd = workDir();
      const file = join(cwd, "relay.txt");
      const callId = "toolu_01E2EWriteRelay000001";
      const finalText = "I wrote relay.txt through the Anthropic relay.";
      const script: ProviderAgentScript = {
        model,
        marker,
        steps: [[{ id: callId, name: "Write", input: { file_path: file, content: "written via relay\n" } }]],
        finalText,
      };
      let fake: FakeAnthropic | undefined;
      const agent = anthropicAgent(script, () => fake);
      fake = await startFakeAnthropic({ validKeys: [RELAY_KEY], defaultScript: agent.defaultScript });
      const relay = fake;
      cleanups.push(() => relay.close());
      const upstream = await tap(relay.url);
      const gateway: RunningGateway = await startTestGateway({
        configure(config) {
          config.providers = [
            providerSchema.parse({
              name: "relay",
              type: "anthropic",
              baseUrl: upstream.url,
              apiKeys: [RELAY_KEY],
            }),
          ];
          config.routes = routes("relay", model, "claude-relay-e2e-side");
        },
      });
      cleanups.push(() => gateway.close());
      const client = await tap(gateway.url);

      const run = await claude(client.url, `Create relay.txt. (${marker})`, cwd, upstream, agent.answers);

      expect(readFileSync(file, "utf8")).toBe("written via relay\n");
      expect(run.result?.result).toContain(finalText);
      expect(agent.answers).toEqual(expect.arrayContaining([{ step: 0 }, "final"]));

      const messages = relay.requests.filter((r) => r.path === "/v1/messages");
      const main = mainBodies(messages, model, marker);
      const followUp = main.find((b) => anthropicLastToolResults(b).length > 0);
      expect(followUp).toBeDefined();
      const turns = anthropicCallingTurns(followUp);
      expect(turns).toHaveLength(1);
      const uses = anthropicToolUses(turns[0]);
      expect(uses).toHaveLength(1);
      expect(uses[0]).toMatchObject({ id: callId, name: "Write", input: { file_path: file } });
      const results = anthropicLastToolResults(followUp);
      expect(results).toHaveLength(1);
      expect(results[0]?.tool_use_id).toBe(callId);
      expect(JSON.stringify(results[0]?.content)).toContain("relay.txt");

      // Model rewritten: Claude Code asks for a claude-* model; the upstream only ever sees the
      // configured ones (main for the agent, side for haiku-routed background calls).
      expect(main.length).toBeGreaterThanOrEqual(2);
      const upstreamModels = messages.map((r) => (isRecord(r.body) ? r.body.model : undefined));
      expect(upstreamModels.filter((m) => m !== model && m !== "claude-relay-e2e-side")).toEqual([]);
      // anthropic-beta forwarded as Claude Code sent it; the relay's own key replaces the client's.
      const sentBetas = new Set(
        client.exchanges
          .filter((e) => e.method === "POST" && e.url.startsWith("/v1/messages"))
          .map((e) => header(e.headers, "anthropic-beta")),
      );
      const mainRequests = messages.filter((r) => main.includes(r.body));
      expect(mainRequests.length).toBe(main.length);
      for (const r of mainRequests) {
        const beta = header(r.headers, "anthropic-beta");
        expect(beta).toContain("claude-code-20250219");
        expect(sentBetas.has(beta)).toBe(true);
        expect(r.key).toBe(RELAY_KEY);
        expect(header(r.headers, "authorization")).toBeUndefined();
      }
      expectAllAnswered200(upstream);
      // What the gateway answered the CLI on the Messages API (other paths are not this test's).
      expectAllAnswered200(client, "/v1/messages");
    },
    TEST_TIMEOUT_MS,
  );
});
