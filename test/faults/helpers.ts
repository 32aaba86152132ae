/**
 * Shared pieces of the fault-injection suite (issue 4): gateways in front of several fake
 * upstreams with explicit resilience options, request bodies, upstream hit counters that ignore
 * probe traffic, a strict SSE checker (complete message or clean error, nothing in between) and
 * the `/status` reader.
 */
import type { z } from "zod";
import { type ProviderConfig, providerSchema } from "../../src/config/schema.js";
import type { GatewayStatus } from "../../src/gateway.js";
import type { resilienceSchema } from "../../src/resilience/options.js";
import type { RunningGateway } from "../../src/server.js";
import { type FakeGemini, type FakeGeminiOptions, startFakeGemini } from "../fakes/gemini.js";
import { type FakeOpenAI, type FakeOpenAIOptions, startFakeOpenAI } from "../fakes/openai.js";
import { parseSse, type RawSseEvent, startTestGateway } from "../helpers/gateway.js";

export type ResilienceInput = z.input<typeof resilienceSchema>;
export type Timeouts = { connectMs?: number; firstByteMs?: number; idleMs?: number };

/** Cleanups run after each test, newest first (call `runCleanups` from `afterEach`). */
const cleanups: (() => Promise<unknown>)[] = [];
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}
export async function runCleanups(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

export function geminiProvider(
  name: string,
  fake: { url: string },
  keys: string[],
  timeouts: Timeouts = {},
): ProviderConfig {
  return providerSchema.parse({ name, type: "gemini", baseUrl: fake.url, apiKeys: keys, timeouts });
}

export function openaiProvider(
  name: string,
  fake: { url: string },
  keys: string[],
  timeouts: Timeouts = {},
): ProviderConfig {
  return providerSchema.parse({ name, type: "openai", baseUrl: `${fake.url}/v1`, apiKeys: keys, timeouts });
}

export interface FaultGatewayOptions {
  providers: ProviderConfig[];
  /** `provider/model` in failover order; every requested model routes here (after `routes`). */
  targets: string[];
  /** Extra routes matched before the catch-all one. */
  routes?: { name: string; match: string[]; targets: string[] }[];
  resilience?: ResilienceInput;
  pingIntervalMs?: number;
}

/**
 * A gateway with exactly these providers and one catch-all route. Background probes stay off
 * unless `resilience.probe` turns them on (they would add upstream hits the tests count).
 */
export async function startFaultGateway(options: FaultGatewayOptions): Promise<RunningGateway> {
  const gateway = await startTestGateway({
    configure: (config) => {
      config.providers = options.providers;
      config.routes = [...(options.routes ?? []), { name: "faults", match: ["*"], targets: options.targets }];
      if (options.pingIntervalMs !== undefined) config.server.pingIntervalMs = options.pingIntervalMs;
      const resilience = options.resilience ?? {};
      Object.assign(config, {
        resilience: { ...resilience, probe: { enabled: false, ...resilience.probe } },
      });
    },
  });
  onCleanup(() => gateway.close());
  return gateway;
}

export const MODEL = "claude-sonnet-4-6";

/** A minimal Claude Code-like request. */
export function ask(text = "hi", extra: Record<string, unknown> = {}) {
  return {
    model: MODEL,
    max_tokens: 256,
    messages: [{ role: "user" as const, content: text }],
    ...extra,
  };
}

/** Generation requests the fake Gemini received (probes and model lookups excluded). */
export function geminiHits(fake: FakeGemini, key?: string): number {
  return fake.requests.filter(
    (r) =>
      (r.action === "streamGenerateContent" || r.action === "generateContent") &&
      (key === undefined || r.apiKey === key),
  ).length;
}

/** Chat completion requests the fake OpenAI received (GET /models probes excluded). */
export function openaiHits(fake: FakeOpenAI, key?: string): number {
  return fake.requests.filter(
    (r) => r.path.endsWith("/chat/completions") && (key === undefined || r.key === key),
  ).length;
}

export async function getStatus(gateway: RunningGateway): Promise<{ status: GatewayStatus; text: string }> {
  const res = await fetch(`${gateway.url}/status`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/status answered ${res.status}: ${text}`);
  return { status: JSON.parse(text) as GatewayStatus, text };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 25 ms until it returns true; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** What a client saw, reduced to one of the two acceptable outcomes (or a reason it is neither). */
export type Outcome =
  | { kind: "message"; text: string; stopReason: string | null; pings: number }
  | { kind: "error"; type: string; message: string; status: number; pings: number }
  | { kind: "invalid"; reason: string };

interface Block {
  type: string;
  text: string;
}

/**
 * Checks an SSE answer strictly: a 200 stream must either be a whole message (message_start,
 * blocks opened/closed in index order, message_delta, message_stop last) or end with exactly one
 * `event: error` and no `message_stop`. A non-200 must be an Anthropic JSON error.
 */
export function streamOutcome(status: number, text: string): Outcome {
  if (status !== 200) return errorBodyOutcome(status, text);
  let events: RawSseEvent[];
  try {
    events = parseSse(text);
  } catch (err) {
    return { kind: "invalid", reason: `unparsable SSE: ${String(err)}` };
  }
  const pings = events.filter((e) => e.event === "ping").length;
  const real = events.filter((e) => e.event !== "ping");
  for (const e of events) {
    const type = (e.data as { type?: unknown } | undefined)?.type;
    if (type !== e.event) return { kind: "invalid", reason: `event ${e.event} carries type ${String(type)}` };
  }
  const last = real.at(-1);
  if (last === undefined) return { kind: "invalid", reason: "a 200 stream without events" };
  if (last.event === "error") {
    if (real.some((e) => e.event === "message_stop"))
      return { kind: "invalid", reason: "error after message_stop" };
    if (real.filter((e) => e.event === "error").length !== 1)
      return { kind: "invalid", reason: "more than one error event" };
    const error = (last.data as { error?: { type?: unknown; message?: unknown } }).error;
    if (typeof error?.type !== "string" || typeof error.message !== "string")
      return { kind: "invalid", reason: "error event without type/message" };
    return { kind: "error", type: error.type, message: error.message, status: 200, pings };
  }
  if (last.event !== "message_stop") return { kind: "invalid", reason: `stream ended with ${last.event}` };
  if (real[0]?.event !== "message_start") return { kind: "invalid", reason: "no message_start first" };
  const blocks: Block[] = [];
  let open: number | undefined;
  let stopReason: string | null = null;
  let sawDelta = false;
  for (const e of real.slice(1, -1)) {
    const d = e.data as Record<string, unknown>;
    switch (e.event) {
      case "content_block_start": {
        if (open !== undefined || d.index !== blocks.length || sawDelta)
          return { kind: "invalid", reason: `block ${String(d.index)} opened out of order` };
        const block = d.content_block as { type: string; text?: string };
        blocks.push({ type: block.type, text: block.text ?? "" });
        open = d.index as number;
        break;
      }
      case "content_block_delta": {
        if (open === undefined || d.index !== open)
          return { kind: "invalid", reason: "delta for a block that is not open" };
        const delta = d.delta as { type: string; text?: string; thinking?: string };
        const block = blocks[open]!;
        if (delta.type === "text_delta") block.text += delta.text ?? "";
        else if (delta.type === "thinking_delta") block.text += delta.thinking ?? "";
        break;
      }
      case "content_block_stop":
        if (d.index !== open) return { kind: "invalid", reason: "stop for a block that is not open" };
        open = undefined;
        break;
      case "message_delta":
        if (open !== undefined) return { kind: "invalid", reason: "message_delta with a block open" };
        sawDelta = true;
        stopReason = ((d.delta as { stop_reason?: string | null }).stop_reason ?? null) as string | null;
        break;
      default:
        return { kind: "invalid", reason: `unexpected ${e.event} inside a message` };
    }
  }
  if (!sawDelta) return { kind: "invalid", reason: "message_stop without message_delta" };
  if (stopReason === null) return { kind: "invalid", reason: "message without a stop_reason" };
  const textOut = blocks
    .filter((b) => b.type === "text")
    .map((b) => b.text)
    .join("");
  return { kind: "message", text: textOut, stopReason, pings };
}

/** A non-streaming answer: a Message JSON on 200, an Anthropic error JSON otherwise. */
export function jsonOutcome(status: number, text: string): Outcome {
  if (status !== 200) return errorBodyOutcome(status, text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: `200 with a non-JSON body: ${text.slice(0, 80)}` };
  }
  const m = body as { type?: unknown; role?: unknown; content?: unknown; stop_reason?: unknown };
  if (m.type !== "message" || m.role !== "assistant" || !Array.isArray(m.content))
    return { kind: "invalid", reason: `200 that is not a message: ${text.slice(0, 80)}` };
  if (typeof m.stop_reason !== "string") return { kind: "invalid", reason: "message without stop_reason" };
  const textOut = (m.content as { type: string; text?: string }[])
    .filter((b) => b.type === "text")
    .map((b) => b.text ?? "")
    .join("");
  return { kind: "message", text: textOut, stopReason: m.stop_reason, pings: 0 };
}

function errorBodyOutcome(status: number, text: string): Outcome {
  if (status < 400 || status > 599) return { kind: "invalid", reason: `HTTP ${status}` };
  try {
    const body = JSON.parse(text) as { type?: unknown; error?: { type?: unknown; message?: unknown } };
    if (
      body.type !== "error" ||
      typeof body.error?.type !== "string" ||
      typeof body.error.message !== "string"
    )
      return {
        kind: "invalid",
        reason: `HTTP ${status} without an Anthropic error body: ${text.slice(0, 80)}`,
      };
    return { kind: "error", type: body.error.type, message: body.error.message, status, pings: 0 };
  } catch {
    return { kind: "invalid", reason: `HTTP ${status} with a non-JSON body: ${text.slice(0, 80)}` };
  }
}

/** Event names without pings. */
export function eventNames(events: RawSseEvent[]): string[] {
  return events.map((e) => e.event).filter((n) => n !== "ping");
}

/** A streaming request whose answer is left open: resolves once the 200 arrived. */
export async function openStream(
  gateway: RunningGateway,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; firstBytes: string; abort: () => void }> {
  const controller = new AbortController();
  const res = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  const first = await reader.read();
  const firstBytes = first.value === undefined ? "" : Buffer.from(first.value).toString("utf8");
  const abort = () => {
    controller.abort();
    reader.cancel().catch(() => {});
  };
  onCleanup(async () => abort());
  return { status: res.status, firstBytes, abort };
}

/** Two Gemini keys the fault tests use (never real keys). */
export const K1 = "gem-key-one-0001";
export const K2 = "gem-key-two-0002";

/** A fake Gemini closed after the test; hangs and stalls end by themselves within 5 s. */
export async function gemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const fake = await startFakeGemini({ hangMaxMs: 5_000, ...options });
  onCleanup(() => fake.close());
  return fake;
}

/** A fake OpenAI-compatible server closed after the test; stalls end within 5 s. */
export async function openai(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI({ maxStallMs: 5_000, ...options });
  onCleanup(() => fake.close());
  return fake;
}
