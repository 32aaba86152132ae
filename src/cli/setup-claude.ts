/**
 * `ccgate setup-claude [--undo]`: make a plain `claude` use the gateway by writing
 * ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN into the `env` block of ~/.claude/settings.json.
 */
import type { Command } from "commander";
import { applyEnv, backupPath, claudeSettingsPath, readSettings, undoEnv } from "./claude-settings.js";
import { clientUrl, loadCliConfigOrExit, PLACEHOLDER_TOKEN, withConfigOptions } from "./cli-config.js";
import type { LocateFlags } from "./locate-gateway.js";

export function registerSetupClaudeCommand(program: Command): void {
  withConfigOptions(
    program
      .command("setup-claude")
      .description("point a plain `claude` at the gateway (env block of ~/.claude/settings.json)"),
  )
    .option("--undo", "take it back: restore the settings as they were before")
    .option("--url <url>", "gateway URL to write (default: from the config's host and port)")
    .addHelpText(
      "after",
      `
Merges into the file (other settings keep every byte), keeps a backup next to it
(settings.json.ccgate-backup) and records what it changed, so --undo restores the original —
or, if you edited the file since ccgate first changed it, takes back only ccgate's keys. A
symlinked settings.json stays a link (its target is edited). $CLAUDE_CONFIG_DIR is honoured.
The shell environment overrides settings.json: an exported ANTHROPIC_BASE_URL still wins.`,
    )
    .action((opts: LocateFlags & { undo?: boolean }) => {
      const path = claudeSettingsPath();
      if (opts.undo === true) return undo(path);
      const { config } = loadCliConfigOrExit(opts);
      const url = (opts.url ?? clientUrl(config.server.host, config.server.port)).replace(/\/+$/, "");
      const token = config.server.authToken ?? PLACEHOLDER_TOKEN;
      const result = applyEnv(path, { ANTHROPIC_BASE_URL: url, ANTHROPIC_AUTH_TOKEN: token });
      if (result.changed.length === 0) console.log(`${path} already points Claude Code at ${url}.`);
      else {
        console.log(
          `Claude Code now uses ccgate at ${url}: set ${result.changed.map((k) => `env.${k}`).join(", ")} in ${path}.`,
        );
        if (result.backup !== undefined) console.log(`  backup of the original: ${result.backup}`);
        console.log("  undo: ccgate setup-claude --undo");
      }
      if (result.undo === "keys")
        console.log(
          `  note: ${path} was edited after ccgate first changed it, so --undo will take back only ccgate's env keys and keep your edits (it will not restore the original file whole).`,
        );
      if (config.server.authToken !== undefined)
        console.log(
          "  note: the gateway's client token is now stored in that file (readable by you only if it is new).",
        );
      const env = (readSettings(path).settings.env ?? {}) as Record<string, unknown>;
      if (env.ANTHROPIC_API_KEY !== undefined)
        console.log(
          "  warning: the file also sets env.ANTHROPIC_API_KEY; Claude Code sends both credentials — remove it if you do not need it.",
        );
      const shell = process.env.ANTHROPIC_BASE_URL;
      if (shell !== undefined && shell.replace(/\/+$/, "") !== url)
        console.log(
          `  warning: your shell exports ANTHROPIC_BASE_URL=${shell}, which overrides settings.json: unset it.`,
        );
      console.log("Start the gateway with `ccgate start -d` (or use `ccgate code`), then run `claude`.");
    });
}

function undo(path: string): void {
  const result = undoEnv(path);
  switch (result.kind) {
    case "nothing":
      console.log(`Nothing to undo: ccgate has not changed ${path}.`);
      return;
    case "missing":
      console.log(
        `Nothing restored: ${path} no longer exists.${result.backup === undefined ? "" : ` The original from before \`ccgate setup-claude\` is still in ${result.backup}.`}`,
      );
      return;
    case "restored":
      console.log(
        result.from === "backup"
          ? `Restored ${path} from ${backupPath(path)} (byte for byte).`
          : `Removed ${path}: it did not exist before \`ccgate setup-claude\`.`,
      );
      return;
    case "surgical":
      console.log(
        `${path} was edited after ccgate changed it: took back only ccgate's env keys (removed, or set back to their earlier values) and kept your edits.`,
      );
      if (result.keptChanged.length > 0)
        console.log(`  left as you changed them: ${result.keptChanged.map((k) => `env.${k}`).join(", ")}`);
      return;
    default: {
      const never: never = result;
      throw new Error(`unexpected undo result ${JSON.stringify(never)}`);
    }
  }
}
