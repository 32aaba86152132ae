/** `unknown` → a plain JSON object, the one guard every lenient upstream parser here starts with. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
