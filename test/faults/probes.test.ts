/**
 * Background recovery probes (issue 4): a successful probe lets an open breaker go half-open
 * early (a real request is still the trial that closes it, and once a trial failed probes stop
 * shortening it) and restores a key the upstream had rejected once it is accepted again;
 * start-up warm-up disables a bad key before any user request. Probes answer 200 here, as
 * Google's `models.get` does, even while generation fails.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedResponse, startFakeGemini, unavailable } from "../fakes/gemini.js";
import { startFakeOpenAI, textStream } from "../fakes/openai.js";
import { postRaw, sdkClient } from "../helpers/gateway.js";
import {
  ask,
  geminiHits,
  geminiProvider,
  getStatus,
  onCleanup,
  openaiProvider,
  runCleanups,
  sleep,
  startFaultGateway,
  waitFor,
} from "./helpers.js";

afterEach(runCleanups);

const GOOD = "AIzaFakeGoodKey-0123456789abcdefGOOD";
const BAD = "AIzaFakeBadKey-0123456789abcdefBAD9";
const OAI = "sk-fake-openai-key-0123456789abcdefWXYZ";

/**
 * A Gemini target (answering as `handler` says) with an OpenAI backup, breakers that open after
 * two failures for a minute (only a probe can shorten that within a test), probes every
 * `intervalMs`; `slot()` is the Gemini slot's status.
 */
async function geminiWithBackup(handler: () => ScriptedResponse | undefined, intervalMs: number) {
  const fake = await startFakeGemini({ handler });
  const oai = await startFakeOpenAI({ defaultScript: () => textStream("backup") });
  onCleanup(() => fake.close());
  onCleanup(() => oai.close());
  const gateway = await startFaultGateway({
    providers: [geminiProvider("gem", fake, [GOOD]), openaiProvider("oai", oai, [OAI])],
    targets: ["gem/gemini-2.5-pro", "oai/gpt-fake"],
    resilience: {
      transientRetries: 0,
      breaker: { consecutiveFailures: 2, openMs: 60_000 },
      probe: { enabled: true, intervalMs, warmup: false, timeoutMs: 2_000 },
    },
  });
  const slot = async () =>
    (await getStatus(gateway)).status.targets.find((t) => t.slot === "gem/gemini-2.5-pro#1");
  return { fake, gateway, slot };
}

