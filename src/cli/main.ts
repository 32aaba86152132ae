/**
 * `ccgate` command line. Thin: parse arguments, call into the app.
 */
import { Command } from "commander";
import { registerStartCommand } from "./start.js";

const program = new Command()
  .name("ccgate")
  .description("Anthropic Messages API gateway for Claude Code (Gemini, OpenAI-compatible, Anthropic relays)")
  .version("0.1.0");

registerStartCommand(program);

await program.parseAsync(process.argv);
