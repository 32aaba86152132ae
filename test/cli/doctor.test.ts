/**
 * `ccgate doctor` as a subprocess: per-key live checks against fake upstreams that reject bad
 * keys (Gemini 400 API_KEY_INVALID, OpenAI 401), a port held by another program, Claude Code
 * missing, a settings file pointing elsewhere — each with its fix and exit code 1 — and a clean
 * bill of health (exit 0) with a running background gateway.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeGemini, startFakeGemini } from "../fakes/gemini.js";
import { type FakeOpenAI, startFakeOpenAI } from "../fakes/openai.js";
import {
  ensureBuilt,
  freePort,
  isAlive,
  runCli,
  type Sandbox,
  sandbox,
  writeNoProbeConfig,
} from "./helpers/cli.js";

beforeAll(ensureBuilt, 200_000);

let gemini: FakeGemini | undefined;
let openai: FakeOpenAI | undefined;
let blocker: Server | undefined;
const daemons: number[] = [];

afterEach(async () => {
  await gemini?.close();
  await openai?.close();
  if (blocker !== undefined) await new Promise((r) => blocker?.close(r));
  gemini = undefined;
  openai = undefined;
  blocker = undefined;
});

afterAll(() => {
  for (const pid of daemons) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

/** A `claude` that only knows `--version`. */
function stubClaude(box: Sandbox): string {
  const path = join(box.home, "claude");
  writeFileSync(path, `#!/bin/sh\necho "9.9.9 (Claude Code)"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The line of a check and the fix line right after it. */
function checkLines(out: string, pattern: RegExp): { line: string; fix: string } {
  const lines = out.split("\n");
  const i = lines.findIndex((l) => pattern.test(l));
  const fix = lines.slice(i + 1).find((l) => /^\s+fix: /.test(l) || /^(ok|FAIL|warn|info) /.test(l)) ?? "";
  return { line: lines[i] ?? "", fix: /^\s+fix: /.test(fix) ? fix : "" };
}

describe("ccgate doctor", () => {
  it("reports each rejected key with its fix, and exits 1", async () => {
    gemini = await startFakeGemini({ validKeys: ["good-gemini-key-1111"] });
    openai = await startFakeOpenAI({ validKeys: ["sk-good-openai-2222"] });
    const port = await freePort();
    const box = sandbox({
      GEMINI_API_KEY: "good-gemini-key-1111,bad-gemini-key-3333",
      GEMINI_BASE_URL: gemini.url,
      OPENAI_API_KEY: "sk-bad-openai-4444",
      CCGATE_PORT: String(port),
      CCGATE_CLAUDE_BIN: stubClaude(sandbox()),
    });
    writeNoProbeConfig(
      box,
      `providers:\n  - name: gemini\n    type: gemini\n  - name: openai\n    type: openai\n    baseUrl: ${openai.url}/v1\n    apiKeys: ["\${OPENAI_API_KEY}"]\n`,
    );
    const run = await runCli(box, ["doctor", "--timeout", "5"]);
    expect(run.code).toBe(1);
    const out = run.stdout;
    expect(out).toMatch(/^ok +config /m);
    expect(checkLines(out, /^ok +key +gemini GEMINI_API_KEY#1: accepted/).line).not.toBe("");
    const badGemini = checkLines(out, /^FAIL key +gemini GEMINI_API_KEY#2: rejected by the upstream \(400/);
    expect(badGemini.line).toContain("API key not valid");
    expect(badGemini.fix).toContain("https://aistudio.google.com/apikey");
    const badOpenai = checkLines(out, /^FAIL key +openai …4444: rejected by the upstream \(401/);
    expect(badOpenai.line).not.toBe("");
    expect(badOpenai.fix).toContain("replace this key");
    for (const secret of ["good-gemini-key-1111", "bad-gemini-key-3333", "sk-bad-openai-4444"])
      expect(out).not.toContain(secret);
    expect(out).toMatch(/^ok +port +127\.0\.0\.1:\d+ is free/m);
    expect(out).toMatch(/^ok +claude +Claude Code 9\.9\.9 \(Claude Code\)/m);
    expect(out).toContain("2 problem(s) found");
    // Exactly one models call per key, each with its own key.
    expect(gemini.requests.map((r) => `${r.action} ${r.apiKey}`).sort()).toEqual([
      "listModels bad-gemini-key-3333",
      "listModels good-gemini-key-1111",
    ]);
  }, 30_000);

  it("reports a port held by another program, missing Claude Code and settings pointing elsewhere", async () => {
    // Another program on the port: answers HTTP, but not as ccgate (reads the request, so it sees EOF).
    blocker = createServer((socket) =>
      socket.resume().end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
    );
    await new Promise<void>((r) => blocker?.listen(0, "127.0.0.1", r));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    gemini = await startFakeGemini();
    const box = sandbox({ GEMINI_API_KEY: "k", GEMINI_BASE_URL: gemini.url, PATH: "/nonexistent" });
    mkdirSync(join(box.home, ".claude"));
    writeFileSync(
      join(box.home, ".claude", "settings.json"),
      JSON.stringify({ env: { ANTHROPIC_BASE_URL: "https://relay.example.com" } }),
    );
    const run = await runCli(box, ["doctor", "--port", String(port)]);
    expect(run.code).toBe(1);
    const out = run.stdout;
    const portCheck = checkLines(out, /^FAIL port +127\.0\.0\.1:\d+ is in use by another program/);
    expect(portCheck.line).toContain(String(port));
    expect(portCheck.fix).toContain("--port");
    expect(portCheck.fix).toContain("CCGATE_PORT");
    const claude = checkLines(out, /^FAIL claude +Claude Code \(`claude`\) is not on PATH/);
    expect(claude.fix).toContain("npm install -g @anthropic-ai/claude-code");
    const settings = checkLines(out, /^FAIL settings .*ANTHROPIC_BASE_URL=https:\/\/relay\.example\.com/);
    expect(settings.line).toContain(`http://127.0.0.1:${port}`);
    expect(settings.fix).toContain("ccgate setup-claude");
    expect(out).toContain("3 problem(s) found");
  }, 30_000);

  it("reports an invalid config with the field, and still checks the rest", async () => {
    const box = sandbox({ PATH: "/nonexistent" });
    writeFileSync(join(box.cwd, "ccgate.yaml"), "server:\n  prot: 80\n");
    const run = await runCli(box, ["doctor"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL config +Invalid configuration:/m);
    expect(run.stdout).toContain("server");
    expect(run.stdout).toContain("prot");
    expect(run.stdout).toMatch(/^info key +skipped/m);
    expect(run.stdout).toMatch(/^FAIL claude/m);
  });

  it("passes (exit 0) with a valid key, a running background gateway, Claude Code and matching settings", async () => {
    gemini = await startFakeGemini({ validKeys: ["good-key-5555"] });
    const port = await freePort();
    const box = sandbox({
      GEMINI_API_KEY: "good-key-5555",
      GEMINI_BASE_URL: gemini.url,
      CCGATE_PORT: String(port),
    });
    box.env.CCGATE_CLAUDE_BIN = stubClaude(box);
    writeNoProbeConfig(box);
    const started = await runCli(box, ["start", "-d"]);
    expect(started.code).toBe(0);
    daemons.push((JSON.parse(readFileSync(join(box.state, "gateway.json"), "utf8")) as { pid: number }).pid);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);

    const run = await runCli(box, ["doctor"]);
    expect(run.stdout).toContain("No problems found.");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok +port +127\.0\.0\.1:\d+ is in use by a running ccgate gateway/m);
    expect(run.stdout).toMatch(/^ok +gateway +healthy at http:\/\/127\.0\.0\.1:\d+ in the background/m);
    expect(run.stdout).toMatch(/^ok +settings .*routes a plain `claude` through/m);
    expect((await runCli(box, ["stop"])).code).toBe(0);
  }, 40_000);
});