describe("background recovery probes", () => {
  it("a successful probe lets an open breaker try one real request early; its success closes it", async () => {
    let failing = true;
    const { fake, gateway, slot } = await geminiWithBackup(() => (failing ? unavailable() : undefined), 150);
    const client = sdkClient(gateway);
    await client.messages.create(ask());
    await client.messages.create(ask());
    expect((await slot())?.breaker).not.toBe("closed");
    expect(geminiHits(fake)).toBe(2);

    failing = false;
    await waitFor(async () => (await slot())?.breaker === "half_open", 3_000, "the probe to half-open it");
    // The probe used the cheap model lookup, not a generation, and did not close the breaker.
    expect(fake.requests.some((r) => r.action === "getModel" && r.apiKey === GOOD)).toBe(true);
    expect(geminiHits(fake)).toBe(2);
    await sleep(400);
    expect((await slot())?.breaker).toBe("half_open");
    // The next real request is the trial; its success closes the breaker.
    const res = await postRaw(gateway, { ...ask(), stream: true });
    expect(res.headers.get("x-ccgate-target")).toBe("gem/gemini-2.5-pro");
    expect(geminiHits(fake)).toBe(3);
    expect((await slot())?.breaker).toBe("closed");
  });

  it("generation failing while metadata answers: probes never close the breaker, and stop shortening it once a trial failed", async () => {
    // Gemini's common failure: generation overloaded, `models.get` fine.
    const { fake, gateway, slot } = await geminiWithBackup(() => unavailable(), 100);
    const target = async () =>
      (await postRaw(gateway, { ...ask(), stream: true })).headers.get("x-ccgate-target");
    expect(await target()).toBe("oai/gpt-fake");
    expect(await target()).toBe("oai/gpt-fake");
    expect(geminiHits(fake)).toBe(2);

    await waitFor(async () => (await slot())?.breaker === "half_open", 3_000, "the probe to half-open it");
    // One request is the trial; it fails and the backup serves it.
    expect(await target()).toBe("oai/gpt-fake");
    expect(geminiHits(fake)).toBe(3);
    expect((await slot())?.breaker).toBe("open");

    // Many probe rounds later (all answering 200) it is still open and gets no traffic.
    const probesBefore = fake.requests.filter((r) => r.action === "getModel").length;
    await waitFor(
      () => fake.requests.filter((r) => r.action === "getModel").length >= probesBefore + 4,
      3_000,
      "more probe rounds",
    );
    expect((await slot())?.breaker).toBe("open");
    for (let i = 0; i < 4; i++) expect(await target()).toBe("oai/gpt-fake");
    expect(geminiHits(fake)).toBe(3);
  });

  it("a rejected (401) key is disabled, then restored once the upstream accepts it again", async () => {
    const accepted = [GOOD];
    const fake = await startFakeGemini({ validKeys: accepted });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [BAD, GOOD])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: {
        authCooldownMs: 60_000,
        probe: { enabled: true, intervalMs: 150, warmup: false, timeoutMs: 2_000 },
      },
    });
    const client = sdkClient(gateway);
    // Rotation puts the bad key first: rejected, the good key serves.
    const first = await client.messages.create(ask());
    expect(first.content[0]).toMatchObject({ type: "text" });
    expect(geminiHits(fake, BAD)).toBe(1);
    const keyState = async () => (await getStatus(gateway)).status.providers[0]?.keys[0];
    expect(await keyState()).toMatchObject({ id: "gem#1", state: "disabled" });

    // While disabled (and still rejected by probes) it gets no user traffic.
    for (let i = 0; i < 4; i++) await client.messages.create(ask());
    expect(geminiHits(fake, BAD)).toBe(1);
    expect((await keyState())?.state).toBe("disabled");

    accepted.push(BAD);
    await waitFor(async () => (await keyState())?.state === "ok", 3_000, "the probe to restore the key");
    for (let i = 0; i < 2; i++) await client.messages.create(ask());
    expect(geminiHits(fake, BAD)).toBe(2);
  });

  it("start-up warm-up disables a rejected key before any user request", async () => {
    const fake = await startFakeGemini({ validKeys: [GOOD] });
    onCleanup(() => fake.close());
    const gateway = await startFaultGateway({
      providers: [geminiProvider("gem", fake, [BAD, GOOD])],
      targets: ["gem/gemini-2.5-pro"],
      resilience: { probe: { enabled: true, intervalMs: 60_000, warmup: true, timeoutMs: 2_000 } },
    });
    await waitFor(
      async () => (await getStatus(gateway)).status.providers[0]?.keys[0]?.state === "disabled",
      3_000,
      "warm-up to disable the bad key",
    );
    for (let i = 0; i < 3; i++) await sdkClient(gateway).messages.create(ask());
    expect(geminiHits(fake, BAD)).toBe(0);
    expect(geminiHits(fake, GOOD)).toBe(3);
  });
});

describe("probe hygiene", () => {
  // Guards a fixed bug: a probe closes a 2xx answer whose body it never read, and the transport
  // once destroyed that body in a way that raised an uncaught RequestAbortedError, which killed
  // `ccgate start` right after its start-up probes.
  it("a successful probe leaves no uncaught error behind", async () => {
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", record);
    try {
      const fake = await startFakeGemini();
      onCleanup(() => fake.close());
      const gateway = await startFaultGateway({
        providers: [geminiProvider("gem", fake, [GOOD])],
        targets: ["gem/gemini-2.5-pro"],
        resilience: { probe: { enabled: true, intervalMs: 60_000, warmup: true, timeoutMs: 2_000 } },
      });
      await waitFor(() => fake.requests.some((r) => r.action === "getModel"), 2_000, "the warm-up probe");
      await sleep(200);
      expect((await postRaw(gateway, ask())).status).toBe(200);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", record);
    }
  });
});
