/**
 * Derived numbers and goals from the measured cells, and the text table printed to stdout.
 *
 * Goals (issue text): the gateway's added p50 latency at most 1.5× the bare proxy's; throughput at
 * concurrency 64 at least 70% of the bare proxy's; peak gateway RSS under 150 MiB.
 */

export const GOALS = { addedP50Ratio: 1.5, throughputRatio: 0.7, peakRssMiB: 150 };

/** Below this (ms) an added latency is noise: a ratio over it means nothing and is not shown. */
const ADDED_FLOOR_MS = 0.02;
const MIB = 1024 * 1024;

function find(cells, scenario, concurrency, target) {
  return cells.find((c) => c.scenario === scenario && c.concurrency === concurrency && c.target === target);
}

/**
 * Per scenario × concurrency: added latency of proxy and gateway over direct, their ratio, and
 * (c ≥ 64) the throughput ratio; plus the RSS goal. Each goal gets `pass`.
 */
export function derive(cells, scenarios, concurrencies, gatewayPeakRss) {
  const rows = [];
  const goals = [];
  for (const scenario of scenarios) {
    for (const concurrency of concurrencies) {
      const direct = find(cells, scenario.key, concurrency, "direct");
      const proxy = find(cells, scenario.key, concurrency, "proxy");
      const gateway = find(cells, scenario.key, concurrency, "gateway");
      if (direct === undefined || proxy === undefined) continue;
      const row = {
        scenario: scenario.key,
        concurrency,
        proxyAddedP50: proxy.p50 - direct.p50,
        proxyAddedP99: proxy.p99 - direct.p99,
      };
      if (gateway !== undefined && gateway.requests > 0) {
        row.gatewayAddedP50 = gateway.p50 - direct.p50;
        row.gatewayAddedP99 = gateway.p99 - direct.p99;
        row.addedP50Ratio = addedRatio(row.gatewayAddedP50, row.proxyAddedP50);
        row.addedP99Ratio = addedRatio(row.gatewayAddedP99, row.proxyAddedP99);
        row.throughputRatio = gateway.rps / proxy.rps;
        goals.push({
          goal: `added p50 ≤ ${GOALS.addedP50Ratio}× proxy's — ${scenario.label}, c=${concurrency}`,
          value: row.addedP50Ratio,
          // The proxy adding nothing measurable: the gateway passes only if it adds nothing either.
          pass:
            row.addedP50Ratio === undefined
              ? row.gatewayAddedP50 <= ADDED_FLOOR_MS
              : row.addedP50Ratio <= GOALS.addedP50Ratio,
        });
        if (concurrency >= 64) {
          goals.push({
            goal: `throughput ≥ ${GOALS.throughputRatio * 100}% of proxy's — ${scenario.label}, c=${concurrency}`,
            value: row.throughputRatio,
            pass: row.throughputRatio >= GOALS.throughputRatio,
          });
        }
      }
      rows.push(row);
    }
  }
  if (gatewayPeakRss !== undefined) {
    const mib = gatewayPeakRss / MIB;
    goals.push({
      goal: `peak gateway RSS < ${GOALS.peakRssMiB} MiB`,
      value: mib,
      pass: mib < GOALS.peakRssMiB,
    });
  }
  return { rows, goals };
}

/** gateway-added / proxy-added, undefined when the proxy's added latency is within noise. */
function addedRatio(gatewayAdded, proxyAdded) {
  return proxyAdded > ADDED_FLOOR_MS ? Math.max(gatewayAdded, 0) / proxyAdded : undefined;
}

const ms = (v) => (v === undefined || Number.isNaN(v) ? "—" : v.toFixed(3));
const ratio = (v) => (v === undefined || Number.isNaN(v) ? "n/a" : `${v.toFixed(2)}×`);

function table(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const fmt = (cols) =>
    cols.map((c, i) => (i < 3 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

/** The whole report as text. */
export function render({ cells, derived, scenarios, memory, meta }) {
  const label = (key) => scenarios.find((s) => s.key === key)?.label ?? key;
  const out = [];
  out.push(
    `ccgate bench — node ${meta.node}, ${meta.cpus} CPU(s), ${meta.bodies.claudeCodeAnthropicBytes} B Claude-Code body, ` +
      `${meta.profile} profile, ${(meta.elapsedMs / 1000).toFixed(1)} s`,
  );
  out.push("");
  out.push("Latency = time to last byte (body fully read); TTFB = time to first body byte; ms.");
  out.push("server RSS = peak RSS of the process serving the target during the cell (direct: the fake);");
  out.push("CPU/req = that process's CPU time per answered request, µs: user + system (system).");
  out.push(
    table(
      [
        "scenario",
        "c",
        "target",
        "requests",
        "p50",
        "p99",
        "ttfb p50",
        "ttfb p99",
        "req/s",
        "server RSS",
        "CPU/req",
        "errors",
      ],
      cells.map((c) => [
        label(c.scenario),
        c.concurrency,
        c.target,
        `${c.requests}${c.capped ? "*" : ""}`,
        ms(c.p50),
        ms(c.p99),
        ms(c.ttfbP50),
        ms(c.ttfbP99),
        c.rps.toFixed(0),
        c.serverPeakRss === undefined ? "—" : `${(c.serverPeakRss / MIB).toFixed(0)} MiB`,
        c.serverCpuUsPerRequest === undefined
          ? "—"
          : `${c.serverCpuUsPerRequest.toFixed(0)} (${c.serverSystemCpuUsPerRequest.toFixed(0)})`,
        c.errors,
      ]),
    ),
  );
  if (cells.some((c) => c.capped)) out.push("* stopped by the cell's time cap before the request count");
  out.push("");
  out.push("Added over direct (ms) and gateway/proxy ratios:");
  out.push(
    table(
      [
        "scenario",
        "c",
        "",
        "proxy +p50",
        "gateway +p50",
        "ratio p50",
        "proxy +p99",
        "gateway +p99",
        "ratio p99",
        "rps gw/proxy",
      ],
      derived.rows.map((r) => [
        label(r.scenario),
        r.concurrency,
        "",
        ms(r.proxyAddedP50),
        ms(r.gatewayAddedP50),
        ratio(r.addedP50Ratio),
        ms(r.proxyAddedP99),
        ms(r.gatewayAddedP99),
        ratio(r.addedP99Ratio),
        r.throughputRatio === undefined ? "—" : `${(r.throughputRatio * 100).toFixed(0)}%`,
      ]),
    ),
  );
  out.push("");
  const mib = (v) => (v === undefined ? "—" : `${(v / MIB).toFixed(1)} MiB`);
  out.push(
    `Peak RSS: gateway ${mib(memory.gateway)}, bare proxy ${mib(memory.proxy)}, fake upstream ${mib(memory.fake)}`,
  );
  out.push("");
  out.push("Goals:");
  for (const g of derived.goals) {
    const value = g.goal.includes("RSS")
      ? `${g.value.toFixed(1)} MiB`
      : g.goal.includes("throughput")
        ? `${(g.value * 100).toFixed(0)}%`
        : ratio(g.value);
    out.push(`  ${g.pass ? "PASS" : "MISS"}  ${g.goal}: ${value}`);
  }
  return out.join("\n");
}
