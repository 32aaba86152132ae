/**
 * Pointing a plain `claude` at the gateway through the `env` block of Claude Code's user settings
 * (protocol.md E.9), reversibly. Only our keys change; every other byte of the file stays as the
 * user wrote it. Next to the file: `settings.json.ccgate-backup` (the original, byte for byte) and
 * `settings.json.ccgate-undo.json` (what was there before each key we set, and a hash of what we
 * wrote). Undo restores the backup when the file is still exactly what we wrote; if the user edited
 * it since, it takes back only our keys and keeps their edits.
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
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
}

/** Sets `values` in the `env` block, merging; records how to undo it. */
export function applyEnv(path: string, values: Record<string, string>): ApplyResult {
  const { text, settings } = readSettings(path);
  const env = (settings.env ?? {}) as Json;
  const changed = Object.keys(values).filter((k) => env[k] !== values[k]);
  const previousRecord = readRecord(path);
  if (changed.length === 0 && previousRecord === undefined) return { changed, backup: undefined };

  const record: UndoRecord = previousRecord ?? {
    version: 1,
    existed: text !== undefined,
    envCreated: settings.env === undefined,
    written: "",
    keys: {},
  };
  for (const [key, value] of Object.entries(values)) {
    const entry =
      record.keys[key] ??
      (key in env ? { had: true, previous: env[key], set: value } : { had: false, set: value });
    record.keys[key] = { ...entry, set: value };
  }
  if (previousRecord === undefined && text !== undefined) copyFileSync(path, backupPath(path));

  const next = withEnvValues(text, values);
  writeAtomic(path, next);
  record.written = sha256(next);
  writeFileSync(recordPath(path), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return { changed, backup: record.existed ? backupPath(path) : undefined };
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
  | { kind: "restored"; from: "backup" | "deleted" }
  | { kind: "surgical"; keptChanged: string[] };

export function undoEnv(path: string): UndoResult {
  const record = readRecord(path);
  if (record === undefined) return { kind: "nothing" };
  const backup = backupPath(path);
  const text = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  const finish = <T extends UndoResult>(result: T): T => {
    rmSync(recordPath(path), { force: true });
    rmSync(backup, { force: true });
    return result;
  };
  if (text === undefined) return finish({ kind: "restored", from: "deleted" });
  if (sha256(text) === record.written) {
    if (!record.existed) {
      rmSync(path);
      return finish({ kind: "restored", from: "deleted" });
    }
    if (existsSync(backup)) {
      writeAtomic(path, readFileSync(backup));
      return finish({ kind: "restored", from: "backup" });
    }
  }
  // Edited since: take back only our keys, and only where they still hold what we set.
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

function writeAtomic(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  // Keep the file's permissions; a new one may hold a token, so only its owner reads it.
  const mode = existsSync(path) ? statSync(path).mode & 0o777 : 0o600;
  const tmp = `${path}.ccgate-${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
