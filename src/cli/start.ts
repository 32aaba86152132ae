/**
 * `ccgate start`: run the gateway in the foreground (the default command), or with `--daemon`
 * in the background with pid and log files in the state directory.
 */
import type { Command } from "commander";
import { ConfigError, type LoadedConfig } from "../config/load.js";
import { startGateway } from "../server.js";
import { type ConfigFlags, loadCliConfig, parseSeconds, withConfigOptions } from "./cli-config.js";
import { installConfigReload } from "./config-reload.js";
import { startDaemon } from "./daemon.js";
import { EXIT } from "./exit-codes.js";
import { installGracefulShutdown } from "./graceful-shutdown.js";
import { DAEMON_ENV, daemonFiles, removeDaemonFiles, runningDaemon, writeDaemonInfo } from "./state-dir.js";

interface StartFlags extends ConfigFlags {
  daemon?: boolean;
  grace: string;
  wait: string;
}

export function registerStartCommand(program: Command): void {
  withConfigOptions(
    program.command("start", { isDefault: true }).description("run the gateway in the foreground"),
  )
    .option("-d, --daemon", "run in the background (pid and log files in the state directory)")
    .option("--grace <seconds>", "on SIGINT/SIGTERM, time in-flight requests get to finish", "10")
    .option("--wait <seconds>", "with --daemon: how long to wait for the gateway to come up", "15")
    .addHelpText(
      "after",
      `
Stops cleanly on SIGINT/SIGTERM: no new connections, in-flight streams get --grace seconds to
finish, then they are closed. A second signal closes them at once.
State directory (--daemon): $CCGATE_STATE_DIR, else $XDG_STATE_HOME/ccgate, else
~/.local/state/ccgate — gateway.pid, gateway.json, gateway.log. Stop it with \`ccgate stop\`.

Examples:
  GEMINI_API_KEY=... ccgate start
  ccgate start --config ./ccgate.yaml --port 9000
  ccgate start -d && ccgate status && ccgate stop`,
    )
    .action(async (opts: StartFlags) => {
      const graceSeconds = parseSeconds(opts.grace, "--grace");
      if (opts.daemon === true)
        return startInBackground(opts, graceSeconds, parseSeconds(opts.wait, "--wait"));
      return runInForeground(opts, graceSeconds);
    });
}

async function startInBackground(opts: StartFlags, graceSeconds: number, waitSeconds: number): Promise<void> {
  const loaded = loadOrExit(opts);
  const files = daemonFiles();
  const running = runningDaemon(files);
  if (running !== undefined) {
    console.error(
      `ccgate is already running in the background (pid ${running.pid}) at ${running.url}. To restart it with new settings: ccgate stop && ccgate start -d`,
    );
    return;
  }
  const info = await startDaemon({
    flags: opts,
    configPath: loaded.path,
    graceSeconds,
    waitMs: waitSeconds * 1000,
    files,
  });
  console.log(`ccgate started in the background (pid ${info.pid}) at ${info.url}`);
  console.log(`  log:  ${info.logFile}`);
  console.log("  stop: ccgate stop");
}

function loadOrExit(opts: ConfigFlags): LoadedConfig {
  try {
    return loadCliConfig(opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(EXIT.config);
    }
    throw err;
  }
}

async function runInForeground(opts: StartFlags, graceSeconds: number): Promise<void> {
  const loaded = loadOrExit(opts);
  const { config } = loaded;
  const running = await startGateway(config).catch((err: NodeJS.ErrnoException) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(EXIT.config);
    }
    if (err.code === "EADDRINUSE") {
      console.error(
        `Port ${config.server.port} on ${config.server.host} is already in use: stop the other process or pick another port with --port or CCGATE_PORT.`,
      );
      process.exit(EXIT.portInUse);
    }
    throw err;
  });
  const log = running.app.log;
  log.info(`ccgate listening on ${running.url}${loaded.path ? ` (config ${loaded.path})` : ""}`);
  for (const u of running.gateway.upstreams.values()) {
    if (u.requiresKey && u.keys.length === 0)
      log.warn(
        `provider "${u.name}" has no API key: requests will fail with authentication_error. Set GEMINI_API_KEY=<key>[,<key2>…] or add apiKeys in ccgate.yaml, then restart.`,
      );
    else log.info(`provider "${u.name}" (${u.type}) ${u.baseUrl} with ${u.keys.length} key(s)`);
  }
  log.info(
    `use it: ANTHROPIC_BASE_URL=${running.url} ANTHROPIC_AUTH_TOKEN=${config.server.authToken ? "<your CCGATE_AUTH_TOKEN>" : "any"} claude`,
  );

  // Started by `start --daemon`: register so `status`, `stop` and `code` find this process.
  const stateDir = process.env[DAEMON_ENV];
  const files = stateDir ? daemonFiles(stateDir) : undefined;
  if (files !== undefined) {
    writeDaemonInfo(files, {
      pid: process.pid,
      url: running.url,
      host: config.server.host,
      port: running.port,
      configPath: loaded.path ?? null,
      startedAt: new Date().toISOString(),
      logFile: files.logFile,
      graceSeconds,
    });
    // Also on a crash: the files must not describe a process that is gone.
    process.once("exit", () => removeDaemonFiles(files, process.pid));
  }
  installConfigReload(running, loaded, opts);
  installGracefulShutdown(running, { graceMs: graceSeconds * 1000 });
}
