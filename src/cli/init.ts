/**
 * `ccgate init`: write a commented config from the provider keys found in the environment, check
 * that it loads, and say what to do next. Never overwrites without `--force`.
 */
import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { ConfigError, loadConfig } from "../config/load.js";
import { Gateway } from "../gateway.js";
import { detectProviders, KNOWN_PROVIDERS } from "./detect-providers.js";
import { CliError, EXIT } from "./exit-codes.js";
import { renderInitYaml } from "./init-yaml.js";

export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description("write a commented ccgate.yaml from the provider keys found in the environment")
    .option("-c, --config <file>", "file to write", "ccgate.yaml")
    .option("-p, --port <port>", "port to put in the file", "8787")
    .option("-f, --force", "overwrite an existing file (the old one is kept as <file>.bak)")
    .addHelpText(
      "after",
      `
Looks for ${KNOWN_PROVIDERS.map((p) => p.env).join(", ")}.
Keys are written as \${VAR} references, never their values.`,
    )
    .action(async (opts: { config: string; port: string; force?: boolean }) => {
      const path = resolve(opts.config);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new CliError(EXIT.usage, `--port: "${opts.port}" is not a port number (0–65535)`);
      if (existsSync(path) && opts.force !== true)
        throw new CliError(
          EXIT.failure,
          `${path} already exists; nothing was written. Use --force to replace it (the old file is kept as ${path}.bak), or --config to write elsewhere.`,
        );

      const providers = detectProviders(process.env);
      const placeholder = providers.length === 0 ? KNOWN_PROVIDERS[0] : undefined;
      const yaml = renderInitYaml({ providers, port, placeholder });
      await validate(yaml, path, Object.fromEntries(providers.map((p) => [p.keyVar, process.env[p.keyVar]])));
      if (existsSync(path)) copyFileSync(path, `${path}.bak`);
      writeFileSync(path, yaml, { mode: 0o644 });

      console.log(`Wrote ${path}.`);
      if (providers.length === 0) {
        console.log(
          `No provider key found in the environment (looked for ${KNOWN_PROVIDERS.map((p) => p.env).join(", ")}).`,
        );
        console.log("The file is set up for Gemini: get a key at https://aistudio.google.com/apikey, then");
        console.log("  export GEMINI_API_KEY=<your key>");
      } else {
        const [primary, ...fallbacks] = providers;
        console.log(`Providers: ${providers.map((p) => `${p.name} (\${${p.keyVar}})`).join(", ")}.`);
        if (primary !== undefined)
          console.log(
            `Claude Code's requests go to ${primary.name}/${primary.large} (background: ${primary.name}/${primary.small})${fallbacks.length > 0 ? `, failing over to ${fallbacks.map((p) => p.name).join(", ")}` : ""}.`,
          );
        console.log("The file references the keys as ${VAR}; keep them exported where ccgate runs.");
      }
      const flag = opts.config === "ccgate.yaml" ? "" : ` --config ${opts.config}`;
      console.log("\nNext:");
      console.log(`  ccgate doctor${flag}     check the keys, the port and Claude Code`);
      console.log(`  ccgate code${flag}       run Claude Code through the gateway`);
      console.log(`  (or: ccgate start -d${flag} && ccgate setup-claude${flag}, then plain \`claude\`)`);
    });
}

/**
 * The written file must load like `ccgate start` loads it (a failure here is a bug). Only the key
 * variables it references are passed, so unrelated CCGATE_* settings cannot mask a problem.
 */
async function validate(yaml: string, path: string, env: NodeJS.ProcessEnv): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, yaml);
  try {
    const { config } = loadConfig({ configPath: tmp, env });
    await new Gateway(config).close();
  } catch (err) {
    const detail = err instanceof ConfigError ? err.message : String(err);
    throw new CliError(EXIT.failure, `ccgate init produced a config that does not load (a bug):\n${detail}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}
