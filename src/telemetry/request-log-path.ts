/**
 * Where the request log lives when the config names no path: the XDG state directory
 * (https://specifications.freedesktop.org/basedir-spec/latest/ — "state data that should
 * persist between restarts", which a request history is).
 */
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** `$XDG_STATE_HOME/ccgate/requests.sqlite`, else `~/.local/state/ccgate/requests.sqlite`. */
export function defaultRequestLogPath(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string {
  const xdg = env.XDG_STATE_HOME;
  // The spec says a relative XDG_* path is invalid and must be ignored.
  const base = xdg !== undefined && xdg !== "" && isAbsolute(xdg) ? xdg : join(home, ".local", "state");
  return join(base, "ccgate", "requests.sqlite");
}
