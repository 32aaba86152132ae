/**
 * The `state:` configuration: memory by default, Redis from the file or CCGATE_REDIS_URL, and
 * a readable problem for a URL that is not one.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ConfigError, loadConfig } from "../../src/config/load.js";

function dirWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ccgate-state-config-"));
  writeFileSync(join(dir, "ccgate.yaml"), yaml);
  return dir;
}

describe("state config", () => {
  it("defaults to memory with the ccgate prefix", () => {
    const { config } = loadConfig({ cwd: dirWith(""), env: {} });
    expect(config.state).toEqual({ redis: { prefix: "ccgate" } });
  });

  it("takes the Redis URL from the file, and CCGATE_REDIS_URL over it", () => {
    const yaml = "state:\n  redis:\n    url: redis://file-host:6379\n    prefix: team-a\n";
    expect(loadConfig({ cwd: dirWith(yaml), env: {} }).config.state.redis).toEqual({
      url: "redis://file-host:6379",
      prefix: "team-a",
    });
    const env = { CCGATE_REDIS_URL: "rediss://:secret@env-host:6380/2" };
    expect(loadConfig({ cwd: dirWith(yaml), env }).config.state.redis).toEqual({
      url: "rediss://:secret@env-host:6380/2",
      prefix: "team-a",
    });
  });

  it("reports a URL that is not a Redis URL without echoing it", () => {
    const env = { CCGATE_REDIS_URL: "http://user:hunter2@host" };
    let problems: string[] = [];
    try {
      loadConfig({ cwd: dirWith(""), env });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual(["state.redis.url: expected redis://host:port or rediss://host:port"]);
    expect(problems.join()).not.toContain("hunter2");
  });
});
