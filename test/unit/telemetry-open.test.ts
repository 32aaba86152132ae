import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { startGateway } from "../../src/server.js";

describe("a request log that cannot be opened", () => {
  it("stops start-up with the setting and the fix, not a stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ccgate-log-open-"));
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory");
    const { config } = loadConfig({
      cwd: dir,
      env: { CCGATE_PORT: "0", CCGATE_REQUEST_LOG: join(file, "requests.sqlite") },
    });
    config.server.logLevel = "silent";
    const started = startGateway(config);
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(
      /telemetry\.requestLog\.path: cannot open the request log at .*a-file.*CCGATE_REQUEST_LOG=off/,
    );
  });
});
