/**
 * Hot reload of `ccgate start`: an edited config file (or SIGHUP) swaps the routes in without
 * dropping an in-flight stream; a bad edit keeps the running config and says why.
 */
import { writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeGemini, startFakeGemini, textChunks } from "../fakes/gemini.js";
import {
  ensureBuilt,
  finished,
  freePort,
  isAlive,
  type Sandbox,
  sandbox,
  spawnCli,
  waitFor,
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

function config(box: Sandbox, model: string, extra = ""): string {
  const path = `${box.cwd}/ccgate.yaml`;
  writeFileSync(
    path,
    [
      "resilience:",
      "  probe:",
      "    enabled: false",
      "providers:",
      "  - name: g",
      "    type: gemini",
      `    baseUrl: ${fake?.url}`,
      "    apiKeys: [k]",
      "routes:",
      "  - name: main",
      "    match: ['*']",
      `    targets: [g/${model}]`,
      extra,
    ].join("\n"),
  );
  return path;
}

async function post(url: string, stream: boolean) {
  return fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "x" },
    body: JSON.stringify({
      model: "claude-x",
      max_tokens: 50,
      stream,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
}

describe("config reload", () => {
  it("a file edit and SIGHUP swap routes; in-flight streams finish; a bad edit is refused", async () => {
    fake = await startFakeGemini({
      handler: (req) =>
        req.model === "gemini-2.5-pro"
          ? { chunks: textChunks("slow old answer", { parts: 6 }), chunkDelayMs: 300 }
          : { chunks: textChunks("new answer") },
    });
    const box = sandbox();
    config(box, "gemini-2.5-pro");
    const port = await freePort();
    const child = spawnCli(box, ["start", "--port", String(port)]);
    if (child.pid !== undefined) pids.add(child.pid);
    const done = finished(child, 40_000);
    const url = `http://127.0.0.1:${port}`;
    expect(
      await waitFor(
        () =>
          fetch(`${url}/health`).then(
            (r) => r.ok,
            () => false,
          ),
        15_000,
      ),
    ).toBe(true);

    // A slow stream on the old config is in flight while the file changes.
    const inflight = post(url, true).then((r) => r.text());
    await waitFor(() => fake?.requests.length === 1, 5_000);
    config(box, "gemini-2.5-flash");
    const swapped = await waitFor(
      async () => (await post(url, false)).headers.get("x-ccgate-target") === "g/gemini-2.5-flash",
      10_000,
    );
    expect(swapped).toBe(true);
    const old = await inflight;
    expect(old).toContain("event: message_stop");
    expect(old).not.toContain("event: error");
    expect(fake.requests[0]?.model).toBe("gemini-2.5-pro");

    // A bad edit is refused: the running config keeps serving.
    config(box, "gemini-2.5-flash", "  - name: broken\n    match: ['*']\n    targets: [nowhere/x]");
    await new Promise((r) => setTimeout(r, 800));
    const still = await post(url, false);
    expect(still.status).toBe(200);
    expect(still.headers.get("x-ccgate-target")).toBe("g/gemini-2.5-flash");

    // SIGHUP reloads on demand (here: back to a valid file with another model).
    config(box, "gemini-3-flash-preview");
    child.kill("SIGHUP");
    expect(
      await waitFor(
        async () => (await post(url, false)).headers.get("x-ccgate-target") === "g/gemini-3-flash-preview",
        10_000,
      ),
    ).toBe(true);

    child.kill("SIGTERM");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("configuration reloaded");
    expect(result.stdout).toMatch(
      /rejected, keeping the running one — .*provider \\"nowhere\\" is not defined/,
    );
  }, 60_000);

  it("on a gateway bound beyond loopback, a reload that drops the client token, or an emptied file, is refused", async () => {
    fake = await startFakeGemini({ handler: () => ({ chunks: textChunks("ok") }) });
    const box = sandbox();
    const path = config(box, "gemini-2.5-flash", "server:\n  host: 0.0.0.0\n  authToken: team-secret-token");
    const port = await freePort();
    const child = spawnCli(box, ["start", "--port", String(port)]);
    if (child.pid !== undefined) pids.add(child.pid);
    const done = finished(child, 40_000);
    const url = `http://127.0.0.1:${port}`;
    const status = () => fetch(`${url}/status`).then((r) => r.status);
    expect(await waitFor(async () => (await status().catch(() => 0)) === 401, 15_000)).toBe(true);

    // A save that empties the file, then an edit that moves the host back and drops the token.
    writeFileSync(path, "");
    await new Promise((r) => setTimeout(r, 800));
    expect(await status()).toBe(401);
    config(box, "gemini-2.5-flash", "server:\n  host: 127.0.0.1");
    await new Promise((r) => setTimeout(r, 800));
    expect(await status()).toBe(401);
    // With the token kept, a reload still goes through.
    config(box, "gemini-2.5-pro", "server:\n  host: 0.0.0.0\n  authToken: team-secret-token");
    const swapped = await waitFor(async () => {
      const res = await fetch(`${url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "team-secret-token" },
        body: JSON.stringify({
          model: "claude-x",
          max_tokens: 5,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      return res.headers.get("x-ccgate-target") === "g/gemini-2.5-pro";
    }, 10_000);
    expect(swapped).toBe(true);

    child.kill("SIGTERM");
    const result = await done;
    expect(result.stdout).toMatch(/rejected, keeping the running one — .*is empty/);
    expect(result.stdout).toMatch(/rejected, keeping the running one — the gateway listens on 0\.0\.0\.0/);
  }, 60_000);
});
