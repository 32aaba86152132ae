/**
 * The configuration model: one zod schema for the YAML file, the environment and the defaults.
 * Validation messages name the field (`describeIssues` in load.ts prefixes the path).
 * `ccgate.yaml.example` documents every key here with its default.
 */
import { z } from "zod";
import { resilienceSchema, ruleSchema } from "../resilience/options.js";

export const PROVIDER_TYPES = ["gemini", "openai", "anthropic", "vertex"] as const;

/** Provider names appear in `provider/model` targets and `provider,model` model names. */
export const PROVIDER_NAME = /^[A-Za-z0-9_.-]+$/;
/** Route names travel in the `x-ccgate-route` header and may be used as a model name. */
export const ROUTE_NAME = /^[A-Za-z0-9_.:@+-]+$/;

const timeouts = z
  .strictObject({
    /** TCP/TLS connect deadline. */
    connectMs: z.number().int().positive().default(10_000),
    /** Upstream response headers deadline (time to first byte). */
    firstByteMs: z.number().int().positive().default(120_000),
    /** Longest silence between two upstream body chunks once streaming. */
    idleMs: z.number().int().positive().default(180_000),
  })
  .prefault({});

/**
 * A key as a string, or named. `{name, file}` (a key read from a file) is resolved by the loader
 * into `{name, key}` before validation, so the rest of the gateway only sees keys.
 */
const apiKey = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
]);

/** What one upstream model can do; targets lacking a feature the request needs are skipped. */
export const modelSchema = z.strictObject({
  /** The upstream model id sent on the wire. */
  name: z.string().min(1),
  /** Other names a target may use for this model (`provider/<alias>` sends `name`). */
  aliases: z.array(z.string().min(1)).default([]),
  /** Accepts image input. */
  images: z.boolean().default(true),
  /** Supports function calling (tools). */
  tools: z.boolean().default(true),
  /** Input tokens it accepts; a request estimated above it skips this target. */
  contextWindow: z.number().int().positive().optional(),
  /**
   * openai providers: most output tokens to ask this model for (Claude Code asks for 32000 or
   * 128000); overrides the provider's `options.maxOutputTokens` for this model.
   */
  maxOutputTokens: z.number().int("expected a whole number of tokens, e.g. 8192").positive().optional(),
});

const modelEntry = z
  .union([z.string().min(1), modelSchema])
  .transform((m) => (typeof m === "string" ? modelSchema.parse({ name: m }) : m));

/**
 * openai `options.maxOutputTokens`: the most completion tokens asked for (Claude Code asks for
 * 32000 or 128000, above many models' limit). Checked here so a bad value stops loading with
 * its path; providers/openai/options.ts reads it.
 */
const maxOutputTokens = z
  .number({ error: "expected a number of tokens, e.g. 16384" })
  .int("expected a whole number of tokens, e.g. 16384")
  .min(1, "expected at least 1 token, e.g. 16384");

const providerFields = z.strictObject({
  name: z
    .string()
    .regex(PROVIDER_NAME, "use letters, digits, '_', '.' or '-' (it appears in 'provider/model' targets)"),
  type: z.enum(PROVIDER_TYPES),
  baseUrl: z.url().optional(),
  apiKeys: z.array(apiKey).default([]),
  headers: z.record(z.string(), z.string()).default({}),
  timeouts,
  /** Type-specific options, e.g. gemini `toolSchema`, vertex `project`/`location`/`credentialsFile`. */
  options: z.record(z.string(), z.unknown()).default({}),
  /** Known models with their capabilities and aliases (models not listed: every feature assumed). */
  models: z.array(modelEntry).default([]),
  /** Failure rules tried before the global `resilience.rules`. */
  rules: z.array(ruleSchema).optional(),
  /** Concurrency limits overriding `resilience.concurrency` for this provider. */
  limits: z
    .strictObject({
      perProvider: z.number().int().min(0).optional(),
      perKey: z.number().int().min(0).optional(),
    })
    .optional(),
});

/** A provider entry, with the option checks that depend on its `type`. */
export const providerSchema = providerFields.superRefine((provider, ctx) => {
  // Gemini models' limits are known (and clamped); a relay's are its own.
  if (provider.type !== "openai") {
    provider.models.forEach((model, i) => {
      if (model.maxOutputTokens !== undefined)
        ctx.addIssue({
          code: "custom",
          message: "only openai providers use maxOutputTokens (remove it here)",
          path: ["models", i, "maxOutputTokens"],
        });
    });
    return;
  }
  const value = provider.options.maxOutputTokens;
  if (value === undefined) return;
  for (const issue of maxOutputTokens.safeParse(value).error?.issues ?? [])
    ctx.addIssue({ code: "custom", message: issue.message, path: ["options", "maxOutputTokens"] });
});

const TARGET = /^[^/,\s]+\/\S.*$/;
const targetText = z.string().regex(TARGET, "a target is 'provider/model'");

/** A route target: `provider/model`, or an object adding a weight and a tier. */
export const targetSchema = z.union([
  targetText,
  z.strictObject({
    target: targetText,
    /** Share of first attempts among the targets of the same tier (default 1). */
    weight: z.number().positive().optional(),
    /** Lower tiers are tried first (default 0 once any target of the route has a weight or tier). */
    tier: z.number().int().min(0).optional(),
  }),
]);

