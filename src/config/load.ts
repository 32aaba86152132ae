/**
 * Configuration loading: YAML file (`--config`, else `./ccgate.yaml` when present) → `${VAR}`
 * substitution → key files read → environment overrides → defaults → zod validation →
 * cross-field checks. Every problem is reported at once, each naming its field and the fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { routeProblems } from "../routing/check-routes.js";
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
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new ConfigError([`config file ${path} cannot be read (${reason})`]);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError([
        `${path}: YAML syntax error: ${err instanceof Error ? err.message : String(err)}`,
      ]);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed))
        throw new ConfigError([`${path}: the top level must be a mapping (key: value)`]);
      raw = substituteEnv(parsed, env, "", problems) as Record<string, unknown>;
      raw = readKeyFiles(raw, dirname(path), problems);
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

/**
 * `apiKeys: [{name, file}]` → `{name, key}` with the file's content (trimmed), read now so an
 * unreadable or empty file stops start-up (or a reload) instead of failing the first request.
 * Relative paths are relative to the config file.
 */
function readKeyFiles(
  raw: Record<string, unknown>,
  baseDir: string,
  problems: string[],
): Record<string, unknown> {
  if (!Array.isArray(raw.providers)) return raw;
  const providers = raw.providers.map((provider: unknown, i) => {
    if (!isRecord(provider) || !Array.isArray(provider.apiKeys)) return provider;
    const apiKeys = provider.apiKeys.map((entry: unknown, j) => {
      if (!isRecord(entry) || entry.file === undefined) return entry;
      const at = `providers.${i}.apiKeys.${j}.file`;
      const { file, ...rest } = entry;
      // After a problem the entry gets a stand-in key, so validation does not report it twice.
      const failed = { key: "(unreadable)", ...rest };
      if (typeof file !== "string" || file === "") {
        problems.push(`${at}: expected the path of a file holding the key`);
        return failed;
      }
      if (rest.key !== undefined) {
        problems.push(`${at}: give either key or file, not both`);
        return failed;
      }
      const full = resolve(baseDir, file);
      let key: string;
      try {
        key = readFileSync(full, "utf8").trim();
      } catch (err) {
        const reason =
          (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
        problems.push(
          `${at}: cannot read the key file ${full} (${reason}) — check the path and its permissions`,
        );
        return failed;
      }
      if (key === "") {
        problems.push(`${at}: the key file ${full} is empty`);
        return failed;
      }
      return { ...rest, key };
    });
    return { ...provider, apiKeys };
  });
  return { ...raw, providers };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
  let telemetry = input.telemetry;
  if (env.CCGATE_REQUEST_LOG) {
    const off = env.CCGATE_REQUEST_LOG === "off";
    const requestLog = {
      ...telemetry?.requestLog,
      enabled: !off,
      ...(off ? {} : { path: env.CCGATE_REQUEST_LOG }),
    };
    telemetry = { ...telemetry, requestLog };
  }

  let state = input.state;
  if (env.CCGATE_REDIS_URL) state = { ...state, redis: { ...state?.redis, url: env.CCGATE_REDIS_URL } };

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
  return {
    ...input,
    server,
    providers,
    ...(routes === undefined ? {} : { routes }),
    ...(telemetry === undefined ? {} : { telemetry }),
    ...(state === undefined ? {} : { state }),
  };
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues
    .flatMap((issue) => unionBranch(issue, []))
    .map(({ issue, path }) => {
      const field = path.length > 0 ? path.join(".") : "(root)";
      let fix = "";
      if (issue.code === "unrecognized_keys")
        fix = " — remove it or check its spelling (see ccgate.yaml.example)";
      else if (issue.code === "invalid_value") fix = " — use one of the listed values";
      else if (issue.code === "invalid_type" && !issue.message.includes("expected"))
        fix = ` — expected ${issue.expected}`;
      return `${field}: ${issue.message}${fix}`;
    });
}

type Issue = z.core.$ZodIssue;

/**
 * zod reports a failed union (`"provider/model"` or `{target, weight}`) as "Invalid input". The
 * user wrote one of the forms, so report the issues of the branch whose shape matched best:
 * fewest wrong types at the value itself.
 */
function unionBranch(issue: Issue, base: PropertyKey[]): { issue: Issue; path: PropertyKey[] }[] {
  const path = [...base, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [{ issue, path }];
  const rootMismatch = (branch: Issue[]) =>
    branch.filter((i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value"))
      .length;
  const ranked = [...issue.errors].sort((a, b) => rootMismatch(a) - rootMismatch(b));
  const best = ranked[0] ?? [];
  if (rootMismatch(best) > 0 && best.length === 1) {
    const expected = issue.errors.flatMap((b) =>
      b.flatMap((i) =>
        i.code === "invalid_type" ? [i.expected] : i.code === "invalid_value" ? i.values.map(String) : [],
      ),
    );
    return [
      {
        issue: { ...issue, message: `Invalid input: expected ${[...new Set(expected)].join(" or ")}` },
        path,
      },
    ];
  }
  return best.flatMap((i) => unionBranch(i, path));
}

function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  config.providers.forEach((p, i) => {
    if (names.has(p.name))
      problems.push(`providers.${i}.name: "${p.name}" is used twice — give each provider its own name`);
    names.add(p.name);
    const modelNames = new Map<string, number>();
    p.models.forEach((m, j) => {
      for (const n of [m.name, ...m.aliases]) {
        const other = modelNames.get(n);
        if (other !== undefined && other !== j)
          problems.push(
            `providers.${i}.models.${j}: "${n}" also names providers.${i}.models.${other} — names and aliases must differ`,
          );
        modelNames.set(n, j);
      }
    });
  });
  problems.push(...routeProblems(config.routes, config.providers));
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
