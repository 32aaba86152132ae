import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { RouteTable } from "../../src/routing/resolve-route.js";

const emptyDir = () => mkdtempSync(join(tmpdir(), "ccgate-config-"));

function withFile(yaml: string): string {
  const dir = emptyDir();
  writeFileSync(join(dir, "ccgate.yaml"), yaml);
  return dir;
}

describe("loadConfig", () => {
  it("zero config: loopback, a keyless gemini provider and the default model map", () => {
    const { config, path } = loadConfig({ env: {}, cwd: emptyDir() });
    expect(path).toBeUndefined();
    expect(config.server.host).toBe("127.0.0.1");
    expect(config.server.port).toBe(8787);
    expect(config.providers).toHaveLength(1);
    expect(config.providers[0]).toMatchObject({ name: "gemini", type: "gemini", apiKeys: [] });
    const routes = new RouteTable(config.routes);
    expect(routes.resolve({ model: "claude-sonnet-4-6" })?.targets).toEqual([
      { provider: "gemini", model: "gemini-2.5-pro" },
    ]);
    expect(routes.resolve({ model: "claude-haiku-4-5" })?.targets).toEqual([
      { provider: "gemini", model: "gemini-2.5-flash" },
    ]);
    expect(routes.resolve({ model: "gemini-3-pro-preview" })?.targets).toEqual([
      { provider: "gemini", model: "gemini-3-pro-preview" },
    ]);
    expect(routes.resolve({ model: "claude-opus-5-5" })?.route).toBe("large");
  });

  it("environment: several keys, base URL, default model, host/port/token", () => {
    const { config } = loadConfig({
      cwd: emptyDir(),
      env: {
        GEMINI_API_KEY: "k1, k2 ,,k3",
        GEMINI_BASE_URL: "http://127.0.0.1:9999",
        CCGATE_DEFAULT_MODEL: "gemini-3-pro-preview",
        CCGATE_HOST: "0.0.0.0",
        CCGATE_PORT: "9000",
        CCGATE_AUTH_TOKEN: "tok",
      },
    });
    expect(config.providers[0]?.apiKeys).toEqual([
      { name: "GEMINI_API_KEY#1", key: "k1" },
      { name: "GEMINI_API_KEY#2", key: "k2" },
      { name: "GEMINI_API_KEY#3", key: "k3" },
    ]);
    expect(config.providers[0]?.baseUrl).toBe("http://127.0.0.1:9999");
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 9000, authToken: "tok" });
    expect(new RouteTable(config.routes).resolve({ model: "claude-sonnet-4-6" })?.targets[0]?.model).toBe(
      "gemini-3-pro-preview",
    );
  });

  it("a non-loopback bind without a client token is refused with the fix", () => {
    expect(() => loadConfig({ cwd: emptyDir(), env: { CCGATE_HOST: "0.0.0.0" } })).toThrow(
      /server.host.*authToken/s,
    );
  });

  it("YAML file: model shorthand, ${VAR} secrets, env overrides the file", () => {
    const dir = withFile(
      [
        "server:",
        "  port: 7000",
        "models:",
        "  default: gemini-3-pro-preview",
        "  small: gemini-3-flash-preview",
        "providers:",
        "  - name: gemini",
        "    type: gemini",
        '    apiKeys: ["${MY_KEY}"]',
      ].join("\n"),
    );
    const { config, path } = loadConfig({ cwd: dir, env: { MY_KEY: "secret", CCGATE_PORT: "7001" } });
    expect(path).toBe(join(dir, "ccgate.yaml"));
    expect(config.server.port).toBe(7001);
    expect(config.providers[0]?.apiKeys).toEqual(["secret"]);
    const routes = new RouteTable(config.routes);
    expect(routes.resolve({ model: "claude-haiku-4-5" })?.targets[0]?.model).toBe("gemini-3-flash-preview");
    expect(routes.resolve({ model: "claude-opus-4-1" })?.targets[0]?.model).toBe("gemini-3-pro-preview");
  });

  it("reports every problem, each naming its field and the fix", () => {
    const dir = withFile(
      [
        "server:",
        "  port: 'eighty'",
        "  hots: 1.2.3.4",
        "providers:",
        "  - name: g",
        "    type: gemnii",
        "routes:",
        "  - name: r",
        "    match: ['*']",
        "    targets: ['missing/x']",
      ].join("\n"),
    );
    try {
      loadConfig({ cwd: dir, env: {} });
      expect.unreachable("should have thrown");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join("\n");
      expect(problems).toMatch(/server\.port: .*expected number/);
      expect(problems).toMatch(/server: .*hots.*remove it or check its spelling/);
      expect(problems).toMatch(/providers\.0\.type: .*one of/);
    }
  });

  it("a route pointing at a missing provider is named", () => {
    const dir = withFile(
      [
        "providers:",
        "  - {name: g, type: gemini}",
        "routes:",
        "  - {name: r, match: ['*'], targets: ['nope/m']}",
      ].join("\n"),
    );
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(
      /routes\.0\.targets\.0: provider "nope" is not defined/,
    );
  });

  it("a YAML syntax error names the file and line", () => {
    const dir = withFile("server:\n  port: [1,\n");
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/ccgate\.yaml: YAML syntax error.*line/s);
  });

  it("a missing ${VAR} is named", () => {
    const dir = withFile(["providers:", "  - {name: g, type: gemini, apiKeys: ['${NOPE_KEY}']}"].join("\n"));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(
      /providers\.0\.apiKeys\.0: environment variable NOPE_KEY/,
    );
  });

  it("zero config also sets the routing thresholds and the resilience defaults", () => {
    const { config } = loadConfig({ env: {}, cwd: emptyDir() });
    expect(config.routing).toEqual({
      longContextTokens: 60_000,
      thinkingBudget: 1,
      backgroundModels: ["*haiku*"],
    });
    expect(config.resilience.maxAttempts).toBe(8);
    expect(config.providers[0]?.models).toEqual([]);
  });

  it("a vertex provider needs no baseUrl; resilience and per-provider rules/limits are config keys", () => {
    const dir = withFile(
      [
        "providers:",
        "  - name: vx",
        "    type: vertex",
        "    options: {project: my-project, location: global}",
        "    rules: [{when: {status: 400, message: quota}, action: next_key}]",
        "    limits: {perKey: 2}",
        "routes:",
        "  - {name: default, targets: [vx/gemini-2.5-pro]}",
        "resilience:",
        "  maxAttempts: 3",
        "  breaker: {openMs: 1000}",
      ].join("\n"),
    );
    const { config } = loadConfig({ cwd: dir, env: {} });
    expect(config.providers[0]).toMatchObject({ type: "vertex", limits: { perKey: 2 } });
    expect(config.providers[0]?.rules).toEqual([
      { when: { status: 400, message: "quota" }, action: "next_key" },
    ]);
    expect(config.resilience.maxAttempts).toBe(3);
    expect(config.resilience.breaker.openMs).toBe(1000);
    expect(() => loadConfig({ cwd: withFile("resilience: {maxAtempts: 3}"), env: {} })).toThrow(
      /resilience: Unrecognized key: "maxAtempts"/,
    );
  });
});
