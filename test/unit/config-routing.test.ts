import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { RouteTable } from "../../src/routing/resolve-route.js";

function dirWith(yaml: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ccgate-config-routing-"));
  writeFileSync(join(dir, "ccgate.yaml"), yaml);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Every problem of a config that must not load. */
function problems(
  yaml: string,
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): string[] {
  try {
    loadConfig({ cwd: dirWith(yaml, files), env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("the config loaded, but should not have");
}

const PROVIDERS = ["providers:", "  - {name: g, type: gemini, apiKeys: [k]}", "  - {name: o, type: openai}"];

describe("config: routing model", () => {
  it("ccgate.yaml.example loads as it is (with its secrets set) and routes as it says", () => {
    const example = readFileSync(resolve(import.meta.dirname, "../../ccgate.yaml.example"), "utf8");
    const env = {
      GEMINI_KEY_1: "g-key-1",
      GEMINI_KEY_2: "g-key-2",
      OPENROUTER_API_KEY: "or-key",
      DEEPSEEK_API_KEY: "ds-key",
      RELAY_TOKEN: "relay-token",
    };
    const { config } = loadConfig({ cwd: dirWith(example), env });
    expect(config.providers.map((p) => `${p.name}:${p.type}`)).toEqual([
      "gemini:gemini",
      "vertex:vertex",
      "openrouter:openai",
      "deepseek:openai",
      "ollama:openai",
      "relay:anthropic",
    ]);
    expect(config.providers[0]?.apiKeys).toEqual(["g-key-1", { name: "team-key", key: "g-key-2" }]);
    expect(config.routing).toEqual({
      longContextTokens: 60_000,
      thinkingBudget: 1,
      backgroundModels: ["*haiku*"],
    });
    const table = new RouteTable(config.routes, { providers: config.providers, routing: config.routing });
    expect(table.resolve({ model: "claude-haiku-4-5" })?.targets[0]).toEqual({
      provider: "gemini",
      model: "gemini-2.5-flash",
    });
    expect(table.resolve({ model: "local" })?.targets).toEqual([
      { provider: "ollama", model: "qwen3-coder:30b" },
    ]);
    const main = table.resolve({ model: "claude-sonnet-4-6" });
    expect(main?.route).toBe("default");
    expect(main?.targets.at(-1)).toEqual({ provider: "openrouter", model: "deepseek/deepseek-chat-v3.1" });
  });

  it("defaults: match is * when omitted, routing thresholds, provider models and their capabilities", () => {
    const { config } = loadConfig({
      cwd: dirWith(
        [
          "providers:",
          "  - {name: g, type: gemini, apiKeys: [k]}",
          "  - {name: o, type: openai, models: [plain-model, {name: m2, aliases: [two], images: false}]}",
          "routes:",
          "  - {name: long, when: {long_context: true}, targets: [g/gemini-2.5-pro]}",
          "  - {name: default, targets: ['o/$model']}",
        ].join("\n"),
      ),
      env: {},
    });
    expect(config.routes[0]?.match).toEqual(["*"]);
    expect(config.routing.longContextTokens).toBe(60_000);
    expect(config.providers[1]?.models).toEqual([
      { name: "plain-model", aliases: [], images: true, tools: true },
      { name: "m2", aliases: ["two"], images: false, tools: true },
    ]);
  });

  it("an unknown provider type, a missing provider and an empty target list: one message each", () => {
    const list = problems(
      [
        "providers:",
        "  - {name: g, type: gemnii}",
        "routes:",
        "  - {name: a, targets: [nope/m]}",
        "  - {name: b, targets: []}",
      ].join("\n"),
    );
    // zod runs first; the missing provider is a cross-check that waits for a valid shape.
    expect(list).toEqual([
      'providers.0.type: Invalid option: expected one of "gemini"|"openai"|"anthropic"|"vertex" — use one of the listed values',
      "routes.1.targets: a route needs at least one target 'provider/model'",
    ]);
    expect(
      problems(
        [
          ...PROVIDERS,
          "routes:",
          "  - {name: a, targets: [nope/m, {target: g/x}, {target: gone/y, weight: 2}]}",
        ].join("\n"),
      ),
    ).toEqual([
      'routes.0.targets.0: provider "nope" is not defined — add it under providers or fix the name',
      'routes.0.targets.2: provider "gone" is not defined — add it under providers or fix the name',
    ]);
  });

  it("a route after a catch-all without conditions is reported unreachable", () => {
    const list = problems(
      [
        ...PROVIDERS,
        "routes:",
        "  - {name: everything, match: ['*'], targets: [g/a]}",
        "  - {name: haiku, match: ['*haiku*'], targets: [g/b]}",
        "  - {name: think, when: {thinking: true}, targets: [g/c]}",
        "  - {name: only-by-name, match: [], targets: [g/d]}",
      ].join("\n"),
    );
    expect(list).toHaveLength(2);
    expect(list[0]).toBe(
      'routes.1: route "haiku" is unreachable — routes.0 ("everything") before it already takes every model it matches without conditions; move it earlier, narrow the earlier route\'s match, or use match: [] to reach it only by name (x-ccgate-route)',
    );
    expect(list[1]).toMatch(/^routes\.2: route "think" is unreachable — routes\.0 \("everything"\)/);
  });

  it("the same literal pattern twice shadows the later route; conditions on the earlier one do not", () => {
    expect(
      problems(
        [
          ...PROVIDERS,
          "routes:",
          "  - {name: a, match: [claude-opus-4-1], targets: [g/a]}",
          "  - {name: b, match: [Claude-Opus-4-1], targets: [g/b]}",
        ].join("\n"),
      ),
    ).toEqual([expect.stringMatching(/^routes\.1: route "b" is unreachable — routes\.0 \("a"\)/)]);
    expect(() =>
      loadConfig({
        cwd: dirWith(
          [
            ...PROVIDERS,
            "routes:",
            "  - {name: think, when: {thinking: true}, targets: [g/a]}",
            "  - {name: everything, targets: [g/b]}",
            "  - {name: default, targets: [g/c]}",
          ].join("\n"),
        ),
        env: {},
      }),
    ).toThrow(/routes\.2: route "default" is unreachable — routes\.1 \("everything"\)/);
  });

  it("a default route written first is tried last, so it shadows nothing", () => {
    const { config } = loadConfig({
      cwd: dirWith(
        [
          ...PROVIDERS,
          "routes:",
          "  - {name: default, targets: [g/a]}",
          "  - {name: bg, match: ['*haiku*'], targets: [g/b]}",
        ].join("\n"),
      ),
      env: {},
    });
    expect(new RouteTable(config.routes).resolve({ model: "claude-haiku-4-5" })?.route).toBe("bg");
  });

  it("duplicate route names and colliding model aliases are named", () => {
    expect(
      problems(
        [
          "providers:",
          "  - {name: g, type: gemini, apiKeys: [k], models: [{name: a, aliases: [x]}, {name: b, aliases: [x]}]}",
          "routes:",
          "  - {name: r, match: [one], targets: [g/a]}",
          "  - {name: r, match: [two], targets: [g/b]}",
        ].join("\n"),
      ),
    ).toEqual([
      'providers.0.models.1: "x" also names providers.0.models.0 — names and aliases must differ',
      'routes.1.name: "r" is also the name of routes.0 — route names must differ',
    ]);
  });

  it("validation messages name the field, also inside targets, conditions and models", () => {
    expect(
      problems(
        [
          "providers:",
          "  - {name: g, type: gemini, models: [{name: m, images: 'no'}, 5]}",
          "routes:",
          "  - {name: 'my route', targets: [g]}",
          "  - {name: w, when: {}, targets: [{target: g/x, weight: 0}]}",
          "  - {name: t, when: {thinking: {min: 3}, sunny: true}, targets: [g/x]}",
          "routing: {longContextTokens: lots}",
        ].join("\n"),
      ),
    ).toEqual([
      "providers.0.models.0.images: Invalid input: expected boolean, received string",
      "providers.0.models.1: Invalid input: expected string or object",
      "routes.0.name: use letters, digits and '_', '.', ':', '@', '+', '-' (no spaces)",
      "routes.0.targets.0: a target is 'provider/model'",
      "routes.1.when: give at least one condition, or leave `when` out",
      "routes.1.targets.0.weight: Too small: expected number to be >0",
      "routes.2.when.thinking.minBudget: Invalid input: expected number, received undefined",
      'routes.2.when.thinking: Unrecognized key: "min" — remove it or check its spelling (see ccgate.yaml.example)',
      'routes.2.when: Unrecognized key: "sunny" — remove it or check its spelling (see ccgate.yaml.example)',
      "routing.longContextTokens: Invalid input: expected number, received string",
    ]);
  });

  it("apiKeys from files: read at load time, relative to the config file, trimmed", () => {
    const dir = dirWith(
      ["providers:", "  - {name: g, type: gemini, apiKeys: [{name: from-file, file: ./g.key}, plain]}"].join(
        "\n",
      ),
      { "g.key": "  secret-from-file\n" },
    );
    const { config } = loadConfig({ cwd: dir, env: {} });
    expect(config.providers[0]?.apiKeys).toEqual([{ name: "from-file", key: "secret-from-file" }, "plain"]);
  });

  it("an unreadable, missing or empty key file is one problem each", () => {
    const dir = dirWith(
      [
        "providers:",
        "  - name: g",
        "    type: gemini",
        "    apiKeys:",
        "      - {name: gone, file: missing.key}",
        "      - {name: empty, file: empty.key}",
        "      - {name: locked, file: locked.key}",
        "      - {name: both, file: empty.key, key: abc}",
      ].join("\n"),
      { "empty.key": "\n", "locked.key": "secret" },
    );
    chmodSync(join(dir, "locked.key"), 0o000);
    let list: string[] = [];
    try {
      loadConfig({ cwd: dir, env: {} });
    } catch (err) {
      list = (err as ConfigError).problems;
    }
    expect(list[0]).toBe(
      `providers.0.apiKeys.0.file: cannot read the key file ${join(dir, "missing.key")} (ENOENT) — check the path and its permissions`,
    );
    expect(list[1]).toBe(`providers.0.apiKeys.1.file: the key file ${join(dir, "empty.key")} is empty`);
    // root can read a 000 file; then only the other problems are reported.
    const root = process.getuid?.() === 0;
    if (!root)
      expect(list[2]).toMatch(
        /^providers\.0\.apiKeys\.2\.file: cannot read the key file .*locked\.key \(EACCES\)/,
      );
    expect(list.at(-1)).toBe("providers.0.apiKeys.3.file: give either key or file, not both");
    expect(list).toHaveLength(root ? 3 : 4);
  });
});
