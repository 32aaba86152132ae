/**
 * `ccgate status`: the running gateway's `/status` as tables (or the raw JSON with `--json`).
 */
import type { Command } from "commander";
import { withConfigOptions } from "./cli-config.js";
import { CliError, EXIT } from "./exit-codes.js";
import { getJson } from "./gateway-client.js";
import { type LocateFlags, locateGateway } from "./locate-gateway.js";
import { renderStatus } from "./status-render.js";
import { style } from "./ui.js";

export function registerStatusCommand(program: Command): void {
  withConfigOptions(
    program
      .command("status")
      .description("show the running gateway's targets, keys (masked), breaker states and recent errors"),
  )
    .option("--json", "print the /status JSON as is")
    .option("--url <url>", "gateway to ask (default: the background gateway, else the config's address)")
    .addHelpText("after", "\nExit codes: 0 shown, 4 no gateway answers, 1 it refused or failed the request.")
    .action(async (opts: LocateFlags & { json?: boolean }) => {
      const at = locateGateway(opts);
      const res = await getJson(at.url, "/status", at.token);
      if (res.kind === "down")
        throw new CliError(
          EXIT.notRunning,
          `no ccgate gateway answers at ${at.url} (${res.reason}). Start one with \`ccgate start -d\` (or \`ccgate code\`).`,
        );
      if (res.kind === "http") {
        if (res.status === 401)
          throw new CliError(
            EXIT.failure,
            `the gateway at ${at.url} wants its client token: set CCGATE_AUTH_TOKEN (or server.authToken in the config) to the token it was started with.`,
          );
        throw new CliError(
          EXIT.failure,
          `GET ${at.url}/status answered ${res.status}: ${res.text.slice(0, 500)}`,
        );
      }
      if (opts.json === true) console.log(JSON.stringify(res.body, null, 2));
      else console.log(renderStatus(res.body, at.url, style(process.stdout)));
    });
}
