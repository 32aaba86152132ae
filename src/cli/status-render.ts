/**
 * `GET /status` (src/resilience/status.ts `GatewayStatus`) as readable tables. Parsed leniently:
 * the snapshot grows new fields over time; known ones are shown, unknown ones ignored, missing
 * ones shown as "-".
 */
import { renderTable } from "./table.js";
import { formatDuration, type Style } from "./ui.js";

type Rec = Record<string, unknown>;

const rec = (v: unknown): Rec => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/**
 * A value from the snapshot as text. Control characters are replaced: some values come from
 * clients (a `$model` target passes any model name through), and an escape sequence in one must
 * not drive the user's terminal.
 */
const str = (v: unknown): string =>
  typeof v === "string" ? v.replace(CONTROL, "?") : typeof v === "number" ? String(v) : "-";
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** How many recent errors (over all targets, newest first) the table shows. */
const MAX_ERRORS = 10;

export function renderStatus(raw: unknown, url: string, s: Style, now = Date.now()): string {
  const status = rec(raw);
  const out: string[] = [];
  const uptime = num(status.uptimeSeconds);
  const sessions = num(rec(status.affinity).sessions);
  out.push(
    s.bold(`ccgate ${str(status.version)} at ${url}`) +
      (uptime === undefined ? "" : ` · up ${formatDuration(uptime)}`) +
      (sessions === undefined ? "" : ` · ${sessions} session(s)`),
  );

  const providers = list(status.providers).map(rec);
  out.push(
    "",
    s.bold("Providers"),
    renderTable(
      ["NAME", "TYPE", "BASE URL", "IN-FLIGHT", "KEYS"],
      providers.map((p) => [
        str(p.name),
        str(p.type),
        str(p.baseUrl),
        str(p.inFlight),
        String(list(p.keys).length),
      ]),
      "  ",
    ),
  );

  const keys = providers.flatMap((p) => list(p.keys).map((k) => ({ provider: str(p.name), key: rec(k) })));
  if (keys.length > 0)
    out.push(
      "",
      s.bold("Keys"),
      renderTable(
        ["PROVIDER", "KEY", "STATE", "COOLDOWN", "IN-FLIGHT"],
        keys.map(({ provider, key }) => [
          provider,
          str(key.label),
          paintState(str(key.state), s),
          until(key.cooldownUntil, now),
          str(key.inFlight),
        ]),
        "  ",
      ),
    );

  const targets = list(status.targets).map(rec);
  out.push("", s.bold("Targets"));
  if (targets.length === 0) out.push("  (no traffic yet: a target appears after its first request)");
  else {
    const withInFlight = targets.some((t) => num(t.inFlight) !== undefined);
    out.push(
      renderTable(
        [
          "TARGET",
          "KEY",
          "STATE",
          "BREAKER",
          "REQUESTS",
          "FAILURES",
          ...(withInFlight ? ["IN-FLIGHT"] : []),
          "P50",
          "P90",
          "P99",
          "SESSIONS",
        ],
        targets.map((t) => {
          const latency = rec(t.latencyMs);
          return [
            `${str(t.provider)}/${str(t.model)}`,
            str(t.key ?? "-"),
            paintState(str(t.state), s),
            paintState(str(t.breaker), s),
            str(t.requests),
            str(t.failures),
            ...(withInFlight ? [str(t.inFlight)] : []),
            ms(latency.p50),
            ms(latency.p90),
            ms(latency.p99),
            str(t.sessions),
          ];
        }),
        "  ",
      ),
    );
  }

  const errors = targets
    .flatMap((t) => list(t.recentErrors).map((e) => ({ slot: str(t.slot), error: rec(e) })))
    .sort((a, b) => str(b.error.at).localeCompare(str(a.error.at)))
    .slice(0, MAX_ERRORS);
  if (errors.length > 0)
    out.push(
      "",
      s.bold("Recent errors"),
      renderTable(
        ["AT", "TARGET", "STATUS", "CLASS", "CODE"],
        errors.map(({ slot, error }) => [
          clock(error.at),
          slot,
          s.red(str(error.status)),
          str(error.class),
          str(error.code) + (typeof error.message === "string" ? ` ${error.message}` : ""),
        ]),
        "  ",
      ),
    );

  const routes = list(status.routes).map(rec);
  if (routes.length > 0)
    out.push(
      "",
      s.bold("Routes"),
      renderTable(
        ["ROUTE", "MATCH", "TARGETS"],
        routes.map((r) => [
          str(r.name),
          list(r.match).map(str).join(", "),
          list(r.targets).map(str).join(" → "),
        ]),
        "  ",
      ),
    );
  return out.join("\n");
}

function paintState(state: string, s: Style): string {
  if (state === "ok" || state === "closed") return s.green(state);
  if (state === "cooling" || state === "half_open") return s.yellow(state);
  if (state === "disabled" || state === "open") return s.red(state);
  return state;
}

function ms(v: unknown): string {
  const n = num(v);
  if (n === undefined) return "-";
  return n < 1000 ? `${Math.round(n)}ms` : `${(n / 1000).toFixed(1)}s`;
}

function until(v: unknown, now: number): string {
  if (typeof v !== "string") return "-";
  const t = Date.parse(v);
  if (Number.isNaN(t)) return v;
  return `${clock(v)} (in ${formatDuration((t - now) / 1000)})`;
}

/** Local wall-clock time of an ISO timestamp. */
function clock(v: unknown): string {
  if (typeof v !== "string") return "-";
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toTimeString().slice(0, 8);
}
