/**
 * End to end: the real Claude Code CLI (headless, `-p … --output-format json`) → a real gateway →
 * the strict fake Gemini. Proves the whole chain, including tool round trips that write files on
 * disk and Gemini 3 thought signatures carried through Claude Code's history (protocol.md F.6).
 *
 * Runs as root, so tools are allowed with `--allowedTools Bash,Write` (fixtures/README.md).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import {
  type FakeGemini,
  type FakeGeminiRequest,
  type ScriptedResponse,
  startFakeGemini,
} from "../fakes/gemini.js";
import { type ClaudeRun, runClaude } from "../helpers/claude-cli.js";
import { startTestGateway } from "../helpers/gateway.js";
import { makeGif } from "../helpers/gif.js";
import {
  callingModelTurns,
  callParts,
  declaredFunctions,
  geminiBody,
  lastFunctionResponses,
  lastUserContent,
  mainAgentRequests,
  partsOf,
} from "./gemini-body.js";
import { type AgentScript, scriptedAgent } from "./scripted-agent.js";

/** Claude Code's default model (an opus/sonnet name) takes the gateway's "large" route. */
const DEFAULT_TARGET = "gemini-2.5-pro";
const GEMINI_3 = "gemini-3-pro-preview";
const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 30_000;

let fake: FakeGemini | undefined;
let gateway: RunningGateway | undefined;

afterEach(async () => {
  await gateway?.close();
  await fake?.close();
  gateway = undefined;
  fake = undefined;
});

async function start(
  handler: (req: FakeGeminiRequest) => ScriptedResponse,
  env: Record<string, string> = {},
): Promise<{ fake: FakeGemini; gateway: RunningGateway }> {
  fake = await startFakeGemini({ handler });
  gateway = await startTestGateway({ env: { GEMINI_API_KEY: "k", GEMINI_BASE_URL: fake.url, ...env } });
  return { fake, gateway };
}

