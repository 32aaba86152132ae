/**
 * Hot reload for `ccgate start`: the config file is watched, and SIGHUP reloads on demand.
 * A good config is swapped in (new requests use it; in-flight streams finish on the old one);
 * a bad one keeps the running config and logs every problem.
 *
 * The socket stays bound where the gateway started, so a new config is checked against that
 * address, not its own `server.host`: on a gateway listening beyond loopback, a reload without a
 * client token would open it to anyone (an edit that moves the host back to 127.0.0.1 and drops
 * the token, or a save that empties the file) — it is refused. So is a file with nothing in it
 * (an editor's truncate-then-write seen halfway), which would otherwise reload every default.
 */
import { readFileSync } from "node:fs";
import { ConfigError, isLoopback, type LoadedConfig } from "../config/load.js";
import { watchConfig } from "../config/watch.js";
import type { RunningGateway } from "../server.js";
import { type ConfigFlags, loadCliConfig } from "./cli-config.js";

export function installConfigReload(
  running: RunningGateway,
  loaded: LoadedConfig,
  flags: ConfigFlags,
): () => void {
  const log = running.app.log;
  const boundHost = loaded.config.server.host;
  const apply = (next: LoadedConfig, why: string) => {
    const refusal = unsafeReload(next, boundHost);
    if (refusal !== undefined) {
      reject(new Error(refusal), why);
      return;
    }
    const before = running.gateway.config.server;
    running.reload(next.config);
    const after = next.config.server;
    if (
      after.host !== before.host ||
      after.port !== before.port ||
      after.bodyLimitBytes !== before.bodyLimitBytes
    )
      log.warn("server.host, server.port and server.bodyLimitBytes changes take effect after a restart");
    log.info(
      `${why}: configuration reloaded (${next.config.providers.length} provider(s), ${next.config.routes.length} route(s))`,
    );
  };
  const reject = (err: unknown, why: string) => {
    const detail =
      err instanceof ConfigError ? err.problems.join("; ") : err instanceof Error ? err.message : String(err);
    log.error(`${why}: the new configuration was rejected, keeping the running one — ${detail}`);
  };

  const onHangup = () => {
    try {
      apply(loadCliConfig(flags), "SIGHUP");
    } catch (err) {
      reject(err, "SIGHUP");
    }
  };
  process.on("SIGHUP", onHangup);
  const stopWatching =
    loaded.path === undefined
      ? () => {}
      : watchConfig(
          loaded.path,
          (next) => apply(next, `${loaded.path} changed`),
          (err) => reject(err, `${loaded.path} changed`),
          {
            load: {
              overrides: {
                host: flags.host,
                port: flags.port === undefined ? undefined : Number(flags.port),
              },
            },
          },
        );
  return () => {
    process.off("SIGHUP", onHangup);
    stopWatching();
  };
}

/** Why `next` must not replace the running config on a gateway bound to `boundHost`. */
function unsafeReload(next: LoadedConfig, boundHost: string): string | undefined {
  if (next.path !== undefined && isBlank(next.path))
    return `${next.path} is empty (a save in progress?); write the whole configuration`;
  if (!isLoopback(boundHost) && next.config.server.authToken === undefined)
    return `the gateway listens on ${boundHost}: a configuration without server.authToken (or CCGATE_AUTH_TOKEN) would let anyone use it; keep the token, or restart to bind 127.0.0.1`;
  return undefined;
}

/** Only whitespace and comments (YAML reads it as "all defaults"). */
function isBlank(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return false; // unreadable: the loader has said why already
  }
  return text.split("\n").every((line) => line.trim() === "" || line.trim().startsWith("#"));
}
