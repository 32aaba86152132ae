/**
 * Plain-text tables for the terminal: columns padded to their widest cell. Colour codes in
 * cells do not count toward the width.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI colour codes on purpose
const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(s: string): number {
  return s.replace(ANSI, "").length;
}

/** Header row and rows, two spaces between columns, no trailing spaces. */
export function renderTable(headers: string[], rows: string[][], indent = ""): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ""))),
  );
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visibleLength(c))))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