async function claude(gw: RunningGateway, prompt: string, cwd?: string): Promise<ClaudeRun> {
  const run = await runClaude({
    baseUrl: gw.url,
    prompt,
    args: ["--allowedTools", "Bash,Write"],
    timeoutMs: RUN_TIMEOUT_MS,
    ...(cwd === undefined ? {} : { cwd }),
  });
  // On failure show what the CLI said and what reached the fake: the assertion alone hides the cause.
  if (run.code !== 0 || run.result?.is_error !== false) {
    const upstream = (fake?.requests ?? []).map((r) => `${r.action} ${r.model} → ${r.status ?? "no answer"}`);
    throw new Error(
      `claude failed (exit ${run.code}; 143 = killed by the ${RUN_TIMEOUT_MS} ms timeout)\n` +
        `upstream calls: ${upstream.join("; ") || "none"}\nfake errors: ${String(fake?.errors ?? [])}\n` +
        `stdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
  return run;
}

/** Every upstream call answered 200 and the fake itself never threw. */
function expectNoUpstreamFailure(f: FakeGemini): void {
  expect(f.errors).toEqual([]);
  expect(f.requests.map((r) => `${r.action} ${r.model} ${r.status}`)).toEqual(
    f.requests.map((r) => `${r.action} ${r.model} 200`),
  );
}

function workDir(): string {
  return mkdtempSync(join(tmpdir(), "ccgate-e2e-cwd-"));
}

function agent(script: Omit<AgentScript, "marker">, marker: string): ReturnType<typeof scriptedAgent> {
  return scriptedAgent({ ...script, marker });
}

describe("Claude Code CLI → ccgate → Gemini (fake)", () => {
  it(
    "answers a prompt with text and sends a well-formed Gemini request",
    async () => {
      const marker = "E2E-TEXT-7f3a";
      const answer = "The fake Gemini says hello through ccgate.";
      const { fake, gateway } = await start(
        agent({ model: DEFAULT_TARGET, steps: [], finalText: answer }, marker),
      );

      const run = await claude(gateway, `Say hello. (${marker})`);

      expect(run.result?.result).toContain(answer);
      const [first] = mainAgentRequests(fake.requests, DEFAULT_TARGET, marker);
      expect(first).toBeDefined();
      if (first === undefined) return;
      expect(first.action).toBe("streamGenerateContent");
      expect(first.query.alt).toBe("sse");
      const body = geminiBody(first);
      expect(body.contents[0]?.role).toBe("user");
      expect(body.contents.at(-1)?.role).toBe("user");
      expect(partsOf(body.contents.at(-1)).some((p) => p.text?.includes(marker))).toBe(true);
      expect(partsOf(body.systemInstruction).length).toBeGreaterThan(0);
      expect(partsOf(body.systemInstruction).every((p) => typeof p.text === "string")).toBe(true);
      expect(declaredFunctions(body)).toEqual(expect.arrayContaining(["Bash", "Write", "Read", "Edit"]));
      for (const tool of body.tools ?? []) {
        for (const decl of tool.functionDeclarations ?? []) expect(decl.name).toMatch(/^[A-Za-z_][\w.:-]*$/);
      }
      expectNoUpstreamFailure(fake);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "runs a Write tool round trip that writes the file on disk",
    async () => {
      const marker = "E2E-WRITE-91c2";
      const cwd = workDir();
      const file = join(cwd, "hello.txt");
      const callId = "fc_write_e2e_1";
      const { fake, gateway } = await start(
        agent(
          {
            model: DEFAULT_TARGET,
            steps: [
              [{ id: callId, name: "Write", args: { file_path: file, content: "written via gemini\n" } }],
            ],
            finalText: "I wrote hello.txt for you.",
          },
          marker,
        ),
      );

      const run = await claude(gateway, `Create hello.txt. (${marker})`, cwd);

      expect(readFileSync(file, "utf8")).toBe("written via gemini\n");
      expect(run.result?.result).toContain("I wrote hello.txt for you.");
      const followUp = mainAgentRequests(fake.requests, DEFAULT_TARGET, marker).find(
        (r) => lastFunctionResponses(geminiBody(r)).length > 0,
      );
      expect(followUp).toBeDefined();
      if (followUp === undefined) return;
      const body = geminiBody(followUp);
      const responses = lastFunctionResponses(body);
      expect(responses).toHaveLength(1);
      expect(responses[0]?.name).toBe("Write");
      expect(responses[0]?.id).toBe(callId);
      expect(JSON.stringify(responses[0]?.response)).toContain("hello.txt");
      const turns = callingModelTurns(body);
      expect(turns).toHaveLength(1);
      const [call] = callParts(turns[0]);
      expect(call?.functionCall).toMatchObject({ id: callId, name: "Write", args: { file_path: file } });
      expect(call?.thoughtSignature).toBeDefined();
      expect(fake.isIssuedSignature(DEFAULT_TARGET, call?.thoughtSignature ?? "")).toBe(true);
      expectNoUpstreamFailure(fake);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "reads a GIF with the Read tool: Gemini, which refuses GIF, gets the image as a PNG",
    async () => {
      const marker = "E2E-GIF-3b71";
      const cwd = workDir();
      const file = join(cwd, "dot.gif");
      // 4 × 4, red with one blue pixel: small enough that Claude Code sends it as it is.
      const pixels = new Array(16).fill(0);
      pixels[5] = 1;
      writeFileSync(file, makeGif(4, 4, [0xff0000, 0x0000ff], [{ pixels }]));
      const { fake, gateway } = await start(
        agent(
          {
            model: DEFAULT_TARGET,
            steps: [[{ id: "fc_read_gif", name: "Read", args: { file_path: file } }]],
            finalText: "It is a red square with a blue dot.",
          },
          marker,
        ),
      );

      const run = await claude(gateway, `Look at dot.gif. (${marker})`, cwd);

      expect(run.result?.result).toContain("a red square with a blue dot");
      const followUp = mainAgentRequests(fake.requests, DEFAULT_TARGET, marker).find(
        (r) => lastFunctionResponses(geminiBody(r)).length > 0,
      );
      expect(followUp).toBeDefined();
      if (followUp === undefined) return;
      const blobs = partsOf(lastUserContent(geminiBody(followUp))).flatMap((p) =>
        p.inlineData ? [p.inlineData] : [],
      );
      expect(blobs.map((b) => b.mimeType)).toEqual(["image/png"]);
      const png = PNG.sync.read(Buffer.from(blobs[0]?.data ?? "", "base64"));
      expect([png.width, png.height]).toEqual([4, 4]);
      expect([...png.data.subarray(5 * 4, 5 * 4 + 4)]).toEqual([0, 0, 255, 255]);
      expectNoUpstreamFailure(fake);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "runs two parallel tool calls of one turn and returns both results in call order",
    async () => {
      const marker = "E2E-PARALLEL-5d0e";
      const cwd = workDir();
      const a = join(cwd, "a.txt");
      const b = join(cwd, "b.txt");
      const { fake, gateway } = await start(
        agent(
          {
            model: DEFAULT_TARGET,
            steps: [
              [
                {
                  id: "fc_par_bash",
                  name: "Bash",
                  args: { command: `printf alpha > '${a}'`, description: "Write a.txt" },
                },
                { id: "fc_par_write", name: "Write", args: { file_path: b, content: "beta" } },
              ],
            ],
            finalText: "Both files are written.",
          },
          marker,
        ),
      );

      const run = await claude(gateway, `Create a.txt and b.txt. (${marker})`, cwd);

      expect(readFileSync(a, "utf8")).toBe("alpha");
      expect(readFileSync(b, "utf8")).toBe("beta");
      expect(run.result?.result).toContain("Both files are written.");
      const followUp = mainAgentRequests(fake.requests, DEFAULT_TARGET, marker).find(
        (r) => lastFunctionResponses(geminiBody(r)).length > 0,
      );
      expect(followUp).toBeDefined();
      if (followUp === undefined) return;
      const body = geminiBody(followUp);
      expect(lastFunctionResponses(body).map((r) => [r.name, r.id])).toEqual([
        ["Bash", "fc_par_bash"],
        ["Write", "fc_par_write"],
      ]);
      const calls = callParts(callingModelTurns(body)[0]);
      expect(calls.map((p) => p.functionCall.id)).toEqual(["fc_par_bash", "fc_par_write"]);
      // Gemini signs only the first call of a step (protocol.md F.6); it must come back there.
      expect(fake.isIssuedSignature(DEFAULT_TARGET, calls[0]?.thoughtSignature ?? "")).toBe(true);
      expectNoUpstreamFailure(fake);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "keeps Gemini 3 thought signatures valid across a multi-step tool conversation",
    async () => {
      const marker = "E2E-GEMINI3-b84d";
      const cwd = workDir();
      const one = join(cwd, "step1.txt");
      const two = join(cwd, "step2.txt");
      const three = join(cwd, "step3.txt");
      const { fake, gateway } = await start(
        agent(
          {
            model: GEMINI_3,
            steps: [
              [{ name: "Bash", args: { command: `printf one > '${one}'`, description: "Write step1.txt" } }],
              // A parallel step: Gemini 3 signs only its first call (protocol.md F.6).
              [
                { name: "Write", args: { file_path: two, content: "two" } },
                {
                  name: "Bash",
                  args: { command: `printf three > '${three}'`, description: "Write step3.txt" },
                },
              ],
            ],
            finalText: "All steps are done.",
          },
          marker,
        ),
        { CCGATE_DEFAULT_MODEL: GEMINI_3 },
      );

      const run = await claude(gateway, `Do the steps. (${marker})`, cwd);

      expect(readFileSync(one, "utf8")).toBe("one");
      expect(readFileSync(two, "utf8")).toBe("two");
      expect(readFileSync(three, "utf8")).toBe("three");
      expect(run.result?.result).toContain("All steps are done.");
      // The fake answers a missing or foreign signature with Google's 400 before the handler
      // runs, so reaching the final answer with no 400 means the history passed validation.
      expectNoUpstreamFailure(fake);
      const main = mainAgentRequests(fake.requests, GEMINI_3, marker);
      expect(main.map((r) => callingModelTurns(geminiBody(r)).length)).toEqual([0, 1, 2]);
      const last = main.at(-1);
      if (last === undefined) return;
      const body = geminiBody(last);
      expect(lastFunctionResponses(body).map((r) => r.name)).toEqual(["Write", "Bash"]);
      const steps = callingModelTurns(body).map(callParts);
      expect(steps.map((calls) => calls.map((p) => p.functionCall.name))).toEqual([
        ["Bash"],
        ["Write", "Bash"],
      ]);
      for (const calls of steps) {
        // The gateway falls back to Google's skip value when it has no signature, which the fake
        // also accepts: only an issued signature proves it travelled through Claude Code.
        const signature = calls[0]?.thoughtSignature ?? "";
        expect(fake.isIssuedSignature(GEMINI_3, signature)).toBe(true);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
