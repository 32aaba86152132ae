/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core opens
 * /dashboard on the real app, waits for the seeded request and the configured keys to appear,
 * checks that hostile text stays text, and saves a screenshot (path printed; set
 * CCGATE_SCREENSHOT to choose it). Chromium missing is a failure with the install line, unless
 * CCGATE_SKIP_BROWSER=1.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { chromium, type Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { registerDashboardRoutes } from "../../src/dashboard/dashboard-routes.js";
import { Gateway } from "../../src/gateway.js";
import { buildApp } from "../../src/http/app.js";
import { openRequestLog } from "../../src/telemetry/request-log.js";
import type { RequestRecord } from "../../src/telemetry/request-record.js";
import { requestRecord } from "../helpers/request-records.js";

const CHROMIUM = process.env.CCGATE_CHROMIUM ?? "/usr/bin/chromium";
/** Flags for a closed network: without the background-networking ones Chromium keeps dialling out. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh Chromium (new empty profile) and a page whose script errors and console errors are collected. */
async function openBrowser(): Promise<{ page: Page; problems: string[] }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with 'apt-get install -y chromium' (or set CCGATE_CHROMIUM, or CCGATE_SKIP_BROWSER=1 to skip this test)`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), "ccgate-chromium-profile-"));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    // The 401s of the token test are expected network errors, not page problems.
    if (msg.type() === "error" && !msg.text().includes("401")) problems.push(`console: ${msg.text()}`);
  });
  return { page, problems };
}

const XSS_MODEL = '<img src=x onerror="window.__pwned=1">claude-evil';

function record(n: number, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return requestRecord({
    id: `req_b${n}`,
    startedAt: Date.now() - (10 - n) * 7_000,
    durationMs: 800 + n * 450,
    ttfbMs: 120 + n * 10,
    inputTokens: 12_000 + n * 100,
    outputTokens: 300 + n,
    cacheReadTokens: n % 2 === 0 ? 9_000 : undefined,
    ...overrides,
  });
}

describe.skipIf(process.env.CCGATE_SKIP_BROWSER === "1")("dashboard in Chromium", () => {
  it("shows keys, summary and the seeded requests, escaping hostile text", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "ccgate-browser-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { config } = loadConfig({ cwd: dir, env: { CCGATE_PORT: "0", GEMINI_API_KEY: "k-one,k-two" } });
    config.resilience.probe.enabled = false;
    const gateway = new Gateway(config);
    const log = openRequestLog({ path: join(dir, "requests.sqlite"), maxRows: 1000 });
    const app = buildApp(() => gateway, {
      logger: false,
      telemetry: { log, metrics: undefined, sink: log, close: async () => log.close() },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    cleanups.push(async () => {
      await app.close();
      await gateway.close();
      await log.close();
    });
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;

    for (let n = 0; n < 6; n++) log.record(record(n));
    log.record(
      record(6, {
        outcome: "error",
        status: 529,
        attempts: 3,
        target: "openai/gpt-5",
        errorType: "overloaded_error",
        errorMessage: "All targets are overloaded <script>window.__pwned=2</script>",
        outputTokens: undefined,
      }),
    );
    log.record(record(7, { requestedModel: "claude-haiku-4-5", route: "haiku", stream: false }));
    log.record(record(8, { requestedModel: XSS_MODEL, id: "req_seeded" }));
    gateway.state.disabledKeys.set("gemini#2", Date.now() + 90_000);

    const { page, problems } = await openBrowser();

    await page.goto(`http://127.0.0.1:${port}/dashboard`);
    const requestRows = page.locator("#requests-body tr");
    await requestRows.filter({ hasText: "claude-evil" }).waitFor({ timeout: 15_000 });
    await page.locator("#keys-body tr", { hasText: "GEMINI_API_KEY#2" }).waitFor({ timeout: 15_000 });

    expect(await requestRows.count()).toBe(9);
    // Hostile text is shown as text: no element was created from it and no script ran.
    expect(await requestRows.first().locator("td").nth(1).textContent()).toBe(XSS_MODEL);
    expect(await page.locator("#requests-body img, #requests-body script").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect
      .poll(() => page.locator("#requests-body tr", { hasText: "529" }).textContent())
      .toContain("overloaded_error: All targets are overloaded <script>");

    const keyRow = page.locator("#keys-body tr", { hasText: "GEMINI_API_KEY#2" });
    expect(await keyRow.locator(".badge").textContent()).toBe("disabled");
    expect(await keyRow.locator("td").nth(4).textContent()).toMatch(/^(8\d|90) s$/);
    expect(
      await page.locator("#keys-body tr", { hasText: "GEMINI_API_KEY#1" }).locator(".badge").textContent(),
    ).toBe("ok");

    const cards = page.locator("#cards");
    await expect.poll(() => cards.textContent()).toContain("Requests");
    const cardText = (await cards.textContent()) ?? "";
    expect(cardText).toContain("9Requests");
    expect(cardText).toContain("11.1 %Error rate");
    expect(await page.locator("#banner").isVisible()).toBe(false);

    const shot =
      process.env.CCGATE_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), "ccgate-shot-")), "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`dashboard screenshot: ${shot}`);
    expect(problems).toEqual([]);
  });

  it("asks for the gateway token on 401 and takes it from the form or a #token= fragment", {
    timeout: 60_000,
  }, async () => {
    const token = "dash-token-123";
    const app = Fastify({ logger: false });
    // The gateway's rule for the API: the token in x-api-key (the page itself holds no data).
    app.addHook("onRequest", async (req, reply) => {
      if (req.url.startsWith("/api/") && req.headers["x-api-key"] !== token) {
        return reply
          .code(401)
          .send({ type: "error", error: { type: "authentication_error", message: "no" } });
      }
    });
    const log = openRequestLog({ path: ":memory:", maxRows: 10 });
    log.record(record(1, { id: "req_token", requestedModel: "claude-token-check" }));
    const status = { version: "0.1.0", uptimeSeconds: 5, providers: [], targets: [] };
    registerDashboardRoutes(app, { log, status: () => status });
    await app.listen({ host: "127.0.0.1", port: 0 });
    cleanups.push(async () => {
      await app.close();
      await log.close();
    });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/dashboard`;

    const { page, problems } = await openBrowser();
    await page.goto(url);
    await page.locator("#token-form").waitFor({ state: "visible", timeout: 15_000 });
    expect(await page.locator("#banner-text").textContent()).toContain("token");
    await page.fill("#token", token);
    await page.click("#token-form button");
    await page.locator("#requests-body tr", { hasText: "claude-token-check" }).waitFor({ timeout: 15_000 });
    await page.locator("#banner").waitFor({ state: "hidden", timeout: 15_000 });

    const second = await page.context().newPage();
    await second.goto(`${url}#token=${token}`);
    await second.locator("#requests-body tr", { hasText: "claude-token-check" }).waitFor({ timeout: 15_000 });
    // The fragment is removed from the address bar (and so from history and screenshots).
    expect(new URL(second.url()).hash).toBe("");
    expect(problems).toEqual([]);
  });
});
