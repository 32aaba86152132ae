/**
 * The checks of `ccgate doctor`. Each returns checklist lines with a fix for anything wrong.
 */
import { createServer } from "node:net";
import { ConfigError, type LoadedConfig } from "../config/load.js";
import { Gateway } from "../gateway.js";
import type { Check } from "./doctor-check.js";
import { claudeVersion, findClaude, INSTALL_HINT } from "./find-claude.js";
import { checkHealth, getJson } from "./gateway-client.js";
import { checkKey } from "./key-check.js";
import type { DaemonInfo } from "./state-dir.js";

export function configCheck(loaded: LoadedConfig | undefined, error: ConfigError | undefined): Check {
  if (error !== undefined || loaded === undefined)
    return {
      name: "config",
      status: "fail",
      message: error?.message ?? "the configuration did not load",
      fix: "edit the named fields (ccgate.yaml.example documents each one), or write a fresh file with `ccgate init --force`",
    };
  const { providers, routes } = loaded.config;
  const counts = `${providers.length} provider(s), ${routes.length} route(s)`;
  if (loaded.path === undefined)
    return {
      name: "config",
      status: "ok",
      message: `no config file: environment and defaults (${counts}); \`ccgate init\` writes one`,
    };
  return { name: "config", status: "ok", message: `${loaded.path} is valid (${counts})` };
}

/** One live request per key (all in parallel, each with the deadline). */
export async function keyChecks(loaded: LoadedConfig, timeoutMs: number): Promise<Check[]> {
  let gateway: Gateway;
  try {
    gateway = new Gateway(loaded.config);
  } catch (err) {
    if (err instanceof ConfigError) return [configCheck(undefined, err)];
    throw err;
  }
  try {
    const jobs: Promise<Check>[] = [];
    for (const [i, p] of loaded.config.providers.entries()) {
      const upstream = gateway.upstreams.get(p.name);
      if (upstream === undefined) continue;
      const anthropicAuth = p.options.authHeader === "bearer" ? "bearer" : "x-api-key";
      if (upstream.keys.length === 0) {
        if (upstream.requiresKey)
          jobs.push(
            Promise.resolve<Check>({
              name: "key",
              status: "fail",
              message: `${p.name}: no API key configured`,
              fix:
                p.type === "gemini"
                  ? "export GEMINI_API_KEY=<key> (get one at https://aistudio.google.com/apikey), or add apiKeys to the config"
                  : `add apiKeys to providers.${i} in the config`,
            }),
          );
        else jobs.push(checkKey(upstream, undefined, { timeoutMs, anthropicAuth }));
        continue;
      }
      for (const key of upstream.keys) jobs.push(checkKey(upstream, key, { timeoutMs, anthropicAuth }));
    }
    return await Promise.all(jobs);
  } finally {
    await gateway.close();
  }
}

/** Can the gateway listen where the config says? A ccgate already there counts as fine. */
export async function portCheck(host: string, port: number, url: string): Promise<Check> {
  const where = `${host}:${port}`;
  const problem = await tryListen(host, port);
  if (problem === undefined)
    return { name: "port", status: "ok", message: `${where} is free for the gateway` };
  if (problem === "EADDRINUSE") {
    if ((await checkHealth(url)) === "ok")
      return { name: "port", status: "ok", message: `${where} is in use by a running ccgate gateway` };
    return {
      name: "port",
      status: "fail",
      message: `${where} is in use by another program`,
      fix: `stop it (find it with \`ss -ltnp 'sport = :${port}'\` or \`lsof -nP -iTCP:${port} -sTCP:LISTEN\`), or give ccgate another port: --port N, CCGATE_PORT=N or server.port in the config`,
    };
  }
  if (problem === "EACCES")
    return {
      name: "port",
      status: "fail",
      message: `not allowed to listen on ${where} (ports below 1024 need privileges)`,
      fix: "use a port of 1024 or more: --port, CCGATE_PORT or server.port",
    };
  if (problem === "EADDRNOTAVAIL" || problem === "ENOTFOUND")
    return {
      name: "port",
      status: "fail",
      message: `${host} is not an address of this machine`,
      fix: "bind 127.0.0.1 (or an address this machine has): --host, CCGATE_HOST or server.host",
    };
  return { name: "port", status: "fail", message: `cannot listen on ${where}: ${problem}` };
}

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Is a gateway running, healthy, and does it take this config's client token? */
export async function gatewayCheck(
  url: string,
  token: string | undefined,
  daemon: DaemonInfo | undefined,
): Promise<Check> {
  const health = await checkHealth(daemon?.url ?? url);
  if (daemon !== undefined && health !== "ok")
    return {
      name: "gateway",
      status: "fail",
      message: `the background gateway (pid ${daemon.pid}, ${daemon.url}) does not answer /health`,
      fix: `read ${daemon.logFile}, then restart it: ccgate stop && ccgate start -d`,
    };
  if (health !== "ok")
    return {
      name: "gateway",
      status: "info",
      message: `not running at ${url}`,
      fix: "`ccgate start -d` starts it in the background (`ccgate code` does when needed)",
    };
  const at = daemon?.url ?? url;
  const models = await getJson(at, "/v1/models", token);
  if (models.kind === "http" && models.status === 401)
    return {
      name: "gateway",
      status: "fail",
      message: `the gateway at ${at} rejects this config's client token`,
      fix: "set CCGATE_AUTH_TOKEN to the token it runs with, or restart it with this config",
    };
  const how =
    daemon !== undefined ? `in the background (pid ${daemon.pid})` : "(started outside `ccgate start -d`)";
  return { name: "gateway", status: "ok", message: `healthy at ${at} ${how}` };
}

export async function claudeCheck(): Promise<Check> {
  const found = findClaude();
  if (!found.found)
    return {
      name: "claude",
      status: "fail",
      message: found.message,
      fix: `${INSTALL_HINT} (or point CCGATE_CLAUDE_BIN at it)`,
    };
  const { version, error } = await claudeVersion(found.path);
  if (version === undefined)
    return {
      name: "claude",
      status: "warn",
      message: `${found.path} is there, but \`claude --version\` failed: ${error ?? "no output"}`,
      fix: `reinstall it: ${INSTALL_HINT}`,
    };
  return { name: "claude", status: "ok", message: `Claude Code ${version} at ${found.path}` };
}
