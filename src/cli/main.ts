/**
 * `ccgate` command line. Thin: parse arguments, call into the app. Exit codes: ./exit-codes.ts.
 */
import { Command, CommanderError } from "commander";
import { registerCodeCommand } from "./code.js";
import { registerDoctorCommand } from "./doctor.js";
import { CliError, EXIT } from "./exit-codes.js";
import { registerInitCommand } from "./init.js";
import { registerSetupClaudeCommand } from "./setup-claude.js";
import { registerStartCommand } from "./start.js";
import { registerStatusCommand } from "./status.js";
import { registerStopCommand } from "./stop.js";

const program = new Command()
  .name("ccgate")
  .description("Anthropic Messages API gateway for Claude Code (Gemini, OpenAI-compatible, Anthropic relays)")
  .version("0.1.0")
  // Options after a subcommand belong to it (`ccgate code -- ...` passes the rest to claude).
  .enablePositionalOptions()
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .addHelpText(
    "after",
    `
Getting started:
  ccgate init      write ccgate.yaml from the API keys in your environment
  ccgate doctor    check keys, port and Claude Code
  ccgate code      run Claude Code through the gateway

Exit codes: 0 ok, 1 failure, 2 invalid config, 3 port in use, 4 not running,
5 Claude Code not found, 6 gateway did not start in time, 64 bad usage.`,
  );

registerStartCommand(program);
registerStopCommand(program);
registerStatusCommand(program);
registerCodeCommand(program);
registerSetupClaudeCommand(program);
registerInitCommand(program);
registerDoctorCommand(program);
for (const command of program.commands) command.exitOverride();

// Commands set process.exitCode and end by themselves (a foreground gateway keeps running).
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end through here with exitCode 0; usage errors were printed already.
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  if (err instanceof CliError) {
    console.error(`ccgate: ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error(err);
  process.exit(EXIT.failure);
}
