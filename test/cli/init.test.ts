/**
 * `ccgate init` as a subprocess: the written file loads with loadConfig (and builds a Gateway),
 * references keys as ${VAR} only, and is never overwritten without --force.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Gateway } from "../../src/gateway.js";
import { ensureBuilt, runCli, sandbox } from "./helpers/cli.js";

beforeAll(ensureBuilt, 200_000);

const KEYS = {
  GEMINI_API_KEY: "gem-secret-value-1234",
  OPENAI_API_KEY: "sk-openai-secret-5678",
  OPENROUTER_API_KEY: "or-secret-9012",
  DEEPSEEK_API_KEY: "ds-secret-3456",
  ANTHROPIC_API_KEY: "sk-ant-secret-7890",
};

describe("ccgate init", () => {
  it("writes a config with every detected provider as ${VAR}, which loads and builds a gateway", async () => {
    const box = sandbox(KEYS);
    const run = await runCli(box, ["init"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const path = join(box.cwd, "ccgate.yaml");
    const text = readFileSync(path, "utf8");
    for (const [name, secret] of Object.entries(KEYS)) {
      expect(text).toContain(`\${${name}}`);
      expect(text).not.toContain(secret);
      expect(run.stdout).not.toContain(secret);
    }
    expect(text).toMatch(/^# /m);

    const { config } = loadConfig({ configPath: path, env: KEYS, cwd: box.cwd });
    expect(config.providers.map((p) => `${p.name}:${p.type}`)).toEqual([
      "gemini:gemini",
      "openai:openai",
      "openrouter:openai",
      "deepseek:openai",
      "anthropic:anthropic",
    ]);
    const openai = config.providers.find((p) => p.name === "openai");
    expect(openai?.apiKeys).toEqual([KEYS.OPENAI_API_KEY]);
    const routes = Object.fromEntries(config.routes.map((r) => [r.name, r.targets]));
    expect(routes.large?.[0]).toBe("gemini/gemini-2.5-pro");
    expect(routes.background?.[0]).toBe("gemini/gemini-2.5-flash");
    expect(routes.default).toContain("anthropic/$model");
    await new Gateway(config).close();

    expect(run.stdout).toContain("Next:");
    expect(run.stdout).toContain("ccgate code");
  });

  it("without any key writes a Gemini config that loads and says how to add the key", async () => {
    const box = sandbox();
    const run = await runCli(box, ["init", "--config", "gw.yaml", "--port", "9123"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("export GEMINI_API_KEY=");
    const path = join(box.cwd, "gw.yaml");
    const { config } = loadConfig({ configPath: path, env: {}, cwd: box.cwd });
    expect(config.server.port).toBe(9123);
    expect(config.providers.map((p) => p.name)).toEqual(["gemini"]);
    // At start the loader picks the key up from the environment.
    const withKey = loadConfig({ configPath: path, env: { GEMINI_API_KEY: "k1,k2" }, cwd: box.cwd });
    expect(withKey.config.providers[0]?.apiKeys).toHaveLength(2);
    expect(run.stdout).toContain("ccgate doctor --config gw.yaml");
  });

  it("refuses to overwrite without --force, and keeps a .bak with it", async () => {
    const box = sandbox({ GEMINI_API_KEY: "k" });
    const path = join(box.cwd, "ccgate.yaml");
    writeFileSync(path, "# mine\n");
    const refused = await runCli(box, ["init"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("already exists");
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(path, "utf8")).toBe("# mine\n");

    const forced = await runCli(box, ["init", "--force"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(`${path}.bak`, "utf8")).toBe("# mine\n");
    expect(readFileSync(path, "utf8")).toContain("${GEMINI_API_KEY}");
  });

  it("rejects a bad --port with the usage exit code and writes nothing", async () => {
    const box = sandbox();
    const run = await runCli(box, ["init", "--port", "http"]);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain("--port");
    expect(existsSync(join(box.cwd, "ccgate.yaml"))).toBe(false);
  });

  it("has --help", async () => {
    const run = await runCli(sandbox(), ["init", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--force");
    expect(run.stdout).toContain("GEMINI_API_KEY");
  });
});
