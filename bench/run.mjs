/**
 * `npm run bench`: the gateway's added latency and throughput against a zero-delay fake Gemini,
 * compared with calling the fake directly and with a bare pass-through proxy.
 *
 * Processes: this one generates load (undici); the fake, the bare proxy and the gateway each run
 * in their own child on 127.0.0.1. Cells: {small non-stream, small stream, Claude-Code-size
 * stream} × {c=1, c=64} × {direct, proxy, gateway}, each warmed up, then bounded by a request
 * count and a time cap. Prints a table, writes bench/results/latest.json.
 *
 * Exit: 0 = measured (goals may be MISS), 1 = invalid answers or the gateway did not start,
 * 2 = the harness itself broke. Flags: --quick (small counts, for checking the harness),
 * --cpu-prof (V8 CPU profile of the gateway child into bench/results/, for finding hot spots).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLAUDE_CODE_MODEL, chunkCountOf, SMALL_MODEL } from "./answer.mjs";
import { startChild, stats, stopChildren } from "./children.mjs";
import { toGeminiBody } from "./gemini-body.mjs";
import { createClient, runCell, summarize } from "./load.mjs";
import { derive, render } from "./report.mjs";
import { scenarios, targetsFor } from "./targets.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, "results", "latest.json");
/** Hard ceiling on the whole run: a stuck harness must not hang CI. */
const RUN_DEADLINE_MS = 6 * 60_000;

const QUICK = process.argv.includes("--quick");
const CPU_PROF = process.argv.includes("--cpu-prof");
/** `--only <key>`: run one scenario (small-json, small-sse, cc-sse), e.g. while profiling it. */
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const PROFILES = {
  // Bounded for ≈ 2–3 minutes on 2 cores in the worst case (every cell hitting its cap).
  full: {
    warm: { concurrency: 4, count: 2_000, capMs: 1_500 },
    1: { count: 1_000, capMs: 6_000, warmCount: 200, warmCapMs: 1_000, rounds: 4 },
    64: { count: 5_000, capMs: 10_000, warmCount: 640, warmCapMs: 2_000, rounds: 4 },
  },
  quick: {
    warm: { concurrency: 4, count: 100, capMs: 500 },
    1: { count: 30, capMs: 1_500, warmCount: 10, warmCapMs: 500, rounds: 2 },
    64: { count: 300, capMs: 2_500, warmCount: 128, warmCapMs: 500, rounds: 2 },
  },
};
const profile = QUICK ? PROFILES.quick : PROFILES.full;
const CONCURRENCIES = [1, 64];
const TARGETS = process.env.BENCH_TARGETS?.split(",") ?? ["direct", "proxy", "gateway"];
/** The child process that serves each target (its RSS is the cell's). */
const SERVER_OF = { direct: "fake", proxy: "proxy", gateway: "gateway" };

