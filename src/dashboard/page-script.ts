/**
 * The dashboard's script (inlined into the page). Plain browser JavaScript, no build step.
 * Every value from the API goes into the DOM through `textContent` — never `innerHTML` — so a
 * model name or error message can never become markup. A gateway token given as `#token=…`
 * (a fragment: never sent to the server nor logged) is kept in sessionStorage for this tab.
 */
export const PAGE_SCRIPT = String.raw`
"use strict";
(() => {
  const REFRESH_MS = 5000;
  const TOKEN_KEY = "ccgate.token";
  const $ = (id) => document.getElementById(id);
  let timer;

  const fragment = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fragment) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fragment[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }

  async function getJson(path) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const res = await fetch(path, { headers: token ? { "x-api-key": token } : {}, cache: "no-store" });
    if (res.status === 401) throw Object.assign(new Error("unauthorized"), { unauthorized: true });
    if (!res.ok) throw new Error(path.split("?")[0] + ": HTTP " + res.status);
    return res.json();
  }

  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const td = (text, cls) => el("td", text, cls);
  const badge = (text, kind) => {
    const c = el("td");
    c.appendChild(el("span", text, "badge s-" + kind));
    return c;
  };
  const row = (cells) => {
    const tr = el("tr");
    for (const c of cells) tr.appendChild(c);
    return tr;
  };
  function fill(tbody, rows, cols, emptyText) {
    if (rows.length === 0) {
      const c = td(emptyText, "empty");
      c.colSpan = cols;
      rows = [row([c])];
    }
    tbody.replaceChildren(...rows);
  }

  const dash = "\u2013";
  const ms = (v) =>
    v === null || v === undefined ? dash : v < 1000 ? Math.round(v) + " ms" : (v / 1000).toFixed(v < 10000 ? 2 : 1) + " s";
  const num = (v) => (v === null || v === undefined ? dash : Number(v).toLocaleString());
  const clock = (epoch) => new Date(epoch).toLocaleTimeString([], { hour12: false });
  const kind = (s) => (s === "ok" || s === "closed" ? "ok" : s === "disabled" || s === "open" ? "err" : "warn");
  function remaining(iso) {
    const s = iso ? Math.round((Date.parse(iso) - Date.now()) / 1000) : 0;
    return s > 0 ? s + " s" : dash;
  }
  function uptime(s) {
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return (s / 3600).toFixed(1) + " h";
  }

  function renderStatus(st) {
    const keys = [];
    for (const p of st.providers || []) {
      const list = p.keys && p.keys.length > 0 ? p.keys : [{ label: "(no key)", state: "ok", inFlight: p.inFlight }];
      for (const k of list) {
        keys.push(row([td(p.name), td(p.type, "muted"), td(k.label || k.id), badge(k.state, kind(k.state)),
          td(remaining(k.cooldownUntil), "num"), td(num(k.inFlight), "num")]));
      }
    }
    fill($("keys-body"), keys, 6, "No providers configured");
    const targets = (st.targets || []).map((t) => row([td(t.slot), td(t.key || dash, "muted"),
      badge(t.state, kind(t.state)), td(t.breaker), td(remaining(t.cooldownUntil), "num"), td(num(t.requests), "num"),
      td(num(t.failures), "num"), td(t.latencyMs ? ms(t.latencyMs.p50) : dash, "num")]));
    fill($("targets-body"), targets, 8, "No upstream traffic yet");
    $("version").textContent = "v" + st.version + " \u00b7 up " + uptime(st.uptimeSeconds || 0);
  }

  function renderSummary(s) {
    if (!s.enabled) {
      $("cards").replaceChildren(el("div", "Request log disabled (telemetry.requestLog.enabled)", "empty"));
      return;
    }
    const rate = s.requests > 0 ? ((100 * s.errors) / s.requests).toFixed(1) + " %" : dash;
    const cards = [["Requests", num(s.requests)], ["Error rate", rate], ["Latency p50", ms(s.latencyMs && s.latencyMs.p50)],
      ["Latency p95", ms(s.latencyMs && s.latencyMs.p95)], ["First byte p50", ms(s.ttfbMs && s.ttfbMs.p50)],
      ["Tokens in", num(s.tokens.input)], ["Tokens out", num(s.tokens.output)], ["Cache read", num(s.tokens.cacheRead)]];
    $("cards").replaceChildren(...cards.map(([k, v]) => {
      const c = el("div", undefined, "card");
      c.append(el("div", v, "v"), el("div", k, "k"));
      return c;
    }));
  }

  function renderRequests(r) {
    const rows = r.data.map((q) => {
      const state = q.outcome === "ok" ? "ok" : q.outcome === "aborted" ? "warn" : "err";
      const tokens = q.inputTokens === null && q.outputTokens === null ? dash
        : num(q.inputTokens) + " / " + num(q.outputTokens) + (q.cacheReadTokens ? " (" + num(q.cacheReadTokens) + " cached)" : "");
      const error = q.errorType || q.errorMessage ? [q.errorType, q.errorMessage].filter(Boolean).join(": ") : "";
      const duration = td(ms(q.durationMs), "num");
      duration.title = "first byte " + ms(q.ttfbMs) + (q.stream ? ", stream" : "");
      return row([td(clock(q.startedAt), "muted"), td(q.requestedModel), td(q.route || dash), td(q.target || dash),
        badge(q.status, state), duration, td(tokens, "num"), td(q.attempts, "num"), td(error, "err")]);
    });
    fill($("requests-body"), rows, 9, r.enabled ? "No requests yet" : "Request log disabled (telemetry.requestLog.enabled)");
  }

  function showProblems(problems, unauthorized) {
    $("banner").classList.toggle("show", problems.length > 0);
    $("banner-text").textContent = problems.join("; ");
    $("token-form").hidden = !unauthorized;
  }

  async function refresh() {
    clearTimeout(timer);
    const outcome = $("outcome").value;
    const results = await Promise.allSettled([
      getJson("api/status"),
      getJson("api/summary?windowMs=" + encodeURIComponent($("window").value)),
      getJson("api/requests?limit=100" + (outcome ? "&outcome=" + encodeURIComponent(outcome) : "")),
    ]);
    const renderers = [renderStatus, renderSummary, renderRequests];
    const problems = [];
    let unauthorized = false;
    results.forEach((res, i) => {
      if (res.status === "fulfilled") renderers[i](res.value);
      else if (res.reason && res.reason.unauthorized) unauthorized = true;
      else problems.push(String(res.reason && res.reason.message));
    });
    if (unauthorized) problems.unshift("The gateway wants its token (CCGATE_AUTH_TOKEN)");
    showProblems(problems, unauthorized);
    $("updated").textContent = "updated " + clock(Date.now());
    if ($("auto").checked) timer = setTimeout(refresh, REFRESH_MS);
  }

  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    refresh();
  });
  for (const id of ["outcome", "window", "auto"]) $(id).addEventListener("change", refresh);
  refresh();
})();
`;
