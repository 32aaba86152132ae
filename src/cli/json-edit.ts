/**
 * Surgical edits of JSON text: set or remove one member of an object and leave every other byte
 * (order, spacing, the user's formatting) exactly as it was. The text must already be valid JSON
 * (callers check with `JSON.parse` first); the scanner only finds where things are.
 */

export interface Member {
  key: string;
  /** Index of the key's opening quote. */
  start: number;
  valueStart: number;
  /** Index just after the value. */
  valueEnd: number;
}

export interface ObjectSpan {
  /** Index of `{`. */
  open: number;
  /** Index of `}`. */
  close: number;
  members: Member[];
}

/** The members of the object whose `{` is at `open` (or the first `{` at or after it). */
export function scanObject(text: string, open: number): ObjectSpan {
  let i = skipSpace(text, open);
  if (text[i] !== "{") throw new Error(`expected an object at offset ${i}`);
  const start = i;
  const members: Member[] = [];
  i = skipSpace(text, i + 1);
  while (text[i] !== "}") {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const colon = skipSpace(text, keyEnd);
    const valueStart = skipSpace(text, colon + 1);
    const valueEnd = skipValue(text, valueStart);
    members.push({ key, start: i, valueStart, valueEnd });
    i = skipSpace(text, valueEnd);
    if (text[i] === ",") i = skipSpace(text, i + 1);
  }
  return { open: start, close: i, members };
}

/** The last member named `key` (what JSON.parse keeps when a key repeats). */
export function findMember(span: ObjectSpan, key: string): Member | undefined {
  return span.members.findLast((m) => m.key === key);
}

/**
 * Sets `key` to the JSON text `value`: replaces the value in place when the key exists, else adds
 * the member after the last one, spaced like its siblings (in an empty object: one indentation
 * level deeper than the line of its `{`).
 */
export function setMember(text: string, span: ObjectSpan, key: string, value: string): string {
  const existing = findMember(span, key);
  if (existing !== undefined)
    return text.slice(0, existing.valueStart) + value + text.slice(existing.valueEnd);
  const last = span.members.at(-1);
  const first = span.members[0];
  const member = (sep: string) => `${JSON.stringify(key)}${sep}${value}`;
  if (last === undefined || first === undefined) {
    const outer = lineIndent(text, span.open);
    const unit = indentUnit(text);
    if (unit === "") return `${text.slice(0, span.open + 1)}${member(":")}${text.slice(span.close)}`;
    return `${text.slice(0, span.open + 1)}\n${outer}${unit}${member(": ")}\n${outer}${text.slice(span.close)}`;
  }
  // The whitespace before the first member and the key/value separator, copied from the siblings.
  const lead = text.slice(span.open + 1, first.start);
  const keyEnd = skipString(text, first.start);
  const sep = text.slice(keyEnd, first.valueStart);
  return `${text.slice(0, last.valueEnd)},${lead}${member(sep)}${text.slice(last.valueEnd)}`;
}

/** Removes `key` (and the comma and space that belonged to it); the rest is untouched. */
export function removeMember(text: string, span: ObjectSpan, key: string): string {
  const index = span.members.findLastIndex((m) => m.key === key);
  const member = span.members[index];
  if (member === undefined) return text;
  const next = span.members[index + 1];
  const previous = span.members[index - 1];
  if (next !== undefined) return text.slice(0, member.start) + text.slice(next.start);
  if (previous !== undefined) return text.slice(0, previous.valueEnd) + text.slice(member.valueEnd);
  // The only member: the object becomes empty.
  return `${text.slice(0, span.open + 1)}${text.slice(span.close)}`;
}

/** A JSON object literal for `entries`, laid out like `text`: pretty (closing brace at `outerIndent`) or compact. */
export function formatObject(text: string, entries: [string, unknown][], outerIndent: string): string {
  const unit = indentUnit(text);
  if (entries.length === 0) return "{}";
  if (unit === "") return JSON.stringify(Object.fromEntries(entries));
  const inner = outerIndent + unit;
  const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n");
  return `{\n${body}\n${outerIndent}}`;
}

/** The indentation of the line holding `index`. */
export function lineIndent(text: string, index: number): string {
  const lineStart = text.lastIndexOf("\n", index - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? "";
}

/** One indentation level as the file uses it; "" for single-line (compact) JSON. */
export function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  if (m?.[1] !== undefined) return m[1];
  return text.includes("\n") && text.trim().includes("\n") ? "  " : "";
}

function skipSpace(text: string, i: number): number {
  let j = i;
  while (j < text.length && " \t\r\n".includes(text[j] ?? "")) j++;
  return j;
}

function skipString(text: string, i: number): number {
  if (text[i] !== '"') throw new Error(`expected a string at offset ${i}`);
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
  return j + 1;
}

function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c !== "{" && c !== "[") {
    let j = i;
    while (j < text.length && !",}] \t\r\n".includes(text[j] ?? "")) j++;
    return j;
  }
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const ch = text[j];
    if (ch === '"') {
      j = skipString(text, j);
      continue;
    }
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  throw new Error("unterminated JSON value");
}
