/**
 * `ccgate stop`: SIGTERM to the background gateway (which drains in-flight requests for its grace
 * period), wait for it to exit, SIGKILL when it overstays.
 */
import type { Command } from "commander";
import { parseSeconds } from "./cli-config.js";
import { CliError, EXIT } from "./exit-codes.js";
import { delay } from "./gateway-client.js";
import { daemonFiles, isAlive, removeDaemonFiles, runningDaemon } from "./state-dir.js";
import { spinner } from "./ui.js";

export function registerStopCommand(program: Command): void {
  program
    .command("stop")
    .description("stop the gateway started with `ccgate start --daemon` (or by `ccgate code`)")
    .option("--timeout <seconds>", "how long to wait before killing it (default: its grace period + 5)")
    .addHelpText("after", "\nExit codes: 0 stopped, 4 no background gateway is running.")
    .action(async (opts: { timeout?: string }) => {
      const files = daemonFiles();
      const info = runningDaemon(files);
      if (info === undefined)
        throw new CliError(EXIT.notRunning, `no background ccgate is running (state directory ${files.dir})`);
      const timeoutMs =
        (opts.timeout === undefined ? info.graceSeconds + 5 : parseSeconds(opts.timeout, "--timeout")) * 1000;
      process.kill(info.pid, "SIGTERM");
      const progress = spinner(`stopping ccgate (pid ${info.pid})…`);
      const deadline = Date.now() + timeoutMs;
      while (isAlive(info.pid) && Date.now() < deadline) await delay(100);
      if (isAlive(info.pid)) {
        process.kill(info.pid, "SIGKILL");
        removeDaemonFiles(files, info.pid);
        progress.stop(`ccgate (pid ${info.pid}) did not stop within ${timeoutMs / 1000} s and was killed`);
        return;
      }
      removeDaemonFiles(files, info.pid);
      progress.stop(`ccgate stopped (pid ${info.pid})`);
    });
}
