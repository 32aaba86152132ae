/**
 * Runs the real Claude Code CLI headless against a gateway (shared/fixtures/README.md):
 * temp HOME/TMPDIR, an empty working directory, telemetry and outside traffic off, a hard timeout.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

export function claudeBinary(): string {
  const path = join(
    ROOT,
    ".cache",
    "claude-code",
    "node_modules",
    "@anthropic-ai",
    `claude-code-${process.platform}-${process.arch}`,
    "claude",
  );
  if (!existsSync(path))
    throw new Error(
      `Claude Code CLI not installed at ${path}: run \`node scripts/ensure-claude-code.mjs\` (npm test does)`,
    );
  return path;
}

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Parsed `--output-format json` result, when stdout held one. */
  result: { result?: string; is_error?: boolean; subtype?: string; num_turns?: number } | undefined;
  cwd: string;
}

export interface ClaudeRunOptions {
  baseUrl: string;
  prompt: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

export function runClaude(options: ClaudeRunOptions): Promise<ClaudeRun> {
  const home = mkdtempSync(join(tmpdir(), "ccgate-claude-home-"));
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), "ccgate-claude-cwd-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    TMPDIR: home,
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_AUTH_TOKEN: "test",
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    ...options.env,
  };
  const args = ["-p", options.prompt, "--output-format", "json", ...(options.args ?? [])];
  return new Promise((resolve) => {
    const child = execFile(
      claudeBinary(),
      args,
      { cwd, env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        let result: ClaudeRun["result"];
        try {
          result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
        } catch {
          result = undefined;
        }
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr, result, cwd });
      },
    );
    // Headless `-p` runs wait 3 s for stdin data unless it is closed.
    child.stdin?.end();
  });
}
