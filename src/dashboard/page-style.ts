/** The dashboard's stylesheet (inlined into the page; no external assets — see page-html.ts). */
export const PAGE_STYLE = `
:root { color-scheme: light dark; --bg: #f7f7f8; --fg: #1d1d1f; --muted: #6b6b76; --card: #fff;
  --line: #e2e2e8; --ok: #1a7f37; --warn: #9a6700; --err: #cf222e; --accent: #5b5bd6; }
@media (prefers-color-scheme: dark) { :root { --bg: #111114; --fg: #e8e8ec; --muted: #9a9aa6;
  --card: #1b1b20; --line: #2c2c34; --ok: #3fb950; --warn: #d29922; --err: #f85149; --accent: #8b8bf0; } }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg);
  color: var(--fg); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; border-bottom: 1px solid var(--line);
  background: var(--card); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 16px; margin: 0; }
header .spacer { flex: 1; }
header label, header select, header button { font: inherit; color: var(--muted); }
main { padding: 16px 20px; display: grid; gap: 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  overflow-x: auto; }
h2 { font-size: 13px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.card .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; }
td.num, th.num { text-align: right; }
td.err { white-space: normal; max-width: 420px; color: var(--err); }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; border: 1px solid currentColor; }
.s-ok { color: var(--ok); } .s-warn { color: var(--warn); } .s-err { color: var(--err); }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 8px; }
#banner { display: none; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--err); color: var(--err); }
#banner.show { display: block; }
#banner input { font: inherit; margin-left: 8px; }
`;
