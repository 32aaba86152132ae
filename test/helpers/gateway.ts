/**
 * Test harness: a real gateway on 127.0.0.1:0 in front of fake upstreams, and the official SDK
 * as its client.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { type RunningGateway, startGateway } from "../../src/server.js";

export interface TestGatewayOptions {
  env?: Record<string, string>;
  /** Edit the loaded config before start (providers, routes, ping interval...). */
  configure?: (config: Config) => void;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<RunningGateway> {
  const cwd = mkdtempSync(join(tmpdir(), "ccgate-test-"));
  const { config } = loadConfig({ cwd, env: { CCGATE_PORT: "0", ...options.env } });
  config.server.logLevel = process.env.CCGATE_TEST_LOG === "1" ? "debug" : "silent";
  // Background probes and warm-up would add upstream hits the tests count; tests that exercise
  // them enable them explicitly.
  config.resilience.probe.enabled = false;
  // Tests keep their request log in memory, never in the user's state directory.
  config.telemetry.requestLog.path = ":memory:";
  options.configure?.(config);
  return startGateway(config);
}

/** The official SDK pointed at the gateway; no SDK retries so tests see each answer. */
export function sdkClient(gateway: RunningGateway, apiKey = "test-client-key"): Anthropic {
  return new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0, timeout: 60_000 });
}

export interface RawSseEvent {
  event: string;
  data: unknown;
}

/** POST a body and read the raw SSE frames (event names included) — what a socket sees. */
export async function postRaw(
  gateway: RunningGateway,
  body: unknown,
  headers: Record<string, string> = {},
  path = "/v1/messages",
): Promise<{ status: number; headers: Headers; text: string; events: RawSseEvent[] }> {
  const res = await fetch(gateway.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, events: parseSse(text) };
}

export function parseSse(text: string): RawSseEvent[] {
  const events: RawSseEvent[] = [];
  for (const frame of text.split("\n\n")) {
    if (frame.trim() === "") continue;
    let event = "";
    let data = "";
    for (const line of frame.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    events.push({ event, data: data === "" ? undefined : JSON.parse(data) });
  }
  return events;
}
