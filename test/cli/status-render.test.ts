/**
 * `ccgate status` tables from a /status snapshot: known fields rendered, unknown ones ignored,
 * missing ones shown as "-", recent errors newest first across targets.
 */
import { describe, expect, it } from "vitest";
import { renderStatus } from "../../src/cli/status-render.js";
import type { Style } from "../../src/cli/ui.js";

const plain: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s };
const NOW = Date.parse("2026-01-01T12:00:00Z");

const SNAPSHOT = {
  version: "0.1.0",
  uptimeSeconds: 3725,
  futureTopLevelField: { anything: true },
  providers: [
    {
      name: "gemini",
      type: "gemini",
      baseUrl: "https://generativelanguage.googleapis.com",
      inFlight: 2,
      keys: [
        { id: "gemini#1", label: "GEMINI_API_KEY#1", state: "ok", cooldownUntil: null, inFlight: 2 },
        {
          id: "gemini#2",
          label: "GEMINI_API_KEY#2",
          state: "disabled",
          cooldownUntil: "2026-01-01T12:30:00Z",
          inFlight: 0,
          newKeyField: 1,
        },
      ],
    },
  ],
  targets: [
    {
      slot: "gemini/gemini-2.5-pro#1",
      provider: "gemini",
      model: "gemini-2.5-pro",
      key: "GEMINI_API_KEY#1",
      state: "ok",
      breaker: "closed",
      requests: 12,
      failures: 1,
      inFlight: 2,
      recentErrors: [{ at: "2026-01-01T11:00:00Z", class: "transient", code: "UPSTREAM_5XX", status: 503 }],
      latencyMs: { p50: 820, p90: 1500, p99: 4000 },
      sessions: 1,
    },
    {
      slot: "gemini/gemini-2.5-pro#2",
      provider: "gemini",
      model: "gemini-2.5-pro",
      key: "GEMINI_API_KEY#2",
      state: "open",
      breaker: "open",
      requests: 3,
      failures: 3,
      recentErrors: [{ at: "2026-01-01T11:59:00Z", class: "auth", code: "UPSTREAM_AUTH", status: 401 }],
      latencyMs: null,
    },
  ],
  affinity: { sessions: 1 },
  routes: [{ name: "default", match: ["*"], targets: ["gemini/gemini-2.5-pro"] }],
};

describe("renderStatus", () => {
  it("renders providers, keys, targets, recent errors and routes", () => {
    const out = renderStatus(SNAPSHOT, "http://127.0.0.1:8787", plain, NOW);
    expect(out).toContain("ccgate 0.1.0 at http://127.0.0.1:8787 · up 1h 02m · 1 session(s)");
    expect(out).toMatch(/gemini +gemini +https:\/\/generativelanguage\.googleapis\.com +2 +2/);
    expect(out).toMatch(/GEMINI_API_KEY#2 +disabled +\d\d:\d\d:\d\d \(in 30m 00s\) +0/);
    expect(out).toMatch(/IN-FLIGHT +P50/);
    expect(out).toMatch(
      /gemini\/gemini-2\.5-pro +GEMINI_API_KEY#1 +ok +closed +12 +1 +2 +820ms +1\.5s +4\.0s +1/,
    );
    expect(out).toMatch(/gemini\/gemini-2\.5-pro +GEMINI_API_KEY#2 +open +open +3 +3 +- +- +- +- +-/);
    const errors = out.slice(out.indexOf("Recent errors"));
    expect(errors.indexOf("UPSTREAM_AUTH")).toBeLessThan(errors.indexOf("UPSTREAM_5XX"));
    expect(out).toMatch(/default +\* +gemini\/gemini-2\.5-pro/);
    expect(out).not.toContain("futureTopLevelField");
    expect(out).not.toContain("undefined");
  });

  it("copes with an empty or unexpected snapshot", () => {
    const out = renderStatus({ providers: "nope" }, "http://x", plain, NOW);
    expect(out).toContain("ccgate - at http://x");
    expect(out).toContain("no traffic yet");
    expect(renderStatus(null, "http://x", plain, NOW)).toContain("Providers");
  });

  it("never prints a control character from the snapshot (client-chosen model names reach it)", () => {
    const hostile = "gemini\u001b[2J\u001b]0;pwned\u0007-x";
    const out = renderStatus(
      { version: "1", targets: [{ slot: `p/${hostile}#1`, provider: "p", model: hostile, state: "ok" }] },
      "http://x",
      plain,
      NOW,
    );
    expect(out).toContain("gemini?[2J?]0;pwned?-x");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
