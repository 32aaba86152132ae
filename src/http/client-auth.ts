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

/**
 * Without a client token the gateway trusts whoever can reach it, which on a loopback bind means
 * this machine — unless a web page uses DNS rebinding: the browser then sends requests for the
 * page's own name to 127.0.0.1, and the page could spend the user's upstream keys. Such requests
 * carry that name in `Host`; requests from local tools name the machine itself. So, with no
 * token, only loopback names are answered (any port): `localhost` (and `*.localhost`),
 * `127.x.x.x`, `[::1]`. A token makes this moot (a page cannot know it).
 */
export function isLoopbackHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || hostHeader === "") return true; // HTTP/1.0 tools; browsers always send Host
  const host = hostHeader.startsWith("[")
    ? hostHeader.slice(0, hostHeader.indexOf("]") + 1)
    : (hostHeader.split(":", 1)[0] ?? "");
  const name = host.toLowerCase().replace(/\.$/, "");
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}
