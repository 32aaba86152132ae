/**
 * Drives the built `ccgate` CLI as a subprocess (`node bin/ccgate.js ...`) against a temp HOME and
 * a temp state directory, with bounded timeouts. `ensureBuilt()` compiles once per test run: a
 * lock serialises parallel test files, and a fresh build is reused.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..", "..");
export const BIN = join(ROOT, "bin", "ccgate.js");
const MAIN = join(ROOT, "dist", "cli", "main.js");
const LOCK = join(ROOT, "dist", ".cli-test-build.lock");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  return existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestSource(join(ROOT, "src"));
}

/** `npm run build` unless dist is newer than every source file. Type errors elsewhere do not stop it (tsc still emits). */
export async function ensureBuilt(): Promise<void> {
  mkdirSync(dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than the deadline is left over from a killed run.
      if (Date.now() > deadline || Date.now() - statSync(LOCK).mtimeMs > 180_000) {
        rmdirSync(LOCK);
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isFresh()) return;
    try {
      execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], {
        cwd: ROOT,
        stdio: "pipe",
        timeout: 170_000,
      });
    } catch (err) {
      const out = String((err as { stdout?: Buffer }).stdout ?? "");
      if (!existsSync(MAIN)) throw new Error(`build failed:\n${out}`);
      console.warn(`tsc reported errors (output emitted anyway):\n${out.slice(0, 2_000)}`);
    }
  } finally {
    rmdirSync(LOCK);
  }
}

export interface Sandbox {
  home: string;
  state: string;
  cwd: string;
  /** Environment for every command: temp HOME/TMPDIR/state dir, PATH, nothing else inherited. */
  env: Record<string, string>;
}

export function sandbox(extra: Record<string, string> = {}): Sandbox {
  const home = mkdtempSync(join(tmpdir(), "ccgate-cli-home-"));
  const state = join(home, "state");
  const cwd = join(home, "work");
  mkdirSync(cwd);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    TMPDIR: home,
    CCGATE_STATE_DIR: state,
    NO_COLOR: "1",
    ...extra,
  };
  return { home, state, cwd, env };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `ccgate args...` to completion (killed after the timeout). */
export function runCli(box: Sandbox, args: string[], options: RunOptions = {}): Promise<CliResult> {
  const child = spawnCli(box, args, options);
  return finished(child, options.timeoutMs ?? 30_000);
}

export function spawnCli(box: Sandbox, args: string[], options: RunOptions = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? box.cwd,
    env: { ...box.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function finished(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export { isAlive } from "../../../src/cli/state-dir.js";

/**
 * A ccgate.yaml in the sandbox's working directory that turns the background probes off:
 * start-up warm-up probes would add upstream hits the tests count.
 */
export function writeNoProbeConfig(box: Sandbox, extra = ""): string {
  const path = join(box.cwd, "ccgate.yaml");
  writeFileSync(path, `resilience:\n  probe:\n    enabled: false\n${extra}`);
  return path;
}
