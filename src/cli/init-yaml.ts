/**
 * The commented `ccgate.yaml` that `ccgate init` writes. Keys appear only as `${VAR}` references;
 * strings are written JSON-quoted, which is valid YAML for any content.
 */
import type { DetectedProvider, KnownProvider } from "./detect-providers.js";

export interface InitPlan {
  providers: DetectedProvider[];
  port: number;
  /** No key was found: a keyless Gemini provider picks GEMINI_API_KEY up at start. */
  placeholder: KnownProvider | undefined;
}

export interface Route {
  name: string;
  comment: string;
  match: string[];
  targets: string[];
}

const q = (s: string) => JSON.stringify(s);
const list = (items: string[]) => `[${items.map(q).join(", ")}]`;

/** Routes: pass-through names per provider, then the tiers, every provider a fallback in order. */
export function planRoutes(providers: KnownProvider[]): Route[] {
  const routes: Route[] = [];
  for (const p of providers)
    if (p.passthrough !== undefined)
      routes.push({
        name: `${p.name}-passthrough`,
        comment: `\`--model ${p.passthrough[0]?.replace("*", "…")}\` names reach ${p.name} unchanged`,
        match: p.passthrough,
        targets: [`${p.name}/$model`],
      });
  routes.push(
    {
      name: "background",
      comment: "Claude Code's Haiku-class background calls (titles, summaries, quick checks)",
      match: ["*haiku*"],
      targets: providers.map((p) => `${p.name}/${p.small}`),
    },
    {
      name: "large",
      comment: "the main model (Claude Code asks for opus/sonnet names)",
      match: ["*opus*", "*sonnet*"],
      targets: providers.map((p) => `${p.name}/${p.large}`),
    },
    {
      name: "default",
      comment: "everything else",
      match: ["*"],
      targets: providers.map((p) => `${p.name}/${p.large}`),
    },
  );
  return routes;
}

export function renderInitYaml(plan: InitPlan, now = new Date()): string {
  const providers: KnownProvider[] = plan.placeholder ? [plan.placeholder] : plan.providers;
  const out: string[] = [
    `# ccgate configuration, written by \`ccgate init\` on ${now.toISOString().slice(0, 10)}.`,
    "# Check it with `ccgate doctor`; every key and its default: ccgate.yaml.example.",
    "# API keys are referenced as ${VAR}: export them in the shell that runs ccgate (a missing",
    "# variable stops start-up with a message naming it). This file holds no secret.",
    "",
    "server:",
    '  host: "127.0.0.1"    # loopback only; any other address requires authToken',
    `  port: ${plan.port}`,
    "  # authToken: ${CCGATE_AUTH_TOKEN}   # key clients must send (x-api-key or Bearer)",
    "",
    "providers:",
  ];
  for (const p of plan.providers) out.push(...providerBlock(p, p.keyVar, p.resolvedBaseUrl));
  if (plan.placeholder !== undefined) {
    out.push(
      `  # ${plan.placeholder.comment}`,
      "  # No key was found: ccgate reads GEMINI_API_KEY (comma-separated for several keys) at start.",
      `  - name: ${q(plan.placeholder.name)}`,
      `    type: ${q(plan.placeholder.type)}`,
      '    # apiKeys: ["${GEMINI_API_KEY}"]',
      "",
    );
  }
  out.push(
    "# Routes: the first whose `match` globs fit the requested model name wins. Its targets",
    "# (provider/model; $model = the requested name) are tried in order: the next one takes",
    "# over when one fails before the answer starts. Remove fallbacks you do not want to pay for.",
    "routes:",
  );
  for (const r of planRoutes(providers))
    out.push(
      `  - name: ${q(r.name)}    # ${r.comment}`,
      `    match: ${list(r.match)}`,
      `    targets: ${list(r.targets)}`,
    );
  return `${out.join("\n")}\n`;
}

function providerBlock(p: KnownProvider, keyVar: string, baseUrl: string | undefined): string[] {
  const lines = [`  # ${p.comment}`, `  - name: ${q(p.name)}`, `    type: ${q(p.type)}`];
  if (baseUrl !== undefined) lines.push(`    baseUrl: ${q(baseUrl)}`);
  lines.push(`    apiKeys: [${q(`\${${keyVar}}`)}]`);
  if (p.type === "gemini" && keyVar === "GEMINI_API_KEY")
    lines[lines.length - 1] += "    # several keys: GEMINI_API_KEY=key1,key2 (failover and spreading)";
  if (p.options !== undefined) {
    lines.push("    options:");
    for (const [k, v] of Object.entries(p.options))
      lines.push(`      ${k}: ${typeof v === "string" ? q(v) : v}`);
  }
  lines.push("");
  return lines;
}
