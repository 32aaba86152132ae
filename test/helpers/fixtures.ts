import { fileURLToPath } from "node:url";

/** Request bodies captured from the real Claude Code CLI (test/fixtures/claude-code/README.md). */
export const CLAUDE_CODE_FIXTURES = fileURLToPath(new URL("../fixtures/claude-code", import.meta.url));