/** Scenario conditions detected from the request; every condition given must hold. */
export const whenSchema = z
  .strictObject({
    /** The requested model is a small/background model (`routing.backgroundModels`). */
    background: z.literal(true).optional(),
    /** Thinking is on: `adaptive`, or a budget at least `minBudget` (default `routing.thinkingBudget`). */
    thinking: z.union([z.literal(true), z.strictObject({ minBudget: z.number().int().min(0) })]).optional(),
    /** Estimated input tokens above `minTokens` (default `routing.longContextTokens`). */
    long_context: z
      .union([z.literal(true), z.strictObject({ minTokens: z.number().int().min(0) })])
      .optional(),
    /** An image in the last user turn (tool results included). */
    image: z.literal(true).optional(),
    /** A web search server tool is offered. */
    web_search: z.literal(true).optional(),
  })
  .refine((w) => Object.keys(w).length > 0, "give at least one condition, or leave `when` out");

export const routeSchema = z.strictObject({
  name: z.string().regex(ROUTE_NAME, "use letters, digits and '_', '.', ':', '@', '+', '-' (no spaces)"),
  /** Globs on the requested model name (`*` any run, `?` one character); `[]`: only by name or header. */
  match: z.array(z.string().min(1)).default(["*"]),
  when: whenSchema.optional(),
  /** Attempt order `provider/model`; `$model` stands for the requested model name. */
  targets: z.array(targetSchema).min(1, "a route needs at least one target 'provider/model'"),
});

export const routingSchema = z
  .strictObject({
    /** `long_context: true` holds above this many estimated input tokens. */
    longContextTokens: z.number().int().min(0).default(60_000),
    /** `thinking: true` holds for `enabled` thinking with at least this budget (adaptive always). */
    thinkingBudget: z.number().int().min(0).default(1),
    /** Model-name globs that mean a background request (`background: true`). */
    backgroundModels: z.array(z.string().min(1)).default(["*haiku*"]),
  })
  .prefault({});

/**
 * Where resilience state lives. Without `redis.url`, in this process only (the default); with it,
 * key rests, cooldowns, breakers and session bindings are mirrored between every instance that
 * uses the same Redis and prefix (src/state/redis-shared-state.ts).
 */
export const stateSchema = z
  .strictObject({
    redis: z
      .strictObject({
        /** `redis://[user:password@]host:port[/db]` or `rediss://…` (env CCGATE_REDIS_URL). */
        url: z
          .string()
          .regex(/^rediss?:\/\/\S+$/, "expected redis://host:port or rediss://host:port")
          .optional(),
        /** Namespace of the Redis keys and channel; instances sharing work use the same one. */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]+$/, "use letters, digits, '_', '.', ':' or '-'")
          .default("ccgate"),
      })
      .prefault({}),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65_535).default(8787),
      /** Client key required on every request (x-api-key or Bearer). Required off loopback. */
      authToken: z.string().min(1).optional(),
      /** Largest request body accepted, in bytes (Claude Code sessions reach tens of MB with images). */
      bodyLimitBytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** Longest upstream silence before the client gets a `ping` (≤ 10 s keeps every watchdog calm). */
      pingIntervalMs: z.number().int().min(100).max(10_000).default(5_000),
      logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
  providers: z.array(providerSchema).default([]),
  routes: z.array(routeSchema).default([]),
  routing: routingSchema,
  images: z
    .strictObject({
      /** Fetch `url` image/document sources and inline them (Gemini cannot read arbitrary URLs). */
      fetchUrls: z.boolean().default(true),
      maxBytes: z
        .number()
        .int()
        .positive()
        .default(20 * 1024 * 1024),
      timeoutMs: z.number().int().positive().default(15_000),
      /** Allow URLs that resolve to loopback/private addresses (off: SSRF protection). */
      allowPrivateNetworks: z.boolean().default(false),
    })
    .prefault({}),
  /** Failover, breakers, cooldowns, affinity, concurrency (src/resilience/options.ts). */
  resilience: resilienceSchema,
  /** Resilience state shared between instances (Redis) or kept in memory. */
  state: stateSchema,
  telemetry: z
    .strictObject({
      requestLog: z
        .strictObject({
          /** Every request (never its content) in an embedded SQLite file. */
          enabled: z.boolean().default(true),
          /** Default `$XDG_STATE_HOME/ccgate/requests.sqlite`; `:memory:` keeps nothing on disk. */
          path: z.string().min(1).optional(),
          /** Oldest rows are deleted beyond this many. */
          maxRows: z.number().int().positive().default(100_000),
        })
        .prefault({}),
      /** `GET /metrics` (Prometheus). */
      metrics: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type RouteTarget = z.infer<typeof targetSchema>;
export type RouteWhen = z.infer<typeof whenSchema>;
export type RoutingConfig = z.infer<typeof routingSchema>;
export type StateConfig = z.infer<typeof stateSchema>;
export type ConfigInput = z.input<typeof configSchema>;
