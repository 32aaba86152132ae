#!/usr/bin/env node
// Installs the real Claude Code CLI (used by the end-to-end tests) into .cache/claude-code,
// once. It is kept out of package.json on purpose: the package is ~380 MB of native binary that
// users of the gateway never need. Pinned so test results do not drift with new releases.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const VERSION = "2.1.330";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, ".cache", "claude-code");

export function claudeBinaryPath() {
  return join(
    dir,
    "node_modules",
    "@anthropic-ai",
    `claude-code-${process.platform}-${process.arch}`,
    "claude",
  );
}

if (process.env.CCGATE_SKIP_CLAUDE_INSTALL === "1") process.exit(0);
if (existsSync(claudeBinaryPath())) process.exit(0);

mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "ccgate-e2e-claude", private: true }));
console.log(`Installing @anthropic-ai/claude-code@${VERSION} for the end-to-end tests (once)…`);
execFileSync(
  "npm",
  ["install", "--no-audit", "--no-fund", "--ignore-scripts", `@anthropic-ai/claude-code@${VERSION}`],
  {
    cwd: dir,
    stdio: "inherit",
  },
);
if (!existsSync(claudeBinaryPath())) {
  console.error(`Claude Code binary not found at ${claudeBinaryPath()} after install`);
  process.exit(1);
}
