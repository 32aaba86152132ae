/**
 * Which gateway a command talks to: `--url`; else the address the config names when `--config`,
 * `--port` or `--host` was given; else the background gateway of the state directory; else the
 * config's address. The client token comes from the config (or CCGATE_AUTH_TOKEN).
 */
import { ConfigError, type LoadedConfig } from "../config/load.js";
import { type ConfigFlags, clientUrl, loadCliConfig } from "./cli-config.js";
import { type DaemonFiles, type DaemonInfo, daemonFiles, runningDaemon } from "./state-dir.js";

export interface LocateFlags extends ConfigFlags {
  url?: string;
}

export interface GatewayLocation {
  url: string;
  /** The address the config (or, when it does not load, the environment) says to bind. */
  host: string;
  port: number;
  token: string | undefined;
  daemon: DaemonInfo | undefined;
  loaded: LoadedConfig | undefined;
  /** The config did not load: the address falls back to the environment and the defaults. */
  configError: ConfigError | undefined;
}

export function locateGateway(flags: LocateFlags, files: DaemonFiles = daemonFiles()): GatewayLocation {
  let loaded: LoadedConfig | undefined;
  let configError: ConfigError | undefined;
  try {
    loaded = loadCliConfig(flags);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configError = err;
  }
  const env = process.env;
  const host = loaded?.config.server.host ?? flags.host ?? env.CCGATE_HOST ?? "127.0.0.1";
  const port = loaded?.config.server.port ?? Number(flags.port ?? env.CCGATE_PORT ?? 8787);
  const configUrl = clientUrl(host, port);
  const daemon = runningDaemon(files);
  const explicit = flags.config !== undefined || flags.port !== undefined || flags.host !== undefined;
  const url = (flags.url ?? (explicit ? configUrl : (daemon?.url ?? configUrl))).replace(/\/+$/, "");
  const token = loaded?.config.server.authToken ?? (env.CCGATE_AUTH_TOKEN || undefined);
  return { url, host, port, token, daemon, loaded, configError };
}
