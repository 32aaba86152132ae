/**
 * Finding the Claude Code CLI: `$CCGATE_CLAUDE_BIN`, else `claude` on PATH.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export const INSTALL_HINT = "install it with `npm install -g @anthropic-ai/claude-code`";

export type ClaudeLookup =
  | { found: true; path: string; via: "CCGATE_CLAUDE_BIN" | "PATH" }
  | { found: false; message: string };

export function findClaude(env: NodeJS.ProcessEnv = process.env): ClaudeLookup {
  const override = env.CCGATE_CLAUDE_BIN;
  if (override) {
    return isExecutable(override)
      ? { found: true, path: override, via: "CCGATE_CLAUDE_BIN" }
      : { found: false, message: `CCGATE_CLAUDE_BIN=${override} is not an executable file` };
  }
  const names = process.platform === "win32" ? ["claude.cmd", "claude.exe", "claude"] : ["claude"];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    for (const name of names) {
      const path = join(dir, name);
      if (isExecutable(path)) return { found: true, path, via: "PATH" };
    }
  }
  return { found: false, message: "Claude Code (`claude`) is not on PATH" };
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `claude --version` (e.g. `2.1.330 (Claude Code)`), or why it could not be read. */
export function claudeVersion(
  path: string,
  timeoutMs = 15_000,
): Promise<{ version?: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(
      path,
      ["--version"],
      {
        timeout: timeoutMs,
        env: { ...process.env, DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
      },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n")[0] ?? "";
        if (error !== null) resolve({ error: (stderr.trim() || error.message).split("\n")[0] ?? "failed" });
        else resolve({ version: line });
      },
    );
  });
}
