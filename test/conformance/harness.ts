/**
 * The contract every provider harness of the conformance suite implements (design.md §5: "one
 * conformance suite run against every provider adapter").
 *
 * A harness owns one fake upstream that reproduces its provider's wire format and strictness. The
 * suite scripts the fake through provider-neutral verbs (text, tool calls, thinking, stop reasons,
 * usage, HTTP errors, a cut) and reads back, in provider-neutral terms, what the fake received
 * (tool calls and results of the last turn, images, echoed thinking), so one set of assertions
 * covers every adapter.
 */
import type { Config, ProviderConfig } from "../../src/config/schema.js";

export type StopKind = "max_tokens" | "refusal";
export type ErrorKind = "rate_limit" | "server" | "bad_request" | "auth";

/** A tool call the fake is scripted to make; `id` is the upstream's own call id. */
export interface ScriptedCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/** Token counts as the upstream reports them: `prompt` includes the `cached` part. */
export interface ScriptedUsage {
  prompt: number;
  cached: number;
  output: number;
}

/** What a generation request that reached the fake looked like, in neutral terms. */
export interface Received {
  body: unknown;
  /** The upstream was asked for a stream (the gateway always streams upstream, design.md §1). */
  streaming: boolean;
  /** The upstream model the request named. */
  model: string | undefined;
  /** The credential presented (API key or bearer token). */
  credential: string | undefined;
}

/** A tool call found in the last assistant turn the fake received. */
export interface SeenCall {
  id: string | undefined;
  name: string;
  args: unknown;
}

/** A tool result found in the last user turn, in the order the fake received it. */
export interface SeenResult {
  id: string | undefined;
  output: string;
}

/** An earlier thinking block the fake received back in the history. */
export interface SeenThinking {
  text: string;
  signature: string | undefined;
}

export interface ImageSpec {
  mediaType: string;
  /** Base64 data. */
  data: string;
}

export interface ProviderHarness {
  readonly name: string;
  /** Set when the whole adapter cannot run yet; the suite shows the reason as a skipped test. */
  readonly skip?: string;
  /** The upstream model every route points at. */
  readonly upstreamModel: string;
  /** The key (or token) the fake is expected to receive. */
  readonly credential: string;
  /**
   * How an earlier `thinking` block reaches the upstream on the next turn: `verbatim` (text and
   * signature byte-identical), `text` (the thought text, signature translated), `dropped`.
   */
  readonly thinkingEcho: "verbatim" | "text" | "dropped";
  /** The signature the fake puts on thinking, when the client must receive it unchanged (relays). */
  readonly upstreamThinkingSignature?: string;
  /**
   * The upstream reports prompt usage before the content (so `message_start` can carry it);
   * false when it comes only at the end (OpenAI's final usage chunk, protocol.md G.2).
   */
  readonly usageAtStart: boolean;
  /** Stop reasons the provider has no way to express, with the reason (the case is skipped). */
  readonly inexpressible?: Partial<Record<StopKind, string>>;

  start(): Promise<void>;
  close(): Promise<void>;
  /** Forget received requests (scripts are consumed by each case). */
  reset(): void;
  /** A provider entry named `name` pointing at the fake with one key. */
  provider(name: string): ProviderConfig;

  // Scripting: each call queues one answer.
  text(parts: string[]): void;
  toolCall(call: ScriptedCall): void;
  parallelToolCalls(calls: ScriptedCall[]): void;
  thinkingThenText(thought: string, text: string): void;
  stopReason(kind: StopKind, text: string): void;
  usage(usage: ScriptedUsage, text: string): void;
  /** Queues an HTTP error; returns the message text the upstream put in it. */
  httpError(kind: ErrorKind): string;
  /** Streams `parts[0]` (content reaches the client), then the connection dies. */
  midStreamCut(parts: string[]): void;

  // Inspection.
  /** Generation requests received since the last reset, in order. */
  received(): Received[];
  imageArrived(body: unknown, image: ImageSpec): boolean;
  toolCallsIn(body: unknown): SeenCall[];
  toolResultsIn(body: unknown): SeenResult[];
  thinkingIn(body: unknown): SeenThinking[];
}

/**
 * Provider entries, one per failure case so a cooled or disabled key in one case never leaks
 * into another (resilience state is per provider/model/key): `main` serves ordinary cases.
 */
export const PROVIDER_NAMES = ["main", "fallback", "rl", "bad", "auth", "srv", "cut"] as const;

/** Requested model names that select a failure case's provider. */
export const MODELS = {
  main: "conf-main",
  rateLimit: "conf-rl",
  badRequest: "conf-bad",
  auth: "conf-auth",
  server: "conf-srv",
  cut: "conf-cut",
} as const;

/** Gateway config for a harness: its providers, routes, and a fast transient-retry backoff. */
export function configureFor(h: ProviderHarness): (config: Config) => void {
  return (config) => {
    config.providers = PROVIDER_NAMES.map((name) => h.provider(name));
    const target = (name: (typeof PROVIDER_NAMES)[number]) => `${name}/${h.upstreamModel}`;
    config.routes = [
      { name: "rl", match: [MODELS.rateLimit], targets: [target("rl")] },
      // A fallback exists, so passing a 400 straight through proves there was no failover.
      { name: "bad", match: [MODELS.badRequest], targets: [target("bad"), target("fallback")] },
      { name: "auth", match: [MODELS.auth], targets: [target("auth")] },
      { name: "srv", match: [MODELS.server], targets: [target("srv")] },
      { name: "cut", match: [MODELS.cut], targets: [target("cut")] },
      { name: "main", match: ["*"], targets: [target("main")] },
    ];
    // startTestGateway already turned probes off; keep that and make transient retries quick.
    Object.assign(config, { resilience: { probe: { enabled: false }, retryBaseMs: 5 } });
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function records(value: unknown): Record<string, unknown>[] {
  return asArray(value).filter(isRecord);
}

/** The last element matching `pick`. */
export function lastWhere<T>(items: readonly T[], pick: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as T;
    if (pick(item)) return item;
  }
  return undefined;
}

/** A 1×1 transparent PNG. */
export const TINY_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
