/**
 * Failover across two providers and `GET /status` (issue 4): a failing Gemini hands over to a
 * fake OpenAI; `/status` shows breakers, cooldowns and masked keys — never a secret.
 * (Background recovery probes: probes.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { rateLimited, startFakeGemini, unavailable } from "../fakes/gemini.js";
import { startFakeOpenAI, textStream } from "../fakes/openai.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";
import {
  ask,
  geminiHits,
  geminiProvider,
  getStatus,
  onCleanup,
  openaiHits,
  openaiProvider,
  runCleanups,
  startFaultGateway,
  streamOutcome,
} from "./helpers.js";

afterEach(runCleanups);

const GOOD = "AIzaFakeGoodKey-0123456789abcdefGOOD";
const BAD = "AIzaFakeBadKey-0123456789abcdefBAD9";
const OAI = "sk-fake-openai-key-0123456789abcdefWXYZ";

describe("failover across two providers", () => {
  it("Gemini answering 503 → the fake OpenAI serves, stream and non-stream", async () => {
    const fake = await startFakeGemini({ handler: () => unavailable() });
    const oai = await startFakeOpenAI({ defaultScript: () => textStream("OpenAI took over") });
    onCleanup(() => fake.close());
    onCleanup(() => oai.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [GOOD]), openaiProvider("oai", oai, [OAI])],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: { retryBaseMs: 10, transientRetries: 1 },
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(streamOutcome(res.status, res.text)).toMatchObject({ kind: "message", text: "OpenAI took over" });
    expect(res.headers.get("x-ccgate-target")).toBe("oai/gpt-fake");
    const msg = await sdkClient(gateway).messages.create(ask());
    expect(msg.content).toEqual([{ type: "text", text: "OpenAI took over" }]);
    expect(msg.model).toBe("claude-sonnet-4-6");
    expect(geminiHits(fake)).toBe(4); // 2 requests × (attempt + one retry)
    expect(openaiHits(oai, OAI)).toBe(2);
    // The request OpenAI got is a Chat Completions body for the target's model.
    expect(oai.requests.at(-1)?.body).toMatchObject({ model: "gpt-fake" });
  });
});

describe("GET /status", () => {
  it("shows breaker state, cooldowns and masked keys, never a full key", async () => {
    const fake = await startFakeGemini({
      handler: (req) => (req.apiKey === BAD ? rateLimited(30) : unavailable()),
    });
    const oai = await startFakeOpenAI({ defaultScript: () => textStream("backup") });
    onCleanup(() => fake.close());
    onCleanup(() => oai.close());
    const gateway = await startFaultGateway({
      providers: [
        geminiProvider("gem", fake, [BAD, GOOD]),
        {
          ...openaiProvider("oai", oai, []),
          apiKeys: [{ name: "team-openai", key: OAI }],
        },
      ],
      targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
      resilience: { transientRetries: 0, breaker: { consecutiveFailures: 1, openMs: 60_000 } },
    });
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(res.headers.get("x-ccgate-target")).toBe("oai/gpt-fake");

    const before = Date.now();
    const { status, text } = await getStatus(gateway);
    for (const secret of [GOOD, BAD, OAI]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 12));
    }
    const gem = status.providers.find((p) => p.name === "gem")!;
    expect(gem.keys.map((k) => k.label)).toEqual([`…${BAD.slice(-4)}`, `…${GOOD.slice(-4)}`]);
    expect(status.providers.find((p) => p.name === "oai")?.keys[0]?.label).toBe("team-openai");

    const cooling = status.targets.find((t) => t.slot === "gem/gemini-2.5-pro#1")!;
    expect(cooling).toMatchObject({ state: "cooling", breaker: "closed", key: `…${BAD.slice(-4)}` });
    const until = Date.parse(cooling.cooldownUntil!);
    expect(until).toBeGreaterThan(before + 25_000);
    expect(until).toBeLessThanOrEqual(before + 31_000);
    expect(cooling.recentErrors[0]).toMatchObject({ class: "rate_limit", status: 429 });

    const open = status.targets.find((t) => t.slot === "gem/gemini-2.5-pro#2")!;
    expect(open).toMatchObject({ state: "open", breaker: "open", failures: 1, requests: 1 });
    expect(open.recentErrors[0]).toMatchObject({ class: "transient", code: "UPSTREAM_OVERLOADED" });

    const served = status.targets.find((t) => t.slot === "oai/gpt-fake#1")!;
    expect(served).toMatchObject({ state: "ok", breaker: "closed", requests: 1, failures: 0 });
    expect(served.latencyMs?.p50).toBeGreaterThanOrEqual(0);
  });
});