/** Aborted on SIGINT/SIGTERM or the run deadline: the load stops before the children do. */
const stopLoad = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal} — stopping children`);
    stopLoad.abort();
    void stopChildren().finally(() => process.exit(130));
  });
}

/** CPU µs (user + system, and system alone) per answered request; {} when unknown. */
function perRequestCpu(cpu, requests) {
  if (cpu === undefined || requests === 0) return {};
  return {
    serverCpuUsPerRequest: (cpu.user + cpu.system) / requests,
    serverSystemCpuUsPerRequest: cpu.system / requests,
  };
}

// ---- the run --------------------------------------------------------------------------------

const fmtCell = (c) =>
  `p50 ${c.p50.toFixed(3)} ms  p99 ${c.p99.toFixed(3)} ms  ${c.rps.toFixed(0)} req/s` +
  (c.errors > 0 ? `  ${c.errors} ERRORS` : "");

async function main() {
  const started = performance.now();
  const deadline = setTimeout(() => {
    console.error(`bench: the run exceeded ${RUN_DEADLINE_MS / 1000} s — aborting`);
    stopLoad.abort();
    void stopChildren().finally(() => process.exit(2));
  }, RUN_DEADLINE_MS);
  deadline.unref();

  const urls = { fake: await startChild("fake", "fake-upstream.mjs") };
  urls.proxy = await startChild("proxy", "bare-proxy.mjs", { BENCH_UPSTREAM_URL: urls.fake });
  let gatewayProblem;
  try {
    if (CPU_PROF) mkdirSync(dirname(RESULTS), { recursive: true });
    const profiling = CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${dirname(RESULTS)}`] : [];
    if (process.env.BENCH_GW_FLAGS) profiling.push(...process.env.BENCH_GW_FLAGS.split(" "));
    urls.gateway = await startChild(
      "gateway",
      "gateway-child.mjs",
      { BENCH_UPSTREAM_URL: urls.fake },
      profiling,
    );
  } catch (err) {
    gatewayProblem = err instanceof Error ? err.message : String(err);
    console.error(`\n!!! THE GATEWAY DID NOT START — measuring the baselines only !!!\n${gatewayProblem}\n`);
  }
  console.error(`fake ${urls.fake}  proxy ${urls.proxy}  gateway ${urls.gateway ?? "(not running)"}`);

  const client = createClient(Math.max(...CONCURRENCIES));
  const all = scenarios();
  const list = all.filter((s) => ONLY === undefined || s.key === ONLY);
  if (list.length === 0) throw new Error(`--only: no scenario "${ONLY}" (small-json, small-sse, cc-sse)`);
  const cells = [];
  // JIT warm-up of every path in every process before anything is measured; answers still checked.
  let warmErrors = 0;
  for (const scenario of list) {
    const targets = targetsFor(scenario, urls);
    for (const name of TARGETS) {
      if (targets[name] === undefined) continue;
      const warm = await runCell(client, targets[name], { ...profile.warm, signal: stopLoad.signal });
      warmErrors += warm.errors;
      for (const sample of warm.errorSamples)
        console.error(`    ! warm-up ${scenario.label} ${name}: ${sample}`);
    }
  }
  for (const scenario of list) {
    const targets = targetsFor(scenario, urls);
    for (const concurrency of CONCURRENCIES) {
      const p = profile[concurrency];
      const names = TARGETS.filter((name) => targets[name] !== undefined);
      for (const name of names) {
        const warm = await runCell(client, targets[name], {
          concurrency,
          count: p.warmCount,
          capMs: p.warmCapMs,
          signal: stopLoad.signal,
        });
        warmErrors += warm.errors;
        for (const sample of warm.errorSamples)
          console.error(`    ! warm-up c=${concurrency} ${name}: ${sample}`);
      }
      // Rounds alternate the targets, so a machine that speeds up or slows down during the cell
      // (a shared VM does) weighs on all three alike and the ratios stay fair.
      const rounds = new Map(
        names.map((name) => [name, { parts: [], cpu: { user: 0, system: 0 }, peakRss: 0 }]),
      );
      for (let round = 0; round < p.rounds; round++) {
        for (const name of names) {
          const acc = rounds.get(name);
          globalThis.gc?.();
          await stats(SERVER_OF[name], true);
          const run = await runCell(client, targets[name], {
            concurrency,
            count: Math.ceil(p.count / p.rounds),
            capMs: p.capMs / p.rounds,
            signal: stopLoad.signal,
          });
          const server = await stats(SERVER_OF[name]);
          acc.parts.push(run.part);
          if (server !== undefined) {
            acc.cpu.user += server.windowCpu.user;
            acc.cpu.system += server.windowCpu.system;
            acc.peakRss = Math.max(acc.peakRss, server.windowPeakRss);
          }
        }
      }
      for (const name of names) {
        const acc = rounds.get(name);
        const cell = summarize(acc.parts);
        cells.push({
          scenario: scenario.key,
          concurrency,
          target: name,
          ...cell,
          serverPeakRss: acc.peakRss || undefined,
          // The serving process's CPU time per answered request (warm-up excluded), µs.
          ...perRequestCpu(acc.cpu, cell.requests),
        });
        console.error(
          `${scenario.label.padEnd(24)} c=${String(concurrency).padEnd(3)} ${name.padEnd(8)} ${fmtCell(cell)}`,
        );
        for (const sample of cell.errorSamples) console.error(`    ! ${sample}`);
      }
    }
  }
  await client.close();

  const [fake, proxy, gateway] = await Promise.all([stats("fake"), stats("proxy"), stats("gateway")]);
  const memory = { fake: fake?.peakRss, proxy: proxy?.peakRss, gateway: gateway?.peakRss };
  const MiB = (bytes) => `${((bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`;
  for (const [name, s] of [
    ["fake", fake],
    ["proxy", proxy],
    ["gateway", gateway],
  ]) {
    console.error(
      `${name}: peak RSS ${MiB(s?.peakRss)}, peak V8 heap ${MiB(s?.peakHeapTotal)}, peak external ${MiB(s?.peakExternal)}`,
    );
  }
  await stopChildren();
  clearTimeout(deadline);

  const derived = derive(cells, list, CONCURRENCIES, memory.gateway);
  const invalid = cells.reduce((n, c) => n + c.errors, warmErrors);
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    profile: QUICK ? "quick" : "full",
    counts: profile,
    elapsedMs: performance.now() - started,
    bodies: {
      smallAnthropicBytes: Buffer.byteLength(JSON.stringify(all[0].anthropic)),
      claudeCodeAnthropicBytes: Buffer.byteLength(JSON.stringify(all[2].anthropic)),
      claudeCodeGeminiBytes: Buffer.byteLength(JSON.stringify(toGeminiBody(all[2].anthropic))),
      chunks: { small: chunkCountOf(SMALL_MODEL), claudeCode: chunkCountOf(CLAUDE_CODE_MODEL) },
    },
  };
  console.log(render({ cells, derived, scenarios: list, memory, meta }));

  mkdirSync(dirname(RESULTS), { recursive: true });
  const { goals, rows } = derived;
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ meta, memory, cells, derived: rows, goals, invalidAnswers: invalid, gatewayProblem }, null, 2)}\n`,
  );
  console.log(`\nJSON: ${RESULTS}`);

  if (gatewayProblem !== undefined) {
    console.error("\n!!! THE GATEWAY DID NOT START: no gateway numbers (see above) !!!");
    return 1;
  }
  if (invalid > 0) {
    console.error(
      `\n!!! ${invalid} INVALID OR FAILED ANSWERS (see the errors column and the samples above) !!!`,
    );
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error("bench: the harness broke:", err);
    void stopChildren().finally(() => process.exit(2));
  },
);
