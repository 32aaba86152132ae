/**
 * `ccgate code`: starts a gateway when none is up, runs `claude` with the gateway's URL and token
 * for that process only (a stub on PATH records what it got), forwards the exit code and
 * signals; and the real Claude Code CLI completes a prompt through it against the fake Gemini.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeGemini, startFakeGemini } from "../fakes/gemini.js";
import { claudeBinary } from "../helpers/claude-cli.js";
import {
  ensureBuilt,
  finished,
  freePort,
  isAlive,
  runCli,
  type Sandbox,
  sandbox,
  spawnCli,
  waitFor,
  writeNoProbeConfig,
} from "./helpers/cli.js";

beforeAll(ensureBuilt, 200_000);

let fake: FakeGemini | undefined;
const boxes: Sandbox[] = [];

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

afterAll(async () => {
  for (const box of boxes) {
    const info = join(box.state, "gateway.json");
    if (!existsSync(info)) continue;
    await runCli(box, ["stop", "--timeout", "5"]);
    const pid = (JSON.parse(readFileSync(info, "utf8")) as { pid: number }).pid;
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
}, 30_000);

/** A `claude` stand-in: records argv, the relevant env and what /health answered, then exits. */
const STUB = `#!/usr/bin/env node
const fs = require("node:fs");
const pick = (k) => process.env[k];
const record = (extra) => fs.writeFileSync(process.env.STUB_OUT, JSON.stringify({
  args: process.argv.slice(2),
  env: { base: pick("ANTHROPIC_BASE_URL"), token: pick("ANTHROPIC_AUTH_TOKEN"), apiKey: pick("ANTHROPIC_API_KEY") ?? null },
  ...extra,
}));
if (process.env.STUB_WAIT === "1") {
  process.on("SIGTERM", () => { record({ signal: "SIGTERM" }); process.exit(42); });
  fs.writeFileSync(process.env.STUB_OUT + ".ready", "");
  setTimeout(() => process.exit(99), 20000);
} else {
  fetch(process.env.ANTHROPIC_BASE_URL + "/health").then(
    (r) => r.status, (e) => String(e),
  ).then((health) => { record({ health }); process.exit(Number(process.env.STUB_EXIT ?? "0")); });
}
`;

interface StubRecord {
  args: string[];
  env: { base?: string; token?: string; apiKey: string | null };
  health?: number | string;
  signal?: string;
}

async function setup(extraEnv: Record<string, string> = {}) {
  fake = await startFakeGemini();
  const port = await freePort();
  const box = sandbox({
    GEMINI_API_KEY: "k",
    GEMINI_BASE_URL: fake.url,
    CCGATE_PORT: String(port),
    ...extraEnv,
  });
  boxes.push(box);
  const bin = join(box.home, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "claude"), STUB);
  chmodSync(join(bin, "claude"), 0o755);
  box.env.PATH = `${bin}:${box.env.PATH}`;
  box.env.STUB_OUT = join(box.home, "stub.json");
  return { box, port, url: `http://127.0.0.1:${port}` };
}

const readStub = (box: Sandbox) =>
  JSON.parse(readFileSync(join(box.home, "stub.json"), "utf8")) as StubRecord;

