/**
 * `ccgate doctor`: a checklist of everything between Claude Code and the upstream — config, each
 * key (live), the port, a running gateway, Claude Code itself, settings files that point
 * elsewhere — each problem with its fix. Exit code 1 when anything failed.
 */
import type { Command } from "commander";
import { claudeSettingsPath } from "./claude-settings.js";
import { type ConfigFlags, parseSeconds, withConfigOptions } from "./cli-config.js";
import { type Check, formatCheck } from "./doctor-check.js";
import { claudeCheck, configCheck, gatewayCheck, keyChecks, portCheck } from "./doctor-checks.js";
import { settingsChecks } from "./doctor-settings.js";
import { EXIT } from "./exit-codes.js";
import { locateGateway } from "./locate-gateway.js";
import { isTty, spinner, style } from "./ui.js";

export function registerDoctorCommand(program: Command): void {
  withConfigOptions(
    program
      .command("doctor")
      .description("check config, keys, port, gateway and Claude Code; say how to fix problems"),
  )
    .option("--timeout <seconds>", "deadline for each live key check", "10")
    .addHelpText(
      "after",
      "\nExit codes: 0 nothing wrong (warnings allowed), 1 at least one problem, 64 bad usage.",
    )
    .action(async (opts: ConfigFlags & { timeout: string }) => {
      const timeoutMs = parseSeconds(opts.timeout, "--timeout") * 1000;
      const s = style(process.stdout);
      const tty = isTty(process.stdout);
      const checks: Check[] = [];
      const report = (...more: Check[]) => {
        for (const c of more) {
          checks.push(c);
          console.log(formatCheck(c, s, tty));
        }
      };
      const step = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
        const progress = spinner(label);
        try {
          return await run();
        } finally {
          progress.stop();
        }
      };

      const at = locateGateway(opts);
      report(configCheck(at.loaded, at.configError));
      if (at.loaded !== undefined) {
        const loaded = at.loaded;
        report(...(await step("checking API keys…", () => keyChecks(loaded, timeoutMs))));
      } else report({ name: "key", status: "info", message: "skipped: the config must load first" });

      report(await step("checking the port…", () => portCheck(at.host, at.port, at.url)));
      report(await step("looking for a running gateway…", () => gatewayCheck(at.url, at.token, at.daemon)));
      report(await step("looking for Claude Code…", () => claudeCheck()));
      report(...settingsChecks(at.daemon?.url ?? at.url, at.token, claudeSettingsPath(), process.cwd()));

      const failed = checks.filter((c) => c.status === "fail").length;
      const warned = checks.filter((c) => c.status === "warn").length;
      const warnings = warned > 0 ? ` (${warned} warning(s))` : "";
      console.log(
        failed === 0
          ? `\n${s.green("No problems found.")}${warnings}`
          : `\n${s.red(`${failed} problem(s) found`)}${warnings}: see the fixes above.`,
      );
      process.exitCode = failed === 0 ? EXIT.ok : EXIT.failure;
    });
}
