/**
 * Configuration loading: YAML file (`--config`, else `./ccgate.yaml` when present) → `${VAR}`
 * substitution → environment overrides → defaults → zod validation → cross-field checks.
 * Every problem is reported at once, each naming its field and the fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type Config, type ConfigInput, configSchema } from "./schema.js";

export const DEFAULT_GEMINI_BASE_URL = "https://generativelanguage.googleapis.com";
export const DEFAULT_MODEL = "gemini-2.5-pro";
export const DEFAULT_SMALL_MODEL = "gemini-2.5-flash";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export interface LoadOptions {
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Command-line overrides (highest precedence). */
  overrides?: { host?: string | undefined; port?: number | undefined };
}

export interface LoadedConfig {
  config: Config;
  /** The file that was read, if any. */
  path: string | undefined;
}

/** Model shorthand in the YAML file, used to generate routes when `routes` is absent. */
interface ModelShorthand {
  default?: string;
  small?: string;
  large?: string;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const path = options.configPath ? resolve(cwd, options.configPath) : defaultPath(cwd);
  const problems: string[] = [];

  let raw: Record<string, unknown> = {};
  if (path !== undefined) {
    if (!existsSync(path)) throw new ConfigError([`config file ${path} does not exist`]);
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(path, "utf8"));
    } catch (err) {
      throw new ConfigError([
        `${path}: YAML syntax error: ${err instanceof Error ? err.message : String(err)}`,
      ]);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed))
        throw new ConfigError([`${path}: the top level must be a mapping (key: value)`]);
      raw = substituteEnv(parsed, env, "", problems) as Record<string, unknown>;
    }
  }
  const { models, ...rest } = raw as Record<string, unknown> & { models?: ModelShorthand };
  const input = applyEnv(rest as ConfigInput, env, models ?? {}, problems);
  if (options.overrides?.host !== undefined) input.server = { ...input.server, host: options.overrides.host };
  if (options.overrides?.port !== undefined) input.server = { ...input.server, port: options.overrides.port };

  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError([...problems, ...describeIssues(result.error)]);
  problems.push(...crossCheck(result.data));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: result.data, path };
}

function defaultPath(cwd: string): string | undefined {
  const candidate = resolve(cwd, "ccgate.yaml");
  return existsSync(candidate) ? candidate : undefined;
}

/** `${VAR}` in any string value → the environment's value; a missing variable is a problem. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, at: string, problems: string[]): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined || v === "") {
        problems.push(
          `${at || "(root)"}: environment variable ${name} is not set — export it or edit the value`,
        );
        return "";
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${at}.${i}`, problems));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, at ? `${at}.${k}` : k, problems)]),
    );
  }
  return value;
}

function applyEnv(
  input: ConfigInput,
  env: NodeJS.ProcessEnv,
  models: ModelShorthand,
  problems: string[],
): ConfigInput {
  const server = { ...input.server };
  if (env.CCGATE_HOST) server.host = env.CCGATE_HOST;
  if (env.CCGATE_PORT) {
    const port = Number(env.CCGATE_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      problems.push(`CCGATE_PORT: "${env.CCGATE_PORT}" is not a port number (0–65535)`);
    else server.port = port;
  }
  if (env.CCGATE_AUTH_TOKEN) server.authToken = env.CCGATE_AUTH_TOKEN;

  const providers = [...(input.providers ?? [])];
  const envKeys = (env.GEMINI_API_KEY ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  let gemini = providers.findIndex((p) => p.type === "gemini");
  if (gemini === -1 && (envKeys.length > 0 || providers.length === 0 || env.GEMINI_BASE_URL)) {
    providers.push({ name: "gemini", type: "gemini" });
    gemini = providers.length - 1;
  }
  const g = providers[gemini];
  if (g !== undefined) {
    providers[gemini] = {
      ...g,
      baseUrl: env.GEMINI_BASE_URL || g.baseUrl || DEFAULT_GEMINI_BASE_URL,
      apiKeys:
        envKeys.length > 0 ? envKeys.map((key, i) => ({ name: `GEMINI_API_KEY#${i + 1}`, key })) : g.apiKeys,
    };
  }

  let routes = input.routes;
  const defaultModel = env.CCGATE_DEFAULT_MODEL || models.default || DEFAULT_MODEL;
  if ((routes === undefined || routes.length === 0) && g !== undefined) {
    routes = [
      { name: "gemini-passthrough", match: ["gemini-*"], targets: [`${g.name}/$model`] },
      {
        name: "background",
        match: ["*haiku*"],
        targets: [`${g.name}/${models.small ?? DEFAULT_SMALL_MODEL}`],
      },
      {
        name: "large",
        match: ["*opus*", "*sonnet*"],
        targets: [`${g.name}/${models.large ?? defaultModel}`],
      },
      { name: "default", match: ["*"], targets: [`${g.name}/${defaultModel}`] },
    ];
  }
  return { ...input, server, providers, ...(routes === undefined ? {} : { routes }) };
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join(".") : "(root)";
    let fix = "";
    if (issue.code === "unrecognized_keys")
      fix = " — remove it or check its spelling (see ccgate.yaml.example)";
    else if (issue.code === "invalid_value") fix = " — use one of the listed values";
    else if (issue.code === "invalid_type") fix = ` — expected ${issue.expected}`;
    return `${field}: ${issue.message}${fix}`;
  });
}

function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  config.providers.forEach((p, i) => {
    if (names.has(p.name))
      problems.push(`providers.${i}.name: "${p.name}" is used twice — give each provider its own name`);
    names.add(p.name);
    if (p.baseUrl === undefined && p.type === "vertex")
      problems.push(`providers.${i}.baseUrl: a ${p.type} provider needs a baseUrl`);
  });
  config.routes.forEach((r, i) => {
    r.targets.forEach((t, j) => {
      const provider = t.slice(0, t.indexOf("/"));
      if (!names.has(provider))
        problems.push(
          `routes.${i}.targets.${j}: provider "${provider}" is not defined — add it under providers or fix the name`,
        );
    });
  });
  if (!isLoopback(config.server.host) && config.server.authToken === undefined) {
    problems.push(
      `server.host: binding ${config.server.host} exposes the gateway beyond this machine — set server.authToken (or CCGATE_AUTH_TOKEN) so clients must present a key, or bind 127.0.0.1`,
    );
  }
  return problems;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "[::1]";
}
