/**
 * The dashboard page: one self-contained HTML document (inline style and script, no external
 * assets — ccgate runs on closed networks and must not phone a CDN). A Content-Security-Policy
 * with the hashes of exactly these inline blocks forbids any other script, style or connection.
 */
import { createHash } from "node:crypto";
import { PAGE_SCRIPT } from "./page-script.js";
import { PAGE_STYLE } from "./page-style.js";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>ccgate dashboard</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1>ccgate</h1><span id="version" class="muted"></span>
  <span class="spacer"></span>
  <label>summary over <select id="window">
    <option value="900000">15 min</option><option value="3600000" selected>1 hour</option>
    <option value="86400000">24 hours</option><option value="604800000">7 days</option>
  </select></label>
  <label>requests <select id="outcome">
    <option value="">all</option><option value="ok">ok</option><option value="error">errors</option>
    <option value="aborted">aborted</option>
  </select></label>
  <label><input type="checkbox" id="auto" checked> auto-refresh</label>
  <span id="updated" class="muted"></span>
</header>
<main>
  <div id="banner" role="alert"><span id="banner-text"></span>
    <form id="token-form" hidden><input id="token" type="password" placeholder="gateway token" autocomplete="off">
    <button type="submit">Use token</button></form>
  </div>
  <section><h2>Summary</h2><div id="cards" class="cards"></div></section>
  <section><h2>Providers and keys</h2>
    <table id="keys"><thead><tr><th>Provider</th><th>Type</th><th>Key</th><th>State</th>
      <th class="num">Cooldown</th><th class="num">In flight</th></tr></thead><tbody id="keys-body"></tbody></table>
  </section>
  <section><h2>Targets</h2>
    <table id="targets"><thead><tr><th>Slot</th><th>Key</th><th>State</th><th>Breaker</th><th class="num">Cooldown</th>
      <th class="num">Requests</th><th class="num">Failures</th><th class="num">p50</th></tr></thead>
      <tbody id="targets-body"></tbody></table>
  </section>
  <section><h2>Recent requests</h2>
    <table id="requests"><thead><tr><th>Time</th><th>Model</th><th>Route</th><th>Target</th><th>Status</th>
      <th class="num">Duration</th><th class="num">Tokens in / out</th><th class="num">Attempts</th><th>Error</th></tr></thead>
      <tbody id="requests-body"></tbody></table>
  </section>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;

/** Response headers for the page: the CSP allows only the two inline blocks above and same-origin fetches. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": [
    "default-src 'none'",
    `script-src ${sha256(PAGE_SCRIPT)}`,
    `style-src ${sha256(PAGE_STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};
