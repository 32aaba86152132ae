/**
 * Client authentication: when a token is configured, every API request must present it as
 * `x-api-key` or `Authorization: Bearer` (Claude Code sends either, protocol.md E.2).
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export function presentedKeys(headers: IncomingHttpHeaders): string[] {
  const keys: string[] = [];
  const apiKey = headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey !== "") keys.push(apiKey);
  const auth = headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) keys.push(m[1]);
  }
  return keys;
}

export function isAuthorized(headers: IncomingHttpHeaders, token: string | undefined): boolean {
  if (token === undefined) return true;
  const expected = Buffer.from(token);
  return presentedKeys(headers).some((key) => {
    const given = Buffer.from(key);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
