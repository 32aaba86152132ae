/**
 * Pointing a plain `claude` at the gateway through the `env` block of Claude Code's user settings
 * (protocol.md E.9), reversibly. Only our keys change; every other byte of the file stays as the
 * user wrote it. Next to the file: `settings.json.ccgate-backup` (the original, byte for byte) and
 * `settings.json.ccgate-undo.json` (what was there before each key we set, a hash of what we last
 * wrote, and whether the backup may still be put back whole).
 *
 * One rule decides how undo works: putting the original back whole (the backup, or deleting a file
 * we created) is right only while the file is nothing but the original plus our keys, i.e. nobody
 * but ccgate has written it since the backup. Every setup run checks that against the hash of our
 * last write before it writes again:
 * - unchanged since our last write: the backup stays valid (a re-run with a new port is still
 *   "original plus our keys");
 * - edited since, and none of our values left in it (the user took them out, or deleted the file):
 *   the current file is the new original, so we start over with a fresh backup and record;
 * - edited since, with our values still in it: the backup would discard the edits, so the record
 *   stops allowing a whole-file restore for good, and keys the user changed get their current
 *   value recorded as the one to put back. Undo then takes back only our keys, even when the file
 *   is byte-identical to our last write (the re-run wrote over the edits, it did not remove them).
 *
 * A symlinked settings.json (dotfiles) stays a link: we write through it to its target, atomically
 * in the target's directory. Backup and record stay next to the link, in the Claude config
 * directory, so neither (both may hold the gateway token) lands in a dotfiles repository.
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CliError, EXIT } from "./exit-codes.js";
import { findMember, formatObject, lineIndent, removeMember, scanObject, setMember } from "./json-edit.js";

export function claudeSettingsPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CLAUDE_CONFIG_DIR ? resolve(env.CLAUDE_CONFIG_DIR) : join(homedir(), ".claude");
  return join(dir, "settings.json");
}

export const backupPath = (settings: string) => `${settings}.ccgate-backup`;
export const recordPath = (settings: string) => `${settings}.ccgate-undo.json`;

interface KeyRecord {
  /** The key existed before we set it (with `previous` as its value). */
  had: boolean;
  previous?: unknown;
  set: string;
}

interface UndoRecord {
  version: 1;
  existed: boolean;
  envCreated: boolean;
  /** sha256 of the text we last wrote. */
  written: string;
  /**
   * False once the user edited the file between two setup runs: the backup (or deleting a file we
   * created) would then discard their edits. Absent in records from older versions: true.
   */
  wholeFile?: boolean;
  keys: Record<string, KeyRecord>;
}

type Json = Record<string, unknown>;

