/**
 * Request bodies of the scenarios, generated (seeded, deterministic) so the repo needs no captured
 * traffic: a small request, and a synthetic Claude-Code-shaped one of ~57 KB laid out like a real
 * Claude Code turn (system blocks with cache_control, 12 tools with JSON-Schema `input_schema`,
 * a mid-conversation `system` message, tool_use / tool_result rounds; protocol.md E).
 * The fake reads none of it: the bodies are there for what the gateway does with them.
 */
import { CLAUDE_CODE_MODEL, SMALL_MODEL } from "./answer.mjs";

/** Serialized size the Claude-Code-shaped body is padded to (a real captured turn's size). */
export const CLAUDE_CODE_BODY_BYTES = 57 * 1024;

const WORDS = (
  "the a to of and in is it that for on with as be this file tool use when you not or can by call " +
  "command output run must should user code read write edit path directory result return value " +
  "task agent session context model request response error check test build change before after " +
  "only always never each any more than one such parameter string number list instead ensure"
).split(" ");
const DECOR = ["`npm test`", '"quoted"', "→", "—", "(see below)", "e.g.", "<system-reminder>", "IMPORTANT:"];

/** mulberry32: a tiny seeded PRNG (same body on every run and machine). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prose of exactly `chars` characters: sentences, some punctuation, code and non-ASCII, newlines. */
function prose(random, chars) {
  let out = "";
  while (out.length < chars) {
    const words = 6 + Math.floor(random() * 14);
    const sentence = [];
    for (let i = 0; i < words; i++) {
      const r = random();
      sentence.push(
        r < 0.04 ? DECOR[Math.floor(random() * DECOR.length)] : WORDS[Math.floor(random() * WORDS.length)],
      );
    }
    const s = sentence.join(" ");
    out += `${s[0].toUpperCase()}${s.slice(1)}.${random() < 0.15 ? "\n\n" : " "}`;
  }
  return out.slice(0, chars);
}

/** [name, description length, [property, type, description length, enum?][]] — sizes as in real CC turns. */
const TOOLS = [
  [
    "Agent",
    3600,
    [
      ["description", "string", 40],
      ["prompt", "string", 30],
      ["subagent_type", "string", 45],
      ["model", "string", 350, ["sonnet", "opus", "haiku"]],
      ["effort", "string", 340, ["low", "medium", "high", "max"]],
      ["run_in_background", "boolean", 280],
      ["isolation", "string", 210, ["worktree", "remote"]],
    ],
  ],
  [
    "Bash",
    2300,
    [
      ["command", "string", 25],
      ["timeout", "number", 70],
      ["description", "string", 920],
      ["run_in_background", "boolean", 180],
      ["dangerouslyDisableSandbox", "boolean", 90],
    ],
  ],
  [
    "Edit",
    520,
    [
      ["file_path", "string", 45],
      ["old_string", "string", 30],
      ["new_string", "string", 60],
      ["replace_all", "boolean", 50],
    ],
  ],
  [
    "ListAgents",
    1500,
    [
      ["status", "string", 120, ["running", "done", "all"]],
      ["limit", "integer", 60],
    ],
  ],
  [
    "Read",
    1400,
    [
      ["file_path", "string", 45],
      ["offset", "integer", 120],
      ["limit", "integer", 80],
      ["pages", "string", 100],
    ],
  ],
  [
    "ReportFindings",
    1500,
    [
      ["summary", "string", 200],
      ["severity", "string", 150, ["low", "medium", "high"]],
      ["files", "array", 180],
    ],
  ],
  [
    "ScheduleWakeup",
    3700,
    [
      ["delay_seconds", "number", 300],
      ["reason", "string", 250],
      ["prompt", "string", 200],
    ],
  ],
  [
    "Skill",
    1400,
    [
      ["skill", "string", 150],
      ["args", "string", 120],
    ],
  ],
  [
    "ToolSearch",
    1000,
    [
      ["query", "string", 200],
      ["max_results", "number", 80],
    ],
  ],
  [
    "Workflow",
    4300,
    [
      ["name", "string", 300],
      ["steps", "array", 500],
      ["dry_run", "boolean", 200],
    ],
  ],
  ["DeferredToolPlaceholder", 80, [["reason", "string", 40]]],
  [
    "Write",
    380,
    [
      ["file_path", "string", 60],
      ["content", "string", 40],
    ],
  ],
];