describe("ccgate code with a stub claude", () => {
  it("starts the gateway, passes URL, token and arguments, forwards the exit code, touches no file", async () => {
    const { box, url } = await setup({ ANTHROPIC_API_KEY: "sk-ant-should-not-leak", STUB_EXIT: "7" });
    writeNoProbeConfig(box);
    const args = ["-p", "hello world", "--output-format", "json", "--model", "gemini-2.5-flash", "--", "-x"];
    const run = await runCli(box, ["code", "--", ...args]);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain(`gateway started in the background at ${url}`);
    const seen = readStub(box);
    expect(seen.args).toEqual(args);
    expect(seen.env.base).toBe(url);
    expect(seen.env.token).toBe("ccgate");
    expect(seen.env.apiKey).toBeNull();
    expect(seen.health).toBe(200);
    expect(existsSync(join(box.home, ".claude"))).toBe(false);

    // Second run: the gateway is reused, not started again; options before -- are ccgate's.
    const pid = (JSON.parse(readFileSync(join(box.state, "gateway.json"), "utf8")) as { pid: number }).pid;
    const again = await runCli(box, ["code", "--wait", "5", "-p", "again"], { env: { STUB_EXIT: "0" } });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("started");
    expect(readStub(box).args).toEqual(["-p", "again"]);
    expect((JSON.parse(readFileSync(join(box.state, "gateway.json"), "utf8")) as { pid: number }).pid).toBe(
      pid,
    );
    expect(again.stderr).not.toContain("ccgate stop` first");

    // Another config file: the running gateway is still used, and the user is told it runs another.
    writeFileSync(join(box.cwd, "other.yaml"), readFileSync(join(box.cwd, "ccgate.yaml")));
    const other = await runCli(box, ["code", "--config", "other.yaml", "--", "-p", "x"], {
      env: { STUB_EXIT: "0" },
    });
    expect(other.code).toBe(0);
    expect(other.stderr).toMatch(/started with .*ccgate\.yaml, not .*other\.yaml: `ccgate stop` first/);

    const stop = await runCli(box, ["stop"]);
    expect(stop.code).toBe(0);
  }, 60_000);

  it("passes the configured client token, and refuses a token the running gateway rejects", async () => {
    const { box } = await setup({ MY_GATEWAY_TOKEN: "tok-123456" });
    writeNoProbeConfig(box, "server:\n  authToken: ${MY_GATEWAY_TOKEN}\n");
    const run = await runCli(box, ["code", "--", "-p", "x"]);
    expect(run.code).toBe(0);
    expect(readStub(box).env.token).toBe("tok-123456");

    const wrong = await runCli(box, ["code", "--", "-p", "x"], { env: { CCGATE_AUTH_TOKEN: "other-token" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("rejects this config's client token");
    expect((await runCli(box, ["stop"])).code).toBe(0);
  }, 60_000);

  it("forwards SIGTERM to claude and exits with claude's code", async () => {
    const { box } = await setup({ STUB_WAIT: "1" });
    writeNoProbeConfig(box);
    const child = spawnCli(box, ["code"]);
    const done = finished(child, 30_000);
    expect(await waitFor(() => existsSync(`${box.env.STUB_OUT}.ready`), 20_000)).toBe(true);
    child.kill("SIGTERM");
    const result = await done;
    expect(result.code).toBe(42);
    expect(readStub(box).signal).toBe("SIGTERM");
    expect((await runCli(box, ["stop"])).code).toBe(0);
  }, 60_000);

  it("exits 5 with the install command when claude is missing", async () => {
    const box = sandbox({ PATH: "/usr/bin:/bin" });
    const run = await runCli(box, ["code"], {
      env: { PATH: `${join(process.execPath, "..")}:/nonexistent` },
    });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("npm install -g @anthropic-ai/claude-code");
    const bad = await runCli(box, ["code"], { env: { CCGATE_CLAUDE_BIN: join(box.home, "nope") } });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("CCGATE_CLAUDE_BIN");
    expect(existsSync(join(box.state, "gateway.json"))).toBe(false);
  });
});

describe("ccgate code with the real Claude Code CLI", () => {
  it("completes a prompt through the gateway to the fake Gemini", async () => {
    fake = await startFakeGemini();
    const port = await freePort();
    const box = sandbox({
      GEMINI_API_KEY: "k",
      GEMINI_BASE_URL: fake.url,
      CCGATE_PORT: String(port),
      CCGATE_CLAUDE_BIN: claudeBinary(),
      DISABLE_TELEMETRY: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
    });
    boxes.push(box);
    writeNoProbeConfig(box);
    const run = await runCli(box, ["code", "--", "-p", "Say hello.", "--output-format", "json"], {
      timeoutMs: 120_000,
    });
    if (run.code !== 0) throw new Error(`ccgate code failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "") as {
      result?: string;
      is_error?: boolean;
    };
    expect(result.is_error).toBe(false);
    expect(result.result).toContain("Hello from fake Gemini.");
    expect(fake.requests.some((r) => r.action === "streamGenerateContent" && r.status === 200)).toBe(true);
    expect((await runCli(box, ["stop"])).code).toBe(0);
  }, 150_000);
});
