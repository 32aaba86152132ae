/**
 * Config reload support. The CLI decides when (SIGHUP, or a file change seen by `watchConfig`);
 * the server swaps in the new config. A bad edit never replaces a good config: it reaches
 * `onError` as a `ConfigError` listing every problem, and the running config stays.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { type LoadedConfig, type LoadOptions, loadConfig } from "./load.js";

/** Load the config again, exactly as at start-up. Returns it, or throws `ConfigError`. */
export function reloadConfig(options: LoadOptions = {}): LoadedConfig {
  return loadConfig(options);
}

export interface WatchOptions {
  /** Quiet time after the last file event before reloading (editors write in bursts). Default 200 ms. */
  debounceMs?: number;
  /** How to load (environment, overrides); `configPath` is always the watched path. */
  load?: LoadOptions;
}

/**
 * Calls `onChange` with the newly loaded config after each settled change of the file at `path`,
 * or `onError` with the error (a `ConfigError` for a bad edit, or whatever `onChange` threw). The directory is watched, not the
 * file: editors save by writing a new file and renaming it over the old one, which a watch on the
 * old inode would miss. Returns a function that stops watching.
 */
export function watchConfig(
  path: string,
  onChange: (loaded: LoadedConfig) => void,
  onError: (err: unknown) => void,
  options: WatchOptions = {},
): () => void {
  const full = resolve(options.load?.cwd ?? process.cwd(), path);
  const name = basename(full);
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const reload = () => {
    timer = undefined;
    if (stopped) return;
    try {
      // onChange runs inside the try too: a swap that rejects the config (e.g. a provider
      // option only the adapter checks) is reported like a bad edit, never thrown from a timer.
      onChange(reloadConfig({ ...options.load, configPath: full }));
    } catch (err) {
      onError(err);
    }
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(full), { persistent: false }, (_event, filename) => {
      // Some platforms do not report the name; then any change in the directory counts.
      if (filename !== null && filename.toString() !== name) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(reload, debounceMs);
    });
  } catch (err) {
    onError(err);
    return () => {};
  }
  watcher.on("error", (err) => onError(err));
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
}
