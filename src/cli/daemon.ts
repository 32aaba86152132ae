/**
 * `ccgate start --daemon`: the same `ccgate start`, detached, its output appended to a log file
 * in the state directory. The child registers itself (pid and info files) once it listens; the
 * parent waits for that and for `/health`, or shows the log lines that explain the failure.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ConfigFlags } from "./cli-config.js";
import { CliError, EXIT } from "./exit-codes.js";
import { checkHealth, delay } from "./gateway-client.js";
import {
  DAEMON_ENV,
  type DaemonFiles,
  type DaemonInfo,
  ensureStateDir,
  isAlive,
  readDaemonInfo,
} from "./state-dir.js";
import { spinner } from "./ui.js";

/** `bin/ccgate.js`, relative to this file in `dist/cli/` (and in `src/cli/`). */
const BIN = fileURLToPath(new URL("../../bin/ccgate.js", import.meta.url));

export interface DaemonStartOptions {
  flags: ConfigFlags;
  /** The config file the parent resolved, passed on so the child reads the very same file. */
  configPath: string | undefined;
  graceSeconds: number;
  waitMs: number;
  files: DaemonFiles;
}

/** Starts a detached gateway and resolves once it answers `/health`; throws `CliError` otherwise. */
export async function startDaemon(options: DaemonStartOptions): Promise<DaemonInfo> {
  const { files, flags } = options;
  ensureStateDir(files);
  const logStart = existsSync(files.logFile) ? statSync(files.logFile).size : 0;
  const args = [BIN, "start", "--grace", String(options.graceSeconds)];
  if (options.configPath !== undefined) args.push("--config", options.configPath);
  if (flags.host !== undefined) args.push("--host", flags.host);
  if (flags.port !== undefined) args.push("--port", flags.port);

  const log = openSync(files.logFile, "a", 0o600);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, [DAEMON_ENV]: files.dir },
  });
  closeSync(log);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const pid = child.pid;
  if (pid === undefined)
    throw new CliError(EXIT.failure, `could not start ccgate: ${(await spawnError).message}`);

  const progress = spinner("starting the gateway in the background…");
  const deadline = Date.now() + options.waitMs;
  try {
    while (Date.now() < deadline) {
      if (exited !== undefined) {
        const code =
          exited.code === EXIT.config || exited.code === EXIT.portInUse ? exited.code : EXIT.failure;
        throw new CliError(
          code,
          `the background gateway exited at start-up (${exited.signal ?? `exit code ${exited.code}`}):\n${logTail(files.logFile, logStart)}\nlog: ${files.logFile}`,
        );
      }
      const info = readDaemonInfo(files);
      if (info?.pid === pid && (await checkHealth(info.url, 1_000)) === "ok") {
        progress.stop();
        child.unref();
        return info;
      }
      await delay(100);
    }
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
    throw new CliError(
      EXIT.startTimeout,
      `the background gateway did not answer /health within ${options.waitMs / 1000} s; it was stopped.\n${logTail(files.logFile, logStart)}\nlog: ${files.logFile}`,
    );
  } finally {
    progress.stop();
  }
}

/** The last lines the daemon wrote since `from` (its own start-up). */
function logTail(file: string, from: number, lines = 20): string {
  let text = "";
  try {
    text = readFileSync(file).subarray(from).toString("utf8");
  } catch {
    return "(no log)";
  }
  const tail = text.trimEnd().split("\n").slice(-lines);
  return tail.length === 0 || tail[0] === "" ? "(the log is empty)" : tail.map((l) => `  ${l}`).join("\n");
}
