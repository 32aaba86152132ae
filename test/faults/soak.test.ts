/**
 * Soak (issue 4): 5,000 requests or 60 s, whichever comes first, 32 at a time, through one
 * gateway in front of three fake upstreams (two Gemini with two keys each, one OpenAI) that
 * inject a seeded random mix of every fault of this suite. Every request must end in a complete
 * valid message or a clean Anthropic error; none may hang; no success may be truncated; the
 * gateway's heap (after GC) must stay flat and every in-flight slot must be released.
 * The figures are printed for the issue note.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import {
  googleError,
  internal,
  promptTooLong,
  rateLimited,
  type ScriptedResponse,
  startFakeGemini,
  textChunks,
  unavailable,
} from "../fakes/gemini.js";
import { sseFrame } from "../fakes/http-stream.js";
import {
  endAfter,
  errorAfter,
  type FakeOpenAIScript,
  malformedAfter,
  rateLimited as openaiRateLimited,
  reset as openaiReset,
  serverError,
  stallAfter,
  startFakeOpenAI,
  textStream,
} from "../fakes/openai.js";
import { seededRandom } from "../helpers/seeded-random.js";
import {
  geminiProvider,
  getStatus,
  jsonOutcome,
  MODEL,
  type Outcome,
  onCleanup,
  openaiProvider,
  runCleanups,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

const MAX_REQUESTS = 5_000;
const MAX_RUN_MS = 60_000;
const CONCURRENCY = 32;
/** A request still unanswered after this long counts as hung. */
const CLIENT_TIMEOUT_MS = 20_000;
const GC_SAMPLE_EVERY = 200;

/** Picks a name by weight. */
function pick<T extends string>(random: () => number, weights: Record<T, number>): T {
  const entries = Object.entries(weights) as [T, number][];
  const total = entries.reduce((n, [, w]) => n + w, 0);
  let r = random() * total;
  for (const [name, w] of entries) {
    r -= w;
    if (r < 0) return name;
  }
  return entries[entries.length - 1]![0];
}

const LOREM = "Voilà — the gateway streamed this answer in full, with ünïcödé and 🙂 emoji intact. ".repeat(
  3,
);
const geminiText = (n: string) => `Answer for soak-${n}: ${LOREM}`;
const OPENAI_TEXT = `OpenAI fallback answer: ${LOREM}`;

/**
 * Per-attempt weights (percent). About one attempt in five fails; rate limits are rare because a
 * 429 rests its key for at least 1 s, which at this request rate would otherwise cool every key
 * at once and turn the soak into a test of load shedding.
 */
const GEMINI_FAULTS = {
  ok: 80,
  slowFirstByte: 3,
  rateLimited: 0.3,
  internal: 2,
  unavailable: 2,
  reset: 2,
  hang: 1,
  cutAfterContent: 2,
  stall: 1,
  malformedBefore: 2,
  malformedAfter: 1,
  omitFinish: 1.5,
  emptyBody: 1.5,
  promptTooLong: 0.7,
} as const;

const OPENAI_FAULTS = {
  ok: 85,
  unavailable: 3,
  rateLimited: 0.3,
  reset: 3,
  truncated: 2,
  malformedAfter: 2,
  stall: 1,
  errorAfter: 2,
} as const;

