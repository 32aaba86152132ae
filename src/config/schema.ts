/**
 * The configuration model: one zod schema for the YAML file, the environment and the defaults.
 * Validation messages name the field (see `describeConfigError`).
 */
import { z } from "zod";

const PROVIDER_TYPES = ["gemini", "openai", "anthropic", "vertex"] as const;

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

const apiKey = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
]);

export const providerSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]+$/,
      "use letters, digits, '_', '.' or '-' (it appears in 'provider/model' targets)",
    ),
  type: z.enum(PROVIDER_TYPES),
  baseUrl: z.url().optional(),
  apiKeys: z.array(apiKey).default([]),
  headers: z.record(z.string(), z.string()).default({}),
  timeouts,
  /** Type-specific options, e.g. gemini `toolSchema: openapi`. */
  options: z.record(z.string(), z.unknown()).default({}),
});

export const routeSchema = z.strictObject({
  name: z.string().min(1),
  /** Globs on the requested model name (`*` any run of characters). */
  match: z.array(z.string().min(1)).min(1),
  /** Ordered targets `provider/model`; `$model` stands for the requested model name. */
  targets: z.array(z.string().regex(/^[^/]+\/.+$/, "a target is 'provider/model'")).min(1),
});

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
});

export type Config = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type ConfigInput = z.input<typeof configSchema>;
