/**
 * `ccgate code [-- claude args...]`: make sure a gateway is up, then run Claude Code through it.
 * `ANTHROPIC_BASE_URL` and `ANTHROPIC_AUTH_TOKEN` are set for that one process; the user's
 * settings files are not touched. stdio, signals and the exit code pass through.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import {
  type ConfigFlags,
  loadCliConfigOrExit,
  PLACEHOLDER_TOKEN,
  parseSeconds,
  withConfigOptions,
} from "./cli-config.js";
import { ensureGateway } from "./ensure-gateway.js";
import { CliError, EXIT } from "./exit-codes.js";
import { findClaude, INSTALL_HINT } from "./find-claude.js";
import { getJson } from "./gateway-client.js";
import { daemonFiles } from "./state-dir.js";

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

export function registerCodeCommand(program: Command): void {
  withConfigOptions(
    program
      .command("code")
      .description("run Claude Code through the gateway (starts one in the background when none is up)"),
    false,
  )
    .option("--wait <seconds>", "how long to wait for a gateway to come up", "20")
    .argument("[claude-args...]", "arguments for `claude` (put them after --)")
    .allowUnknownOption()
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Claude Code is found as $CCGATE_CLAUDE_BIN, else \`claude\` on PATH. It gets ANTHROPIC_BASE_URL
(the gateway) and ANTHROPIC_AUTH_TOKEN (server.authToken, or a placeholder) for this run only;
ANTHROPIC_API_KEY is removed from its environment so the two credentials do not conflict.
A gateway started here keeps running after claude exits: \`ccgate stop\` stops it.

Exit codes: claude's own once it ran; before that 2 bad config, 3 port taken by another
program, 5 Claude Code not found, 6 the gateway did not come up in time.

Examples:
  ccgate code
  ccgate code -- -p "explain this repo" --output-format json
  ccgate code --config ./ccgate.yaml -- --model gemini-2.5-flash`,
    )
    .action(async (claudeArgs: string[], opts: ConfigFlags & { wait: string }) => {
      const claude = findClaude();
      if (!claude.found) throw new CliError(EXIT.claudeMissing, `${claude.message}: ${INSTALL_HINT}.`);
      const loaded = loadCliConfigOrExit(opts);
      const gateway = await ensureGateway({
        flags: opts,
        loaded,
        files: daemonFiles(),
        waitMs: parseSeconds(opts.wait, "--wait") * 1000,
      });
      if (gateway.otherConfig !== undefined)
        console.error(
          `ccgate: using the gateway already running at ${gateway.url}, started with ${gateway.otherConfig}, not ${loaded.path ?? "this directory's defaults"}: \`ccgate stop\` first to use this config.`,
        );
      if (gateway.started !== undefined)
        console.error(
          `ccgate: gateway started in the background at ${gateway.url} (pid ${gateway.started.pid}); it keeps running after claude exits — \`ccgate stop\` stops it.`,
        );
      const token = loaded.config.server.authToken ?? PLACEHOLDER_TOKEN;
      const check = await getJson(gateway.url, "/v1/models", token);
      if (check.kind === "http" && check.status === 401)
        throw new CliError(
          EXIT.failure,
          `the gateway at ${gateway.url} rejects this config's client token: set CCGATE_AUTH_TOKEN to the token it runs with, or restart it (\`ccgate stop\`, then \`ccgate code\` again).`,
        );

      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ANTHROPIC_BASE_URL: gateway.url,
        ANTHROPIC_AUTH_TOKEN: token,
      };
      delete env.ANTHROPIC_API_KEY;
      process.exitCode = await runForwarding(claude.path, claudeArgs, env);
    });
}

/** Runs `path args` with inherited stdio; resolves with its exit code (re-raises its signal). */
function runForwarding(path: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: "inherit", env });
    const forward = (signal: NodeJS.Signals) => {
      // Ctrl-C in a terminal reaches claude directly (same process group); a second copy would
      // count as a second press and end the session.
      if (signal === "SIGINT" && process.stdin.isTTY === true) return;
      child.kill(signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    const cleanup = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once("error", (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(new CliError(EXIT.claudeMissing, `could not run ${path}: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      cleanup();
      if (signal === null) return resolve(code ?? EXIT.failure);
      // Die the way claude died, so a shell sees "killed by SIGTERM"; 128+n if that is ignored.
      process.kill(process.pid, signal);
      setTimeout(() => resolve(128 + (constants.signals[signal] ?? 0)), 100);
    });
  });
}
