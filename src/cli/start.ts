import type { Command } from "commander";
import { ConfigError, loadConfig } from "../config/load.js";
import { startGateway } from "../server.js";

export function registerStartCommand(program: Command): void {
  program
    .command("start", { isDefault: true })
    .description("run the gateway in the foreground")
    .option("-c, --config <file>", "config file (default: ./ccgate.yaml when present)")
    .option("-p, --port <port>", "port to listen on (default 8787, env CCGATE_PORT)")
    .option("-H, --host <host>", "address to bind (default 127.0.0.1, env CCGATE_HOST)")
    .action(async (opts: { config?: string; port?: string; host?: string }) => {
      let loaded: ReturnType<typeof loadConfig>;
      try {
        loaded = loadConfig({
          configPath: opts.config,
          overrides: { host: opts.host, port: opts.port === undefined ? undefined : Number(opts.port) },
        });
      } catch (err) {
        if (err instanceof ConfigError) {
          console.error(err.message);
          process.exit(2);
        }
        throw err;
      }
      const { config } = loaded;
      const running = await startGateway(config).catch((err: NodeJS.ErrnoException) => {
        if (err instanceof ConfigError) {
          console.error(err.message);
          process.exit(2);
        }
        if (err.code === "EADDRINUSE") {
          console.error(
            `Port ${config.server.port} on ${config.server.host} is already in use: stop the other process or pick another port with --port or CCGATE_PORT.`,
          );
          process.exit(3);
        }
        throw err;
      });
      const log = running.app.log;
      log.info(`ccgate listening on ${running.url}${loaded.path ? ` (config ${loaded.path})` : ""}`);
      for (const u of running.gateway.upstreams.values()) {
        if (u.requiresKey && u.keys.length === 0)
          log.warn(
            `provider "${u.name}" has no API key: requests will fail with authentication_error. Set GEMINI_API_KEY=<key>[,<key2>…] or add apiKeys in ccgate.yaml, then restart.`,
          );
        else log.info(`provider "${u.name}" (${u.type}) ${u.baseUrl} with ${u.keys.length} key(s)`);
      }
      log.info(
        `use it: ANTHROPIC_BASE_URL=${running.url} ANTHROPIC_AUTH_TOKEN=${config.server.authToken ? "<your CCGATE_AUTH_TOKEN>" : "any"} claude`,
      );
      const shutdown = (signal: string) => {
        log.info(`${signal}: shutting down`);
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    });
}