/** The settings file's text and parsed object; `undefined` text when it does not exist. */
export function readSettings(path: string): { text: string | undefined; settings: Json } {
  if (!existsSync(path)) return { text: undefined, settings: {} };
  const text = readFileSync(path, "utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(
      EXIT.failure,
      `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}): fix it or move it away; nothing was changed.`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new CliError(EXIT.failure, `${path} does not hold a JSON object: fix it or move it away.`);
  const env = (parsed as Json).env;
  if (env !== undefined && (typeof env !== "object" || env === null || Array.isArray(env)))
    throw new CliError(EXIT.failure, `${path}: "env" is not an object: fix it or move it away.`);
  return { text, settings: parsed as Json };
}

export interface ApplyResult {
  changed: string[];
  backup: string | undefined;
  /** How `undoEnv` will take it back: the whole original, or only our keys (the user edited it). */
  undo: "whole" | "keys";
}

/** Sets `values` in the `env` block, merging; records how to undo it (see the module comment). */
export function applyEnv(path: string, values: Record<string, string>): ApplyResult {
  const { text, settings } = readSettings(path);
  const env = (settings.env ?? {}) as Json;
  const changed = Object.keys(values).filter((k) => env[k] !== values[k]);
  let previousRecord = readRecord(path);
  // Written by someone else since our last write (the user, or a deletion).
  let edited =
    previousRecord !== undefined && (text === undefined || sha256(text) !== previousRecord.written);
  if (previousRecord !== undefined && edited) {
    const keys = Object.entries(previousRecord.keys);
    if (!keys.some(([key, entry]) => env[key] === entry.set)) {
      // Nothing of ours is left: what is there now is the user's, and becomes the original.
      rmSync(recordPath(path), { force: true });
      if (previousRecord.existed) rmSync(backupPath(path), { force: true });
      previousRecord = undefined;
      edited = false;
    }
  }
  if (changed.length === 0 && previousRecord === undefined)
    return { changed, backup: undefined, undo: "whole" };

  const record: UndoRecord = previousRecord ?? {
    version: 1,
    existed: text !== undefined,
    envCreated: settings.env === undefined,
    written: "",
    wholeFile: true,
    keys: {},
  };
  if (edited) record.wholeFile = false;
  // The user may have deleted the env block; then we create it (again) and undo may remove it.
  if (settings.env === undefined) record.envCreated = true;
  for (const [key, value] of Object.entries(values)) {
    const known = record.keys[key];
    // A key still holding what we set keeps the value from before us; otherwise what is there now
    // (the user's value, or nothing) is what undo puts back.
    const entry: KeyRecord =
      known !== undefined && env[key] === known.set
        ? known
        : key in env
          ? { had: true, previous: env[key], set: value }
          : { had: false, set: value };
    record.keys[key] = { ...entry, set: value };
  }
  if (previousRecord === undefined && text !== undefined) copyFileSync(path, backupPath(path));

  const next = withEnvValues(text, values);
  if (next !== text) writeAtomic(path, next);
  record.written = sha256(next);
  writeFileSync(recordPath(path), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  const whole = record.wholeFile !== false;
  return {
    changed,
    backup: whole && record.existed ? backupPath(path) : undefined,
    undo: whole ? "whole" : "keys",
  };
}

function withEnvValues(text: string | undefined, values: Record<string, string>): string {
  const root = text === undefined ? undefined : scanObject(text, 0);
  const first = root?.members[0];
  // Nothing of the user's to preserve: write it pretty.
  if (text === undefined || root === undefined || first === undefined)
    return `${JSON.stringify({ env: values }, null, 2)}\n`;
  const envMember = findMember(root, "env");
  if (envMember === undefined)
    return setMember(
      text,
      root,
      "env",
      formatObject(text, Object.entries(values), lineIndent(text, first.start)),
    );
  let out = text;
  for (const [key, value] of Object.entries(values)) {
    const at = findMember(scanObject(out, 0), "env");
    if (at === undefined) throw new Error("env member vanished while editing");
    out = setMember(out, scanObject(out, at.valueStart), key, JSON.stringify(value));
  }
  return out;
}

export type UndoResult =
  | { kind: "nothing" }
  /** The file was already gone: nothing restored; the backup, if any, is left at `backup`. */
  | { kind: "missing"; backup: string | undefined }
  | { kind: "restored"; from: "backup" | "deleted" }
  | { kind: "surgical"; keptChanged: string[] };

export function undoEnv(path: string): UndoResult {
  const record = readRecord(path);
  if (record === undefined) return { kind: "nothing" };
  const backup = backupPath(path);
  const text = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  const finish = <T extends UndoResult>(result: T): T => {
    rmSync(recordPath(path), { force: true });
    // Without an original there is no backup of ours: a file by that name is someone else's.
    if (record.existed) rmSync(backup, { force: true });
    return result;
  };
  if (text === undefined) {
    // The user deleted it: recreating it from the backup would undo their deletion, dropping the
    // backup would lose their last copy. Leave the backup and say where it is.
    rmSync(recordPath(path), { force: true });
    return { kind: "missing", backup: record.existed && existsSync(backup) ? backup : undefined };
  }
  if (sha256(text) === record.written && record.wholeFile !== false) {
    if (!record.existed) {
      // Through a link, the file is its target; the link itself is the user's and stays.
      rmSync(resolveLink(path));
      return finish({ kind: "restored", from: "deleted" });
    }
    if (existsSync(backup)) {
      writeAtomic(path, readFileSync(backup));
      return finish({ kind: "restored", from: "backup" });
    }
  }
  // Edited since (now, or before a re-run): take back only our keys, and only where they still
  // hold what we set.
  const { settings } = readSettings(path);
  const env = (settings.env ?? {}) as Json;
  const keptChanged: string[] = [];
  let out = text;
  for (const [key, entry] of Object.entries(record.keys)) {
    if (env[key] !== entry.set) {
      if (key in env) keptChanged.push(key);
      continue;
    }
    const at = findMember(scanObject(out, 0), "env");
    if (at === undefined) break;
    const span = scanObject(out, at.valueStart);
    out = entry.had
      ? setMember(out, span, key, JSON.stringify(entry.previous))
      : removeMember(out, span, key);
  }
  const after = JSON.parse(out) as Json;
  if (record.envCreated && Object.keys((after.env ?? {}) as Json).length === 0 && after.env !== undefined)
    out = removeMember(out, scanObject(out, 0), "env");
  writeAtomic(path, out);
  return finish({ kind: "surgical", keptChanged });
}

function readRecord(path: string): UndoRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordPath(path), "utf8")) as UndoRecord;
    return r.version === 1 && typeof r.keys === "object" ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` to the file `path` names, atomically. A rename over a symlink would replace the
 * link with a regular file, so we write to the link's final target instead, with the temp file
 * in the target's directory (a rename does not cross file systems).
 */
function writeAtomic(path: string, data: string | Buffer): void {
  const target = resolveLink(path);
  mkdirSync(dirname(target), { recursive: true });
  // Keep the file's permissions; a new one may hold a token, so only its owner reads it.
  const mode = existsSync(target) ? statSync(target).mode & 0o777 : 0o600;
  const tmp = `${target}.ccgate-${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, target);
}

/**
 * The path a chain of symlinks at `path` ends at, also when that target does not exist yet (a
 * dangling dotfiles link: we create its target rather than replace the link). `path` itself when
 * it is not a link. Links in parent directories need no resolving: writes go through them.
 */
export function resolveLink(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(current).isSymbolicLink()) return current;
      link = readlinkSync(current);
    } catch {
      return current; // does not exist: this is where the file goes
    }
    current = resolve(dirname(current), link);
  }
  throw new CliError(EXIT.failure, `${path}: too many levels of symbolic links; nothing was changed.`);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
