/**
 * Reuse of translations that repeat request after request. Claude Code sends the same tool
 * definitions — about 30 KB, two thirds of a typical request — on every turn; translating their
 * schemas and serializing the result again each time was a large share of the gateway's CPU per
 * request. A translation is a pure function of its source, so it may be reused whenever the new
 * source is deeply equal to the one it was made from; its bytes are made once too (json-bytes.ts).
 *
 * Results are shared between requests: callers must treat them as read-only. The memo is
 * bounded and simply starts over when full.
 */

interface Entry<S, T> {
  source: S;
  value: T;
}

export class TranslationMemo<S, T extends object> {
  private readonly entries = new Map<string, Entry<S, T>>();

  constructor(private readonly limit = 512) {}

  /** `translate(source)`, or the result made earlier under `key` from a deeply equal source. */
  get(key: string, source: S, translate: (source: S) => T): T {
    const entry = this.entries.get(key);
    if (entry !== undefined && sameJson(entry.source, source)) return entry.value;
    const value = translate(source);
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, { source, value });
    return value;
  }
}

/** Deep equality of JSON-shaped values (what JSON.parse and the request schema produce). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(rb, key) || !sameJson(ra[key], rb[key])) return false;
  }
  return true;
}
