import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, type LoadedConfig } from "../../src/config/load.js";
import { reloadConfig, watchConfig } from "../../src/config/watch.js";

const config = (port: number, extra: string[] = []) =>
  ["server:", `  port: ${port}`, "providers:", "  - {name: g, type: gemini, apiKeys: [k]}", ...extra].join(
    "\n",
  );

type Event = { kind: "change"; loaded: LoadedConfig } | { kind: "error"; err: unknown };

/** Watches a fresh config file and queues what the callbacks report. */
function setup(debounceMs = 50) {
  const dir = mkdtempSync(join(tmpdir(), "ccgate-watch-"));
  const file = join(dir, "ccgate.yaml");
  writeFileSync(file, config(7000));
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  const stop = watchConfig(
    file,
    (loaded) => {
      events.push({ kind: "change", loaded });
      wake?.();
    },
    (err) => {
      events.push({ kind: "error", err });
      wake?.();
    },
    { debounceMs, load: { env: {} } },
  );
  stops.push(stop);
  /** The next event, or a failure after 5 s. */
  const next = async (): Promise<Event> => {
    const deadline = Date.now() + 5_000;
    while (events.length === 0) {
      if (Date.now() > deadline) throw new Error("no watch event within 5 s");
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return events.shift() as Event;
  };
  return { dir, file, events, next, stop };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe("config reload", () => {
  it("reloadConfig returns the config or throws ConfigError with the problems", () => {
    const { file } = setup();
    expect(reloadConfig({ configPath: file, env: {} }).config.server.port).toBe(7000);
    writeFileSync(file, config(7000, ["routes:", "  - {name: r, targets: [nope/x]}"]));
    expect(() => reloadConfig({ configPath: file, env: {} })).toThrow(ConfigError);
  });

  it("a good edit → onChange with the new config", async () => {
    const { file, next } = setup();
    writeFileSync(file, config(7001));
    const event = await next();
    expect(event.kind).toBe("change");
    if (event.kind === "change") {
      expect(event.loaded.config.server.port).toBe(7001);
      expect(event.loaded.path).toBe(file);
    }
  });

  it("a bad edit → onError with every problem; a later fix → onChange", async () => {
    const { file, next } = setup();
    writeFileSync(
      file,
      config(7002, ["routes:", "  - {name: r, targets: [nope/x]}", "  - {name: e, targets: []}"]).replace(
        "type: gemini",
        "type: gemnii",
      ),
    );
    const bad = await next();
    expect(bad.kind).toBe("error");
    if (bad.kind === "error") {
      expect(bad.err).toBeInstanceOf(ConfigError);
      expect((bad.err as ConfigError).problems).toEqual([
        expect.stringMatching(/^providers\.0\.type: /),
        "routes.1.targets: a route needs at least one target 'provider/model'",
      ]);
    }
    writeFileSync(file, config(7003));
    const good = await next();
    expect(good.kind === "change" && good.loaded.config.server.port).toBe(7003);
  });

  it("an editor's atomic save (write a temp file, rename it over) is seen", async () => {
    const { dir, file, next } = setup();
    const temp = join(dir, ".ccgate.yaml.swp");
    writeFileSync(temp, config(7004));
    renameSync(temp, file);
    const event = await next();
    expect(event.kind === "change" && event.loaded.config.server.port).toBe(7004);
    // After the rename the watch still works.
    writeFileSync(file, config(7005));
    const again = await next();
    expect(again.kind === "change" && again.loaded.config.server.port).toBe(7005);
  });

  it("a burst of writes is one reload; other files in the directory are ignored", async () => {
    const { dir, file, events, next } = setup(150);
    for (let i = 0; i < 5; i++) writeFileSync(file, config(7010 + i));
    writeFileSync(join(dir, "other.txt"), "x");
    const event = await next();
    expect(event.kind === "change" && event.loaded.config.server.port).toBe(7014);
    await new Promise((r) => setTimeout(r, 400));
    expect(events).toEqual([]);
  });

  it("an error thrown by onChange reaches onError; stop() ends the watch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ccgate-watch-"));
    const file = join(dir, "ccgate.yaml");
    writeFileSync(file, config(7000));
    const errors: unknown[] = [];
    let changes = 0;
    const stop = watchConfig(
      file,
      () => {
        changes++;
        throw new Error("swap refused");
      },
      (err) => errors.push(err),
      { debounceMs: 20, load: { env: {} } },
    );
    writeFileSync(file, config(7001));
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(changes).toBe(1);
    expect(String(errors[0])).toMatch(/swap refused/);
    stop();
    writeFileSync(file, config(7002));
    await new Promise((r) => setTimeout(r, 200));
    expect(changes).toBe(1);
  });
});
