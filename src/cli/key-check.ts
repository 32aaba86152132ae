/**
 * `ccgate doctor`'s live key check: one cheap, model-independent request per key (list models)
 * with a deadline. A failure is classified by the provider's own `decodeError`, so "rejected"
 * means exactly what the gateway would treat as a bad key.
 */
import type { UpstreamRequest } from "../core/provider.js";
import type { Upstream, UpstreamKey } from "../core/upstream.js";
import { chatCompletionsUrl } from "../providers/openai/request.js";
import type { Check } from "./doctor-check.js";
import { describeFetchError } from "./gateway-client.js";

const FIX: Record<string, string> = {
  gemini:
    "create or copy a valid key at https://aistudio.google.com/apikey and put it where this key comes from",
  openai: "replace this key (the provider's apiKeys in the config, or the variable it references)",
  anthropic:
    "check the key at https://console.anthropic.com/settings/keys; a relay may want options.authHeader: bearer",
};

/** The request that proves a key works, or undefined when the type has no model-free check. */
export function keyCheckRequest(
  upstream: Upstream,
  secret: string | undefined,
  anthropicAuth: "x-api-key" | "bearer",
): UpstreamRequest | undefined {
  const headers: Record<string, string> = { ...upstream.headers };
  const base = upstream.baseUrl.replace(/\/+$/, "");
  switch (upstream.type) {
    case "gemini":
      if (secret) headers["x-goog-api-key"] = secret;
      return { method: "GET", url: `${base}/v1beta/models?pageSize=1`, headers };
    case "openai":
      if (secret) headers.authorization = `Bearer ${secret}`;
      return {
        method: "GET",
        url: chatCompletionsUrl(base).replace(/\/chat\/completions$/, "/models"),
        headers,
      };
    case "anthropic":
      headers["anthropic-version"] = "2023-06-01";
      if (secret) {
        if (anthropicAuth === "bearer") headers.authorization = `Bearer ${secret}`;
        else headers["x-api-key"] = secret;
      }
      return { method: "GET", url: `${base}/v1/models?limit=1`, headers };
    default:
      return undefined;
  }
}

export async function checkKey(
  upstream: Upstream,
  key: UpstreamKey | undefined,
  options: { timeoutMs: number; anthropicAuth: "x-api-key" | "bearer" },
): Promise<Check> {
  const name = "key";
  const who = `${upstream.name} ${key === undefined ? "(no key)" : key.label}`;
  if (key?.tokenSource !== undefined)
    return { name, status: "info", message: `${who}: short-lived credentials, checked on first use` };
  const req = keyCheckRequest(upstream, key?.secret, options.anthropicAuth);
  if (req === undefined)
    return { name, status: "info", message: `${who}: no live check for ${upstream.type} providers yet` };
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    return {
      name,
      status: "fail",
      message: `${who}: cannot reach ${upstream.baseUrl} (${describeFetchError(err)})`,
      fix: `check the network, a proxy, or the provider's baseUrl (answer within ${options.timeoutMs / 1000} s)`,
    };
  }
  const text = await res.text().catch(() => "");
  if (res.ok) return { name, status: "ok", message: `${who}: accepted by ${upstream.baseUrl}` };
  const error = upstream.provider.decodeError(res.status, Object.fromEntries(res.headers), text);
  const said = `${res.status}: ${error.message.split("\n")[0]?.slice(0, 200)}`;
  if (error.class === "auth")
    return {
      name,
      status: "fail",
      message: `${who}: rejected by the upstream (${said})`,
      fix: FIX[upstream.type] ?? "replace this key",
    };
  if (error.class === "rate_limit")
    return {
      name,
      status: "warn",
      message: `${who}: accepted, but rate-limited or out of quota right now (${said})`,
      fix: "wait, add another key, or raise the quota with the provider",
    };
  if (res.status === 404)
    return {
      name,
      status: "warn",
      message: `${who}: could not verify: the server has no models endpoint (${said})`,
    };
  return { name, status: "warn", message: `${who}: the upstream answered ${said}` };
}
