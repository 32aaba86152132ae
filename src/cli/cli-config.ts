/**
 * The `--config/--port/--host` options every command shares, and the URL clients use to reach
 * the gateway they describe.
 */
import type { Command } from "commander";
import { ConfigError, type LoadedConfig, loadConfig } from "../config/load.js";
import { CliError, EXIT } from "./exit-codes.js";

export interface ConfigFlags {
  config?: string;
  port?: string;
  host?: string;
}

/**
 * Adds the shared options with the same names and help text everywhere. `short: false` leaves
 * out `-c/-p/-H` where they would shadow another program's flags (`ccgate code -p` is claude's).
 */
export function withConfigOptions(command: Command, short = true): Command {
  const flag = (s: string, long: string) => (short ? `${s}, ${long}` : long);
  return command
    .option(flag("-c", "--config <file>"), "config file (default: ./ccgate.yaml when present)")
    .option(flag("-p", "--port <port>"), "port the gateway listens on (default 8787, env CCGATE_PORT)")
    .option(flag("-H", "--host <host>"), "address the gateway binds (default 127.0.0.1, env CCGATE_HOST)");
}

/** Loads the config the way `ccgate start` would; throws `ConfigError` with every problem. */
export function loadCliConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  return loadConfig({
    configPath: flags.config,
    env,
    overrides: { host: flags.host, port: parsePort(flags.port) },
  });
}

/** Like `loadCliConfig`, but a bad config ends the command with exit code 2. */
export function loadCliConfigOrExit(flags: ConfigFlags): LoadedConfig {
  try {
    return loadCliConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(EXIT.config, err.message);
    throw err;
  }
}

/** A `--grace`/`--wait`/`--timeout` value: a non-negative number of seconds, else a usage error. */
export function parseSeconds(value: string, name: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new CliError(EXIT.usage, `${name}: "${value}" is not a number of seconds`);
  return n;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (value.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError([`--port: "${value}" is not a port number (0–65535)`]);
  return port;
}

/** The URL a local client uses for a bind address: a wildcard bind is reached over loopback. */
export function clientUrl(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  let target = bare;
  if (bare === "0.0.0.0" || bare === "") target = "127.0.0.1";
  else if (bare === "::") target = "::1";
  return `http://${target.includes(":") ? `[${target}]` : target}:${port}`;
}

/** The client token Claude Code must send: the configured one, else any placeholder will do. */
export const PLACEHOLDER_TOKEN = "ccgate";
