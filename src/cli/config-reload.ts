/**
 * Hot reload for `ccgate start`: the config file is watched, and SIGHUP reloads on demand.
 * A good config is swapped in (new requests use it; in-flight streams finish on the old one);
 * a bad one keeps the running config and logs every problem.
 */
import { ConfigError, type LoadedConfig } from "../config/load.js";
import { watchConfig } from "../config/watch.js";
import type { RunningGateway } from "../server.js";
import { type ConfigFlags, loadCliConfig } from "./cli-config.js";

export function installConfigReload(
  running: RunningGateway,
  loaded: LoadedConfig,
  flags: ConfigFlags,
): () => void {
  const log = running.app.log;
  const apply = (next: LoadedConfig, why: string) => {
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