function geminiFault(random: () => number, counts: Map<string, number>, body: unknown): ScriptedResponse {
  const nonce = /soak-(\d+)/.exec(JSON.stringify(body))?.[1] ?? "?";
  const text = geminiText(nonce);
  const parts = 1 + Math.floor(random() * 4);
  const fault = pick(random, GEMINI_FAULTS);
  counts.set(fault, (counts.get(fault) ?? 0) + 1);
  const chunk = (t: string) => ({
    candidates: [{ content: { role: "model", parts: [{ text: t }] }, index: 0 }],
  });
  switch (fault) {
    case "ok":
      return { chunks: textChunks(text, { parts }), chunkDelayMs: Math.floor(random() * 4) };
    case "slowFirstByte":
      return { chunks: textChunks(text, { parts }), firstByteDelayMs: 100 + Math.floor(random() * 200) };
    case "rateLimited":
      return rateLimited(1);
    case "internal":
      return internal();
    case "unavailable":
      return unavailable();
    case "reset":
      return { reset: true };
    case "hang":
      return { hang: true };
    case "cutAfterContent":
      return { chunks: textChunks(text, { parts: 3 }), cutAfterChunks: 1 };
    case "stall":
      return { chunks: textChunks(text, { parts: 3 }), stallAfterChunks: 1 };
    case "malformedBefore":
      return { status: 200, rawSse: 'data: {"candidates": [{"content": \r\n\r\n' };
    case "malformedAfter":
      return { status: 200, rawSse: `${sseFrame(chunk(text.slice(0, 20)))}data: {broken json\r\n\r\n` };
    case "omitFinish":
      return { chunks: textChunks(text, { parts: 2 }), omitFinish: true };
    case "emptyBody":
      return { status: 200, rawSse: "" };
    case "promptTooLong":
      return random() < 0.5
        ? promptTooLong(2_000_000, 1_048_576)
        : googleError(400, "INVALID_ARGUMENT", "bad");
    default: {
      const never: never = fault;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
}

function openaiFault(random: () => number, counts: Map<string, number>): FakeOpenAIScript {
  const fault = pick(random, OPENAI_FAULTS);
  counts.set(fault, (counts.get(fault) ?? 0) + 1);
  const ok = textStream(OPENAI_TEXT);
  switch (fault) {
    case "ok":
      return ok;
    case "unavailable":
      return serverError(503);
    case "rateLimited":
      return openaiRateLimited(1);
    case "reset":
      return openaiReset();
    case "truncated":
      return endAfter(ok, 2);
    case "malformedAfter":
      return malformedAfter(ok, 2);
    case "stall":
      return stallAfter(ok, 2);
    case "errorAfter":
      return errorAfter(ok, 2);
    default: {
      const never: never = fault;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
}

/** `global.gc` when the process has it, else the same function unlocked at run time. */
function gcFunction(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

describe("soak", () => {
  it("5,000 requests under a random fault mix: complete messages or clean errors only", {
    timeout: 120_000,
  }, async () => {
    const gc = gcFunction();
    const geminiCounts = new Map<string, number>();
    const openaiCounts = new Map<string, number>();
    const attemptsByKey = new Map<string, number>();
    const countKey = (key: string | undefined) =>
      attemptsByKey.set(key ?? "?", (attemptsByKey.get(key ?? "?") ?? 0) + 1);

    const fakeA = await startFakeGemini({
      hangMaxMs: 3_000,
      handler: (() => {
        const random = seededRandom(0xc0ffee);
        return (req) => {
          countKey(`gemA:${req.apiKey}`);
          return geminiFault(random, geminiCounts, req.body);
        };
      })(),
    });
    const fakeB = await startFakeGemini({
      hangMaxMs: 3_000,
      handler: (() => {
        const random = seededRandom(0xbeef);
        return (req) => {
          countKey(`gemB:${req.apiKey}`);
          return geminiFault(random, geminiCounts, req.body);
        };
      })(),
    });
    const oaiRandom = seededRandom(0xface);
    const oai = await startFakeOpenAI({
      maxStallMs: 3_000,
      defaultScript: () => {
        countKey("oai:sk-soak-o1");
        return openaiFault(oaiRandom, openaiCounts);
      },
    });
    onCleanup(() => fakeA.close());
    onCleanup(() => fakeB.close());
    onCleanup(() => oai.close());

    const timeouts = { firstByteMs: 400, idleMs: 400 };
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("gemA", fakeA, ["soak-a1-xxxxxxxx", "soak-a2-xxxxxxxx"], timeouts),
        geminiProvider("gemB", fakeB, ["soak-b1-xxxxxxxx", "soak-b2-xxxxxxxx"], timeouts),
        openaiProvider("oai", oai, ["sk-soak-o1"], timeouts),
      ],
      // Sonnet requests try Gemini A first, Haiku requests OpenAI first: every upstream is primary.
      routes: [
        {
          name: "small",
          match: ["*haiku*"],
          targets: ["oai/gpt-fake", "gemB/gemini-2.5-flash", "gemA/gemini-2.5-pro"],
        },
      ],
      targets: ["gemA/gemini-2.5-pro", "gemB/gemini-2.5-flash", "oai/gpt-fake"],
      pingIntervalMs: 250,
      resilience: {
        retryBaseMs: 5,
        transientRetries: 1,
        attemptBudgetMs: 8_000,
        totalTimeoutMs: 15_000,
        breaker: {
          consecutiveFailures: 5,
          failureRatio: 0.6,
          minRequests: 20,
          windowMs: 10_000,
          openMs: 300,
          maxOpenMs: 1_500,
        },
      },
    });

    const clientRandom = seededRandom(0x5eed);
    const outcomes = new Map<string, number>();
    const tally = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const latencies: number[] = [];
    const heapSamples: number[] = [];
    const rssSamples: number[] = [];
    const problems: string[] = [];
    let hung = 0;
    let truncated = 0;
    let ok = 0;
    let sent = 0;
    let done = 0;
    const started = Date.now();
    const deadline = started + MAX_RUN_MS;

    async function one(n: number): Promise<void> {
      const stream = clientRandom() < 0.5;
      const session = clientRandom() < 0.3 ? `soak-session-${Math.floor(clientRandom() * 50)}` : undefined;
      const body = {
        model: clientRandom() < 0.5 ? MODEL : "claude-haiku-4-5",
        max_tokens: 512,
        stream,
        messages: [{ role: "user", content: `soak-${n} please answer` }],
      };
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        const res = await fetch(`${gateway.url}/v1/messages`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(session === undefined ? {} : { "x-claude-code-session-id": session }),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
        });
        const text = await res.text();
        outcome = stream ? streamOutcome(res.status, text) : jsonOutcome(res.status, text);
      } catch (err) {
        if ((err as Error).name === "TimeoutError") {
          hung++;
          tally("hung");
          return;
        }
        outcome = { kind: "invalid", reason: `client error: ${String(err)}` };
      }
      latencies.push(performance.now() - t0);
      if (outcome.kind === "message") {
        if (outcome.text === geminiText(String(n)) || outcome.text === OPENAI_TEXT) {
          ok++;
          tally(`ok:${stream ? "stream" : "json"}`);
        } else {
          truncated++;
          tally("truncated");
          if (problems.length < 10)
            problems.push(`#${n} truncated/foreign text: ${outcome.text.slice(0, 80)}`);
        }
      } else if (outcome.kind === "error") {
        tally(`error:${outcome.status}:${outcome.type}`);
      } else {
        tally("invalid");
        if (problems.length < 10) problems.push(`#${n} ${stream ? "stream" : "json"}: ${outcome.reason}`);
      }
    }

    async function worker(): Promise<void> {
      for (let guard = 0; guard < MAX_REQUESTS; guard++) {
        if (sent >= MAX_REQUESTS || Date.now() >= deadline) return;
        const n = sent++;
        await one(n);
        done++;
        if (done % GC_SAMPLE_EVERY === 0) {
          // Keep the fakes' request logs from growing: memory must reflect the gateway only.
          fakeA.reset();
          fakeB.reset();
          oai.requests.length = 0;
          gc();
          heapSamples.push(process.memoryUsage().heapUsed);
          rssSamples.push(process.memoryUsage().rss);
        }
      }
    }

    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    const elapsedMs = Date.now() - started;

    // Afterwards: the gateway is healthy and released every in-flight slot.
    const { status } = await getStatus(gateway);
    const inFlight = status.providers.map((p) => p.inFlight + p.keys.reduce((s, k) => s + k.inFlight, 0));

    const sorted = [...latencies].sort((a, b) => a - b);
    const fifth = Math.max(1, Math.floor(heapSamples.length / 5));
    const heapFirst = median(heapSamples.slice(0, fifth));
    const heapLast = median(heapSamples.slice(-fifth));
    const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
    const figures = {
      requests: done,
      elapsedMs,
      ok,
      hung,
      truncated,
      invalid: outcomes.get("invalid") ?? 0,
      outcomes: Object.fromEntries([...outcomes.entries()].sort()),
      latencyMs: {
        p50: Math.round(percentile(sorted, 0.5)),
        p90: Math.round(percentile(sorted, 0.9)),
        p99: Math.round(percentile(sorted, 0.99)),
        max: Math.round(sorted.at(-1) ?? 0),
      },
      heapMB: {
        firstFifthMedian: mb(heapFirst),
        lastFifthMedian: mb(heapLast),
        max: mb(Math.max(...heapSamples)),
        samples: heapSamples.length,
      },
      rssMB: { first: mb(rssSamples[0] ?? 0), last: mb(rssSamples.at(-1) ?? 0) },
      upstreamAttempts: Object.fromEntries([...attemptsByKey.entries()].sort()),
      geminiFaults: Object.fromEntries([...geminiCounts.entries()].sort()),
      openaiFaults: Object.fromEntries([...openaiCounts.entries()].sort()),
      breakers: status.targets.map((t) => `${t.slot}:${t.breaker}:${t.requests}req/${t.failures}fail`),
      problems,
    };
    console.log(`SOAK FIGURES ${JSON.stringify(figures, null, 2)}`);

    expect(done).toBeGreaterThanOrEqual(Math.min(MAX_REQUESTS, 1_000));
    expect(problems).toEqual([]);
    expect(hung).toBe(0);
    expect(truncated).toBe(0);
    expect(figures.invalid).toBe(0);
    // Failover absorbs most faults: only post-commit failures and 400s reach the client.
    expect(ok / done).toBeGreaterThan(0.6);
    // Every upstream carried traffic and saw faults.
    expect(attemptsByKey.size).toBe(5);
    expect(inFlight).toEqual([0, 0, 0]);
    // Flat memory: the heap after GC does not grow between the first and the last fifth.
    expect(heapSamples.length).toBeGreaterThanOrEqual(5);
    expect(heapLast - heapFirst).toBeLessThan(16 * 1024 * 1024);
  });
});
