/**
 * `ccgate start -d` / `status` / `stop` round trip against the fake Gemini, start-up failures
 * with their exit codes, and the foreground gateway's graceful shutdown (in-flight streams finish
 * within --grace; past it they are cut, never completed).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeGemini, type GeminiChunkSpec, startFakeGemini } from "../fakes/gemini.js";
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
const pids = new Set<number>();

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

afterAll(() => {
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

const REQUEST = {
  model: "claude-sonnet-4-5",
  max_tokens: 200,
  messages: [{ role: "user", content: "count slowly" }],
};

function textChunks(parts: string[]): GeminiChunkSpec[] {
  return parts.map((text, i) => ({
    candidates: [
      {
        content: { role: "model", parts: [{ text }] },
        ...(i === parts.length - 1 ? { finishReason: "STOP" } : {}),
      },
    ],
    ...(i === parts.length - 1 ? { usageMetadata: { candidatesTokenCount: parts.length } } : {}),
  }));
}

function daemonPid(box: Sandbox): number | undefined {
  const file = join(box.state, "gateway.json");
  if (!existsSync(file)) return undefined;
  const pid = (JSON.parse(readFileSync(file, "utf8")) as { pid: number }).pid;
  pids.add(pid);
  return pid;
}

describe("ccgate start -d / status / stop", () => {
  it("starts in the background, shows status, refuses a second start, stops", async () => {
    fake = await startFakeGemini();
    const port = await freePort();
    const box = sandbox({ GEMINI_API_KEY: "fake-gemini-key-0001", GEMINI_BASE_URL: fake.url });
    writeNoProbeConfig(box);

    const started = await runCli(box, ["start", "-d", "--port", String(port)]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    expect(started.stdout).toContain(`started in the background`);
    expect(started.stdout).toContain(url);
    const pid = daemonPid(box);
    expect(pid).toBeDefined();
    if (pid === undefined) return;
    expect(isAlive(pid)).toBe(true);
    expect(readFileSync(join(box.state, "gateway.pid"), "utf8").trim()).toBe(String(pid));
    expect(existsSync(join(box.state, "gateway.log"))).toBe(true);

    // One request, so a target shows up in the status tables.
    const res = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "x" },
      body: JSON.stringify(REQUEST),
    });
    expect(res.status).toBe(200);

    const status = await runCli(box, ["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`ccgate 0.1.0 at ${url}`);
    expect(status.stdout).toMatch(/gemini\s+gemini\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(status.stdout).toContain("GEMINI_API_KEY#1");
    expect(status.stdout).not.toContain("fake-gemini-key-0001");
    expect(status.stdout).toMatch(/gemini\/gemini-2\.5-pro\s+GEMINI_API_KEY#1\s+ok\s+closed\s/);
    expect(status.stdout).toContain("Routes");

    const json = await runCli(box, ["status", "--json"]);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { providers: { name: string }[]; targets: unknown[] };
    expect(body.providers.map((p) => p.name)).toEqual(["gemini"]);
    expect(body.targets.length).toBeGreaterThan(0);

    const again = await runCli(box, ["start", "-d", "--port", String(port)]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`already running in the background (pid ${pid})`);

    const stopped = await runCli(box, ["stop"]);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout + stopped.stderr).toContain(`ccgate stopped (pid ${pid})`);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(box.state, "gateway.pid"))).toBe(false);
    expect(existsSync(join(box.state, "gateway.json"))).toBe(false);
    expect(readFileSync(join(box.state, "gateway.log"), "utf8")).toContain("SIGTERM: shutting down");

    const gone = await runCli(box, ["status", "--port", String(port)]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain("ccgate start -d");
    const stopAgain = await runCli(box, ["stop"]);
    expect(stopAgain.code).toBe(4);
  }, 60_000);

  it("exits 3 with the gateway's own message when the port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const box = sandbox({ GEMINI_API_KEY: "k" });
      const run = await runCli(box, ["start", "-d", "--port", String(port)]);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain("already in use");
      expect(run.stderr).toContain("--port");
      expect(existsSync(join(box.state, "gateway.json"))).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 30_000);

  it("exits 2 and names the field when the config is invalid (before detaching)", async () => {
    const box = sandbox();
    writeFileSync(join(box.cwd, "ccgate.yaml"), "server:\n  port: eighty\n");
    const run = await runCli(box, ["start", "-d"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("server.port");
    expect(existsSync(join(box.state, "gateway.log"))).toBe(false);
  });
});

describe("ccgate start (foreground) shutdown", () => {
  async function startForeground(grace: string, handlerChunks: () => GeminiChunkSpec[], stall?: number) {
    fake = await startFakeGemini({
      hangMaxMs: 20_000,
      handler: () => ({
        chunks: handlerChunks(),
        chunkDelayMs: 250,
        ...(stall === undefined ? {} : { stallAfterChunks: stall }),
      }),
    });
    const port = await freePort();
    const box = sandbox({ GEMINI_API_KEY: "k", GEMINI_BASE_URL: fake.url });
    writeNoProbeConfig(box);
    const child = spawnCli(box, ["start", "--port", String(port), "--grace", grace]);
    if (child.pid !== undefined) pids.add(child.pid);
    const done = finished(child, 30_000);
    const url = `http://127.0.0.1:${port}`;
    const up = await waitFor(
      () =>
        fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        ),
      15_000,
    );
    expect(up).toBe(true);
    return { child, done, url };
  }

  async function openStream(url: string) {
    const res = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "x" },
      body: JSON.stringify({ ...REQUEST, stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    const decoder = new TextDecoder();
    let text = "";
    // Read until the first content arrived: the stream is in flight.
    for (let i = 0; i < 100 && !text.includes("content_block_delta"); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const rest = async () => {
      for (;;) {
        const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return text;
        text += decoder.decode(r.value, { stream: true });
      }
    };
    return { rest };
  }

  it("lets an in-flight stream finish, refuses new connections, exits 0", async () => {
    const { child, done, url } = await startForeground("10", () =>
      textChunks(["one ", "two ", "three ", "four ", "five ", "six"]),
    );
    const stream = await openStream(url);
    const signalled = Date.now();
    child.kill("SIGTERM");
    // Not accepting any more: a new connection is refused while the stream still runs.
    expect(
      await waitFor(
        () =>
          fetch(`${url}/health`).then(
            () => false,
            () => true,
          ),
        3_000,
      ),
    ).toBe(true);
    const text = await stream.rest();
    expect(text).toContain("six");
    expect(text).toContain("event: message_stop");
    const result = await done;
    expect(result.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(8_000);
    expect(result.stdout).toContain("SIGTERM: shutting down");
    expect(result.stdout).toContain("in-flight request(s)");
  }, 40_000);

  it("ends a stream still running when the grace period ends with event: error; it never looks complete", async () => {
    const { child, done, url } = await startForeground("1", () => textChunks(["a ", "b ", "c"]), 1);
    const stream = await openStream(url);
    const signalled = Date.now();
    child.kill("SIGTERM");
    const text = await stream.rest();
    const result = await done;
    const elapsed = Date.now() - signalled;
    expect(result.code).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5_000);
    expect(text).not.toContain("message_stop");
    // The stream ends with an error event of its own (retryable), not a bare cut.
    expect(text).toContain("event: error");
    expect(text).toContain('"type":"overloaded_error"');
    expect(result.stdout).toContain("grace period over");
  }, 40_000);
});
