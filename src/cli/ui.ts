/**
 * Terminal output: colours and a spinner on a TTY; plain, line-oriented text when piped or when
 * `NO_COLOR` is set (https://no-color.org), so logs and scripts get stable lines.
 */

type Stream = NodeJS.WriteStream;

export function isTty(stream: Stream = process.stderr): boolean {
  return stream.isTTY === true;
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

export function style(stream: Stream = process.stdout): Style {
  const on = isTty(stream) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  const sgr = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39) };
}

export interface Spinner {
  update(text: string): void;
  /** Stops the animation; prints `line` when given (on a TTY it replaces the spinner line). */
  stop(line?: string): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * A spinner on a TTY. Piped, it prints nothing until `stop(line)`: one line per finished step.
 */
export function spinner(text: string, stream: Stream = process.stderr): Spinner {
  if (!isTty(stream)) {
    return {
      update() {},
      stop(line) {
        if (line !== undefined) stream.write(`${line}\n`);
      },
    };
  }
  let current = text;
  let frame = 0;
  const draw = () => stream.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  return {
    update(next) {
      current = next;
    },
    stop(line) {
      clearInterval(timer);
      stream.write("\r\x1b[K");
      if (line !== undefined) stream.write(`${line}\n`);
    },
  };
}

/** `1h 02m`, `3m 05s`, `42s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
