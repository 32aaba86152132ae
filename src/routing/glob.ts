/** Case-insensitive glob on model names: `*` matches any run of characters, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i");
}

/** A glob that matches every model name (`*`, `**`…). */
export function isCatchAll(glob: string): boolean {
  return /^\*+$/.test(glob);
}

/** A pattern with no wildcard: exactly one model name. */
export function isLiteral(glob: string): boolean {
  return !/[*?]/.test(glob);
}
