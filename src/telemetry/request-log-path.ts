/**
 * Where the request log lives when the config names no path: the XDG state directory
 * (https://specifications.freedesktop.org/basedir-spec/latest/ — "state data that should
 * persist between restarts", which a request history is).
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/**
 * `$CCGATE_STATE_DIR/requests.sqlite` (the CLI's state directory), else
 * `$XDG_STATE_HOME/ccgate/requests.sqlite`, else `~/.local/state/ccgate/requests.sqlite`.
 */
export function defaultRequestLogPath(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string {
  const own = env.CCGATE_STATE_DIR;
  if (own !== undefined && own !== "") return join(resolve(own), "requests.sqlite");
  const xdg = env.XDG_STATE_HOME;
  // The spec says a relative XDG_* path is invalid and must be ignored.
  const base = xdg !== undefined && xdg !== "" && isAbsolute(xdg) ? xdg : join(home, ".local", "state");
  return join(base, "ccgate", "requests.sqlite");
}
