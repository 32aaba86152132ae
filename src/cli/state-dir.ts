/**
 * Where a background gateway keeps its pid, state and log files, and how other commands find it.
 *
 * Directory: `$CCGATE_STATE_DIR`, else `$XDG_STATE_HOME/ccgate`, else `~/.local/state/ccgate` (the
 * XDG Base Directory spec's place for state that survives restarts: logs, pids).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/** Set in a daemon's environment to the state directory it must register in. */
export const DAEMON_ENV = "CCGATE_DAEMON_STATE_DIR";

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CCGATE_STATE_DIR) return resolve(env.CCGATE_STATE_DIR);
  // The spec: a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "ccgate");
  return join(homedir(), ".local", "state", "ccgate");
}

export interface DaemonFiles {
  dir: string;
  pidFile: string;
  infoFile: string;
  logFile: string;
}

export function daemonFiles(dir: string = stateDir()): DaemonFiles {
  return {
    dir,
    pidFile: join(dir, "gateway.pid"),
    infoFile: join(dir, "gateway.json"),
    logFile: join(dir, "gateway.log"),
  };
}

/** What a daemon records about itself once it listens (no secrets: the client token stays out). */
export interface DaemonInfo {
  pid: number;
  url: string;
  host: string;
  port: number;
  configPath: string | null;
  startedAt: string;
  logFile: string;
  graceSeconds: number;
}

export function ensureStateDir(files: DaemonFiles): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
}

/** Written by the daemon after it listens: the info file first, then the pid file. */
export function writeDaemonInfo(files: DaemonFiles, info: DaemonInfo): void {
  ensureStateDir(files);
  // rename() is atomic: a reader never sees half a file.
  const tmp = `${files.infoFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, files.infoFile);
  writeFileSync(files.pidFile, `${info.pid}\n`, { mode: 0o600 });
}

export function readDaemonInfo(files: DaemonFiles): DaemonInfo | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(files.infoFile, "utf8"));
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!Number.isInteger(r.pid) || typeof r.url !== "string") return undefined;
  return {
    pid: r.pid as number,
    url: r.url,
    host: typeof r.host === "string" ? r.host : "",
    port: typeof r.port === "number" ? r.port : 0,
    configPath: typeof r.configPath === "string" ? r.configPath : null,
    startedAt: typeof r.startedAt === "string" ? r.startedAt : "",
    logFile: typeof r.logFile === "string" ? r.logFile : files.logFile,
    graceSeconds: typeof r.graceSeconds === "number" ? r.graceSeconds : 10,
  };
}

/** Removes the pid and info files when they still describe `pid` (a newer daemon keeps its own). */
export function removeDaemonFiles(files: DaemonFiles, pid: number): void {
  const info = readDaemonInfo(files);
  if (info !== undefined && info.pid !== pid) return;
  rmSync(files.infoFile, { force: true });
  rmSync(files.pidFile, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie (exited, not yet reaped — e.g. in a container whose init does not reap) is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    // No /proc here: trust kill(0). With /proc, an unreadable entry means the process just went.
    return !existsSync("/proc/self/stat");
  }
}

/**
 * A pid file can outlive its daemon (crash, reboot) and the pid be reused by another program:
 * where /proc exists, the command line must name ccgate before anyone signals that pid.
 */
export function isCcgateProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    return readFileSync(cmdline, "utf8").includes("ccgate");
  } catch {
    return false;
  }
}

/** The live daemon of this state directory, if any; stale files are cleaned up on the way. */
export function runningDaemon(files: DaemonFiles): DaemonInfo | undefined {
  const info = readDaemonInfo(files);
  if (info === undefined) return undefined;
  if (isCcgateProcess(info.pid)) return info;
  removeDaemonFiles(files, info.pid);
  return undefined;
}