function buildTool(random, [name, descriptionChars, props]) {
  const properties = {};
  for (const [prop, type, chars, values] of props) {
    properties[prop] = {
      description: prose(random, chars),
      type,
      ...(values ? { enum: values } : {}),
      ...(type === "array" ? { items: { type: "string" } } : {}),
    };
  }
  return {
    name,
    description: prose(random, descriptionChars),
    input_schema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties,
      required: [props[0][0]],
      additionalProperties: false,
    },
  };
}

function claudeCodeBody(reminderChars) {
  const random = rng(0xc0de);
  const fileContent = Array.from(
    { length: 60 },
    (_, i) => `${String(i + 1).padStart(6)}→${prose(random, 48)}`,
  ).join("\n");
  return {
    model: CLAUDE_CODE_MODEL,
    max_tokens: 32_000,
    stream: true,
    system: [
      { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.0; cc_entrypoint=cli;" },
      {
        type: "text",
        text: "You are Claude Code, Anthropic's official CLI for Claude.",
        cache_control: { type: "ephemeral" },
      },
      { type: "text", text: prose(random, 7000), cache_control: { type: "ephemeral" } },
    ],
    tools: TOOLS.map((spec) => buildTool(random, spec)),
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: `<system-reminder>\n${prose(random, 560)}\n</system-reminder>` },
          { type: "text", text: "Write hello to out.txt, show it, then read package.json." },
        ],
      },
      { role: "system", content: prose(random, reminderChars) },
      {
        role: "assistant",
        content: [
          { type: "text", text: "I will run a command." },
          {
            type: "tool_use",
            id: "toolu_bench000001abcdefghijklmn",
            name: "Bash",
            input: { command: "echo hello > out.txt && cat out.txt", description: "write and show file" },
          },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_bench000001abcdefghijklmn",
            content: "hello",
            is_error: false,
          },
        ],
      },
      {
        role: "assistant",
        content: [
          {
            type: "tool_use",
            id: "toolu_bench000002abcdefghijklmn",
            name: "Read",
            input: { file_path: "/project/package.json" },
          },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_bench000002abcdefghijklmn",
            content: [{ type: "text", text: fileContent }],
            cache_control: { type: "ephemeral" },
          },
        ],
      },
    ],
    metadata: {
      user_id: JSON.stringify({
        device_id: "0".repeat(64),
        account_uuid: "",
        session_id: "00000000-0000-4000-8000-000000000000",
      }),
    },
    thinking: { type: "adaptive" },
    context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
    output_config: { effort: "medium" },
  };
}

/** The Claude-Code-shaped body, padded (its mid-conversation reminder) to CLAUDE_CODE_BODY_BYTES. */
export function claudeCodeAnthropicBody() {
  // JSON escapes and multi-byte characters make bytes ≠ characters: converge in a few passes.
  let chars = CLAUDE_CODE_BODY_BYTES - Buffer.byteLength(JSON.stringify(claudeCodeBody(0)));
  let body = claudeCodeBody(Math.max(0, chars));
  for (let pass = 0; pass < 4; pass++) {
    const miss = CLAUDE_CODE_BODY_BYTES - Buffer.byteLength(JSON.stringify(body));
    if (Math.abs(miss) < 64) break;
    chars += miss;
    body = claudeCodeBody(Math.max(0, chars));
  }
  return body;
}

/** A one-line question. */
export function smallAnthropicBody() {
  return {
    model: SMALL_MODEL,
    max_tokens: 1024,
    stream: true,
    messages: [{ role: "user", content: "Say hello in one short sentence." }],
  };
}
