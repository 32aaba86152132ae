/**
 * Talking to a running gateway from the CLI: is it there (`GET /health`), what does it know
 * (`GET /status`), does it accept our token. Every call has a deadline.
 */

/**
 * - `ok`: a ccgate gateway answered.
 * - `foreign`: something else answers HTTP on that address.
 * - `unresponsive`: the port accepts connections but nothing answered in time.
 * - `down`: nothing listens there.
 */
export type Health = "ok" | "foreign" | "unresponsive" | "down";

export async function checkHealth(url: string, timeoutMs = 2_000): Promise<Health> {
  let res: Response;
  try {
    res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return isTimeout(err) ? "unresponsive" : "down";
  }
  const body: unknown = await res.json().catch(() => undefined);
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  return res.ok && b.status === "ok" && Array.isArray(b.providers) ? "ok" : "foreign";
}

/** Polls `/health` until it answers ok or `timeoutMs` passes (every loop here is bounded). */
export async function waitForHealth(url: string, timeoutMs: number, stop?: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stop?.()) return false;
    if ((await checkHealth(url, Math.min(2_000, Math.max(100, deadline - Date.now())))) === "ok") return true;
    await delay(150);
  }
  return false;
}

export type FetchResult =
  | { kind: "ok"; body: unknown }
  | { kind: "http"; status: number; text: string }
  | { kind: "down"; reason: string };

/** GET a gateway path with the client token (the gateway checks it on everything but /health). */
export async function getJson(
  url: string,
  path: string,
  token: string | undefined,
  timeoutMs = 5_000,
): Promise<FetchResult> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { kind: "down", reason: describeFetchError(err) };
  }
  const text = await res.text();
  if (!res.ok) return { kind: "http", status: res.status, text };
  try {
    return { kind: "ok", body: JSON.parse(text) };
  } catch {
    return { kind: "http", status: res.status, text: `not JSON: ${text.slice(0, 200)}` };
  }
}

/** `fetch failed` hides the reason in `cause`; show the useful part (ECONNREFUSED, timeout...). */
export function describeFetchError(err: unknown): string {
  if (isTimeout(err)) return "timed out";
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === "TimeoutError" || name === "AbortError";
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
