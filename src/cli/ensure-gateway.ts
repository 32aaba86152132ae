/**
 * "Make sure a gateway is up": reuse one that answers `/health` at the configured address (or the
 * background gateway of the state directory), else start one detached and wait for it.
 */
import type { LoadedConfig } from "../config/load.js";
import { type ConfigFlags, clientUrl } from "./cli-config.js";
import { startDaemon } from "./daemon.js";
import { CliError, EXIT } from "./exit-codes.js";
import { checkHealth } from "./gateway-client.js";
import { type DaemonFiles, type DaemonInfo, runningDaemon } from "./state-dir.js";

export interface EnsureOptions {
  flags: ConfigFlags;
  loaded: LoadedConfig;
  files: DaemonFiles;
  waitMs: number;
  graceSeconds?: number;
}

export interface EnsuredGateway {
  url: string;
  /** Set when this call started it. */
  started: DaemonInfo | undefined;
  /** Set when the reused background gateway runs another config file than the one loaded here. */
  otherConfig?: string;
}

export async function ensureGateway(options: EnsureOptions): Promise<EnsuredGateway> {
  const { server } = options.loaded.config;
  const configUrl = clientUrl(server.host, server.port);
  const atConfig = await checkHealth(configUrl);
  const daemon = runningDaemon(options.files);
  if (atConfig === "ok") return reused(configUrl, daemon, options.loaded.path);
  if (daemon !== undefined && (await checkHealth(daemon.url)) === "ok")
    return reused(daemon.url, daemon, options.loaded.path);

  if (atConfig === "foreign" || atConfig === "unresponsive")
    throw new CliError(
      EXIT.portInUse,
      `${configUrl} is taken by a program that is not ccgate: stop it, or use another port (--port, CCGATE_PORT or server.port in the config).`,
    );
  if (daemon !== undefined)
    throw new CliError(
      EXIT.failure,
      `the background gateway (pid ${daemon.pid}, ${daemon.url}) does not answer /health: see ${daemon.logFile}, or restart it with \`ccgate stop && ccgate start -d\`.`,
    );

  try {
    const info = await startDaemon({
      flags: options.flags,
      configPath: options.loaded.path,
      graceSeconds: options.graceSeconds ?? 10,
      waitMs: options.waitMs,
      files: options.files,
    });
    return { url: info.url, started: info };
  } catch (err) {
    // Another `ccgate code` may have won the race for the port: use its gateway.
    if (err instanceof CliError && err.exitCode === EXIT.portInUse && (await checkHealth(configUrl)) === "ok")
      return { url: configUrl, started: undefined };
    throw err;
  }
}

/**
 * A running gateway is reused as it is: when it is the background gateway and it was started
 * with another config file than the one loaded now, say so (its routes and keys are not these).
 */
function reused(url: string, daemon: DaemonInfo | undefined, loadedPath: string | undefined): EnsuredGateway {
  const out: EnsuredGateway = { url, started: undefined };
  if (daemon !== undefined && daemon.url === url && daemon.configPath !== (loadedPath ?? null))
    out.otherConfig = daemon.configPath ?? "no config file (defaults and environment)";
  return out;
}
