/**
 * Exit codes of every `ccgate` command (README "Exit codes"). Scripts can rely on them:
 * each names one situation, and the message on stderr says how to fix it.
 */
export const EXIT = {
  ok: 0,
  /** Something is wrong (doctor found problems, an operation failed, an unexpected error). */
  failure: 1,
  /** The configuration is invalid (one line per problem on stderr). */
  config: 2,
  /** The port is taken by another program. */
  portInUse: 3,
  /** No gateway is running (status, stop). */
  notRunning: 4,
  /** The Claude Code CLI was not found (code). */
  claudeMissing: 5,
  /** The gateway did not become healthy within the wait (start -d, code). */
  startTimeout: 6,
  /** Bad command line (unknown option, missing argument): BSD sysexits EX_USAGE. */
  usage: 64,
} as const;

/** A command failure with its exit code; main prints the message (no stack) and exits with it. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}
