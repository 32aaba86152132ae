/**
 * `ccgate setup-claude [--undo]` against a temp HOME: merges into ~/.claude/settings.json keeping
 * every other byte, keeps a backup, and undo restores the user's file byte for byte (or, after
 * the user edited it, takes back only ccgate's keys). Plus the JSON text editor underneath.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findMember, removeMember, scanObject, setMember } from "../../src/cli/json-edit.js";
import { ensureBuilt, runCli, type Sandbox, sandbox } from "./helpers/cli.js";

beforeAll(ensureBuilt, 200_000);

/** Hand-formatted, with odd spacing, unicode and escapes: any re-serialisation would show. */
const USER_SETTINGS = `{
    "model":   "opus",
    "permissions": { "allow": ["Bash(git diff:*)", "Read(~/.zshrc)"], "deny": [] },
    "statusLine": {"type": "command", "command": "echo \\"é ✓ \\u00e9\\""},
    "env": {
        "FOO": "bar",
        "ANTHROPIC_BASE_URL": "https://old.example/relay"
    },
    "cleanupPeriodDays": 30
}
`;

function settingsFile(box: Sandbox): string {
  return join(box.home, ".claude", "settings.json");
}

function writeSettings(box: Sandbox, text: string): string {
  const path = settingsFile(box);
  mkdirSync(join(box.home, ".claude"), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe("ccgate setup-claude", () => {
  it("merges the env block, keeps other settings byte for byte, and --undo restores the file exactly", async () => {
    const box = sandbox();
    const path = writeSettings(box, USER_SETTINGS);
    const run = await runCli(box, ["setup-claude", "--port", "9876"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("ccgate setup-claude --undo");

    const after = readFileSync(path, "utf8");
    const parsed = JSON.parse(after) as { env: Record<string, string> };
    expect(parsed.env).toEqual({
      FOO: "bar",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9876",
      ANTHROPIC_AUTH_TOKEN: "ccgate",
    });
    // Everything outside the changed values is the user's text, unchanged.
    const expected = USER_SETTINGS.replace("https://old.example/relay", "http://127.0.0.1:9876").replace(
      `"ANTHROPIC_BASE_URL": "http://127.0.0.1:9876"`,
      `"ANTHROPIC_BASE_URL": "http://127.0.0.1:9876",\n        "ANTHROPIC_AUTH_TOKEN": "ccgate"`,
    );
    expect(after).toBe(expected);
    expect(readFileSync(`${path}.ccgate-backup`, "utf8")).toBe(USER_SETTINGS);

    // Running it twice changes nothing and keeps the first backup.
    const again = await runCli(box, ["setup-claude", "--port", "9876"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already points");
    expect(readFileSync(path, "utf8")).toBe(expected);

    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain("byte for byte");
    expect(readFileSync(path, "utf8")).toBe(USER_SETTINGS);
    expect(existsSync(`${path}.ccgate-backup`)).toBe(false);
    expect(existsSync(`${path}.ccgate-undo.json`)).toBe(false);

    const nothing = await runCli(box, ["setup-claude", "--undo"]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain("Nothing to undo");
  });

  it("after the user edited the file, --undo takes back only ccgate's keys and keeps the edits", async () => {
    const box = sandbox();
    const original = `{"theme":"dark","env":{"KEEP":"1"}}`;
    const path = writeSettings(box, original);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    const written = readFileSync(path, "utf8");
    expect(written).toBe(
      `{"theme":"dark","env":{"KEEP":"1","ANTHROPIC_BASE_URL":"http://127.0.0.1:8787","ANTHROPIC_AUTH_TOKEN":"ccgate"}}`,
    );
    // The user adds a setting afterwards.
    writeFileSync(path, written.replace(`"theme":"dark"`, `"theme":"light","verbose":true`));
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain("kept your edits");
    expect(readFileSync(path, "utf8")).toBe(`{"theme":"light","verbose":true,"env":{"KEEP":"1"}}`);
  });

  it("creates the file when missing (with the config's token) and --undo removes it again", async () => {
    const box = sandbox({ CCGATE_AUTH_TOKEN: "gw-token-42" });
    const path = settingsFile(box);
    const run = await runCli(box, ["setup-claude"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:8787", ANTHROPIC_AUTH_TOKEN: "gw-token-42" },
    });
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it("refuses a settings file that is not valid JSON and leaves it alone", async () => {
    const box = sandbox();
    const path = writeSettings(box, "{ not json");
    const run = await runCli(box, ["setup-claude"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("not valid JSON");
    expect(readFileSync(path, "utf8")).toBe("{ not json");
  });

  it("honours CLAUDE_CONFIG_DIR", async () => {
    const box = sandbox();
    const dir = join(box.home, "claude-config");
    const run = await runCli(box, ["setup-claude"], { env: { CLAUDE_CONFIG_DIR: dir } });
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, "settings.json"))).toBe(true);
    expect(existsSync(settingsFile(box))).toBe(false);
  });
});

describe("json-edit", () => {
  it("finds members with nested values, strings with braces and escapes", () => {
    const text = `{"a": {"x": [1, {"y": "}"}]}, "b": "q\\"}", "c": null}`;
    const root = scanObject(text, 0);
    expect(root.members.map((m) => m.key)).toEqual(["a", "b", "c"]);
    const b = findMember(root, "b");
    expect(b && text.slice(b.valueStart, b.valueEnd)).toBe(`"q\\"}"`);
  });

  it("sets, adds and removes members without touching other bytes", () => {
    const text = `{\n  "a": 1,\n  "b": [2]\n}\n`;
    const added = setMember(text, scanObject(text, 0), "c", `"z"`);
    expect(added).toBe(`{\n  "a": 1,\n  "b": [2],\n  "c": "z"\n}\n`);
    expect(setMember(added, scanObject(added, 0), "a", "5")).toBe(
      `{\n  "a": 5,\n  "b": [2],\n  "c": "z"\n}\n`,
    );
    expect(removeMember(added, scanObject(added, 0), "b")).toBe(`{\n  "a": 1,\n  "c": "z"\n}\n`);
    expect(removeMember(added, scanObject(added, 0), "c")).toBe(text);
    expect(removeMember(`{"only": 1}`, scanObject(`{"only": 1}`, 0), "only")).toBe("{}");
    const empty = `{\n  "env": {}\n}`;
    const at = findMember(scanObject(empty, 0), "env");
    expect(at).toBeDefined();
    if (at === undefined) return;
    expect(setMember(empty, scanObject(empty, at.valueStart), "K", `"v"`)).toBe(
      `{\n  "env": {\n    "K": "v"\n  }\n}`,
    );
  });
});
