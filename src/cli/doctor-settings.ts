/**
 * `ccgate doctor`'s settings check: Claude Code settings files (user, project, local) and the
 * shell environment whose ANTHROPIC_BASE_URL would send a plain `claude` somewhere else.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { readSettings } from "./claude-settings.js";
import type { Check } from "./doctor-check.js";
import { CliError } from "./exit-codes.js";

/** Settings files whose env would send a plain `claude` somewhere else than this gateway. */
export function settingsChecks(
  url: string,
  token: string | undefined,
  userSettings: string,
  cwd: string,
): Check[] {
  const checks: Check[] = [];
  // Project files can be the user file itself when run from the home directory.
  const files = [
    ...new Set([
      resolve(userSettings),
      resolve(cwd, ".claude", "settings.json"),
      resolve(cwd, ".claude", "settings.local.json"),
    ]),
  ];
  for (const file of files) {
    if (!existsSync(file)) continue;
    let env: Record<string, unknown>;
    try {
      env = (readSettings(file).settings.env ?? {}) as Record<string, unknown>;
    } catch (err) {
      checks.push({
        name: "settings",
        status: "fail",
        message: err instanceof CliError ? err.message : String(err),
        fix: "Claude Code cannot read it either: fix the JSON",
      });
      continue;
    }
    const base = env.ANTHROPIC_BASE_URL;
    if (typeof base !== "string") {
      if (file === resolve(userSettings))
        checks.push({
          name: "settings",
          status: "info",
          message: `${file} does not route a plain \`claude\` through ccgate`,
          fix: "use `ccgate code`, or `ccgate setup-claude` to make plain `claude` use the gateway",
        });
      continue;
    }
    if (!sameUrl(base, url)) {
      checks.push({
        name: "settings",
        status: "fail",
        message: `${file} sets env.ANTHROPIC_BASE_URL=${base}: a plain \`claude\` goes there, not to this gateway (${url})`,
        fix: `\`ccgate setup-claude\` points it here; or remove env.ANTHROPIC_BASE_URL from ${file} (\`ccgate setup-claude --undo\` if ccgate wrote it)`,
      });
      continue;
    }
    if (token !== undefined && env.ANTHROPIC_AUTH_TOKEN !== token && env.ANTHROPIC_API_KEY !== token) {
      checks.push({
        name: "settings",
        status: "fail",
        message: `${file} points at this gateway but sends another client token than server.authToken`,
        fix: "`ccgate setup-claude` writes the right one",
      });
      continue;
    }
    checks.push({
      name: "settings",
      status: "ok",
      message: `${file} routes a plain \`claude\` through ${url}`,
    });
  }
  if (!existsSync(userSettings))
    checks.push({
      name: "settings",
      status: "info",
      message: `no ${userSettings}: a plain \`claude\` talks to Anthropic`,
      fix: "use `ccgate code`, or `ccgate setup-claude` to make plain `claude` use the gateway",
    });
  const shell = process.env.ANTHROPIC_BASE_URL;
  if (shell !== undefined && shell !== "" && !sameUrl(shell, url))
    checks.push({
      name: "settings",
      status: "warn",
      message: `this shell exports ANTHROPIC_BASE_URL=${shell}, which overrides settings.json for a plain \`claude\``,
      fix: "unset ANTHROPIC_BASE_URL (`ccgate code` sets it for its own run)",
    });
  return checks;
}

/** Same origin and path, with localhost and 127.0.0.1 taken as one. */
export function sameUrl(a: string, b: string): boolean {
  const norm = (s: string) => {
    try {
      const u = new URL(s);
      const host = u.hostname === "localhost" ? "127.0.0.1" : u.hostname;
      const port = u.port || (u.protocol === "https:" ? "443" : "80");
      return `${u.protocol}//${host}:${port}${u.pathname.replace(/\/+$/, "")}`;
    } catch {
      return s.replace(/\/+$/, "");
    }
  };
  return norm(a) === norm(b);
}
