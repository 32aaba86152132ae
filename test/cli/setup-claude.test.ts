/**
 * `ccgate setup-claude [--undo]` against a temp HOME: merges into ~/.claude/settings.json keeping
 * every other byte, keeps a backup, and undo restores the user's file byte for byte (or, after
 * the user edited it, takes back only ccgate's keys) — also when setup ran again after the edit,
 * and through a symlinked settings.json, which stays a link. Plus the JSON text editor underneath.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
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

describe("ccgate setup-claude run again, then --undo", () => {
  /** The user's file before any setup, with their own relay URL for undo to put back. */
  const ORIGINAL = `{"theme":"dark","env":{"KEEP":"1","ANTHROPIC_BASE_URL":"https://old.example/relay"}}`;

  /** Setup on the user's file, then the user adds `"model":"opus"` by hand. */
  async function setUpThenEdit() {
    const box = sandbox();
    const path = writeSettings(box, ORIGINAL);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace(`"theme":"dark"`, `"theme":"dark","model":"opus"`),
    );
    return { box, path };
  }

  it("keeps an edit made before a re-run that changed the port", async () => {
    const { box, path } = await setUpThenEdit();
    const again = await runCli(box, ["setup-claude", "-p", "9999"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("will take back only ccgate's env keys");
    expect(JSON.parse(readFileSync(path, "utf8")).env.ANTHROPIC_BASE_URL).toBe("http://127.0.0.1:9999");

    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).not.toContain("byte for byte");
    expect(undo.stdout).toContain("kept your edits");
    expect(readFileSync(path, "utf8")).toBe(
      `{"theme":"dark","model":"opus","env":{"KEEP":"1","ANTHROPIC_BASE_URL":"https://old.example/relay"}}`,
    );
    expect(existsSync(`${path}.ccgate-backup`)).toBe(false);
    expect(existsSync(`${path}.ccgate-undo.json`)).toBe(false);
  });

  it("keeps an edit made before a re-run that had nothing to change", async () => {
    const { box, path } = await setUpThenEdit();
    const again = await runCli(box, ["setup-claude"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already points");

    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain("kept your edits");
    expect(readFileSync(path, "utf8")).toBe(
      `{"theme":"dark","model":"opus","env":{"KEEP":"1","ANTHROPIC_BASE_URL":"https://old.example/relay"}}`,
    );
  });

  it("puts back the user's own value of a key ccgate set, when they changed it before the re-run", async () => {
    const box = sandbox();
    const path = writeSettings(box, ORIGINAL);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace("http://127.0.0.1:8787", "https://new.example/relay"),
    );
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    expect((await runCli(box, ["setup-claude", "--undo"])).code).toBe(0);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      theme: "dark",
      env: { KEEP: "1", ANTHROPIC_BASE_URL: "https://new.example/relay" },
    });
  });

  it("starts over when the user took ccgate's values out by hand: undo restores that file byte for byte", async () => {
    const box = sandbox();
    const path = writeSettings(box, ORIGINAL);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    const byHand = `{\n  "theme": "light",\n  "env": {"KEEP": "2"}\n}\n`;
    writeFileSync(path, byHand);
    const again = await runCli(box, ["setup-claude"]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("will take back only");
    expect(readFileSync(`${path}.ccgate-backup`, "utf8")).toBe(byHand);
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.stdout).toContain("byte for byte");
    expect(readFileSync(path, "utf8")).toBe(byHand);
  });

  it("does not delete a file it created once the user added settings to it", async () => {
    const box = sandbox();
    const path = settingsFile(box);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    const ours = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    writeFileSync(path, `${JSON.stringify({ model: "opus", ...ours }, null, 2)}\n`);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).not.toContain("Removed");
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ model: "opus" });
  });

  it("says nothing was restored when the file is gone, and keeps the backup", async () => {
    const box = sandbox();
    const path = writeSettings(box, ORIGINAL);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    rmSync(path);
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain("Nothing restored");
    expect(readFileSync(`${path}.ccgate-backup`, "utf8")).toBe(ORIGINAL);
    expect(existsSync(path)).toBe(false);
  });
});

describe("ccgate setup-claude with a symlinked settings.json", () => {
  function linkSettings(box: Sandbox, content: string | undefined): { link: string; target: string } {
    const target = join(box.home, "dotfiles", "settings.json");
    mkdirSync(join(box.home, "dotfiles"), { recursive: true });
    if (content !== undefined) writeFileSync(target, content);
    mkdirSync(join(box.home, ".claude"), { recursive: true });
    const link = settingsFile(box);
    symlinkSync("../dotfiles/settings.json", link);
    return { link, target };
  }

  it("edits the link's target and keeps the link, through setup and --undo", async () => {
    const box = sandbox();
    const { link, target } = linkSettings(box, USER_SETTINGS);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("../dotfiles/settings.json");
    expect(JSON.parse(readFileSync(target, "utf8")).env.ANTHROPIC_AUTH_TOKEN).toBe("ccgate");
    // The backup (it may hold a token) stays in the Claude config directory, a regular file.
    expect(readFileSync(`${link}.ccgate-backup`, "utf8")).toBe(USER_SETTINGS);
    expect(existsSync(`${target}.ccgate-backup`)).toBe(false);

    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain("byte for byte");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(USER_SETTINGS);
  });

  it("keeps the link through a surgical --undo", async () => {
    const box = sandbox();
    const { link, target } = linkSettings(box, `{"env":{}}`);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    writeFileSync(link, readFileSync(link, "utf8").replace("{", `{"model":"opus",`));
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.stdout).toContain("kept your edits");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(`{"model":"opus","env":{}}`);
  });

  it("creates the target of a dangling link, and --undo removes the target but not the link", async () => {
    const box = sandbox();
    const { link, target } = linkSettings(box, undefined);
    expect((await runCli(box, ["setup-claude"])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(target, "utf8")).env.ANTHROPIC_BASE_URL).toBe("http://127.0.0.1:8787");
    const undo = await runCli(box, ["setup-claude", "--undo"]);
    expect(undo.code).toBe(0);
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
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
