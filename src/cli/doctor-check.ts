/**
 * One line of `ccgate doctor`'s checklist, and how it is printed.
 */
import type { Style } from "./ui.js";

export type CheckStatus = "ok" | "warn" | "fail" | "info";

export interface Check {
  /** Short topic: config, key, port, gateway, claude, settings. */
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do about it (fail and warn). */
  fix?: string;
}

const MARK: Record<CheckStatus, { tty: string; plain: string }> = {
  ok: { tty: "✔", plain: "ok  " },
  warn: { tty: "!", plain: "warn" },
  fail: { tty: "✖", plain: "FAIL" },
  info: { tty: "•", plain: "info" },
};

export function formatCheck(check: Check, s: Style, tty: boolean): string {
  const mark = tty ? MARK[check.status].tty : MARK[check.status].plain;
  const paint =
    check.status === "ok"
      ? s.green
      : check.status === "fail"
        ? s.red
        : check.status === "warn"
          ? s.yellow
          : s.dim;
  const pad = " ".repeat(mark.length + 1 + 9);
  const [first = "", ...rest] = check.message.split("\n");
  const lines = [`${paint(mark)} ${check.name.padEnd(8)} ${first}`, ...rest.map((l) => `${pad}${l}`)];
  if (check.fix !== undefined) lines.push(`${pad}${s.bold("fix:")} ${check.fix}`);
  return lines.join("\n");
}
