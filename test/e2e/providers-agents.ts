/**
 * Fake "agents" for e2e runs of the real Claude Code CLI against the fake OpenAI and the fake
 * Anthropic relay: they play a fixed list of tool steps, then answer with text. Like
 * scripted-agent.ts (the Gemini one), the step is read from the request itself (how many assistant
 * turns with tool calls the history already holds), never from call order, and calls that are not
 * the main agent's (another upstream model, e.g. a haiku-routed title call, no marker in the
 * prompt, or no Write tool offered) get a short text answer.
 */
import {
  type FakeToolCall as AnthropicToolCall,
  type FakeAnthropic,
  type FakeScript,
  parallelToolUseReply,
  textReply,
} from "../fakes/anthropic.js";
import { type FakeOpenAI, type FakeOpenAIScript, textStream, toolCallStream } from "../fakes/openai.js";

type Json = Record<string, unknown>;

export interface ScriptedToolCall {
  /** The id the fake issues for the call (OpenAI caps ids at 40 characters). */
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ProviderAgentScript {
  /** The upstream model the main agent's calls are routed to. */
  model: string;
  /** A string only the test's prompt contains. */
  marker: string;
  /** Tool calls per step; step i is answered when the history holds i calling assistant turns. */
  steps: readonly (readonly ScriptedToolCall[])[];
  finalText: string;
}

export const SIDE_ANSWER = "Side answer from the fake upstream.";

/** What an agent answered, for failure messages and assertions. */
export type AgentAnswer = "side" | "final" | { step: number };

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** `messages` of a recorded Chat Completions or Messages body. */
export function messagesOf(body: unknown): Json[] {
  return isRecord(body) ? records(body.messages) : [];
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  return records(content)
    .map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : ""))
    .join("\n");
}

/** Text of every user message (prompt and system reminders); both APIs share this shape. */
export function userText(body: unknown): string {
  return messagesOf(body)
    .filter((m) => m.role === "user")
    .map((m) => textOf(m.content))
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions bodies

export function openaiToolNames(body: unknown): string[] {
  const tools = isRecord(body) ? records(body.tools) : [];
  return tools.flatMap((t) => (isRecord(t.function) ? [String(t.function.name)] : []));
}

/** Assistant messages carrying `tool_calls`, in conversation order. */
export function openaiCallingTurns(body: unknown): Json[] {
  return messagesOf(body).filter((m) => m.role === "assistant" && records(m.tool_calls).length > 0);
}

/** `role:"tool"` messages right after the last assistant message (the last step's results). */
export function openaiLastToolResults(body: unknown): Json[] {
  const messages = messagesOf(body);
  const after = messages.slice(messages.findLastIndex((m) => m.role === "assistant") + 1);
  return after.filter((m) => m.role === "tool");
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages bodies

export function anthropicToolNames(body: unknown): string[] {
  const tools = isRecord(body) ? records(body.tools) : [];
  return tools.map((t) => String(t.name));
}

function blocksOf(message: Json | undefined): Json[] {
  return records(message?.content);
}

/** Assistant messages holding `tool_use` blocks, in conversation order. */
export function anthropicCallingTurns(body: unknown): Json[] {
  return messagesOf(body).filter(
    (m) => m.role === "assistant" && blocksOf(m).some((b) => b.type === "tool_use"),
  );
}

export function anthropicToolUses(message: Json | undefined): Json[] {
  return blocksOf(message).filter((b) => b.type === "tool_use");
}

/** `tool_result` blocks of the last user message (the last step's results). */
export function anthropicLastToolResults(body: unknown): Json[] {
  const last = messagesOf(body).findLast((m) => m.role === "user");
  return blocksOf(last).filter((b) => b.type === "tool_result");
}

// ---------------------------------------------------------------------------------------------
// Agents

interface Decision {
  answer: AgentAnswer;
  calls: readonly ScriptedToolCall[];
}

function decide(
  script: ProviderAgentScript,
  body: unknown,
  toolNames: (body: unknown) => string[],
  callingTurns: (body: unknown) => Json[],
): Decision {
  const main =
    isRecord(body) &&
    body.model === script.model &&
    userText(body).includes(script.marker) &&
    toolNames(body).includes("Write");
  if (!main) return { answer: "side", calls: [] };
  const step = callingTurns(body).length;
  const calls = script.steps[step];
  return calls === undefined ? { answer: "final", calls: [] } : { answer: { step }, calls };
}

/**
 * The answer to the request the fake is handling now. Both fakes record a request and pick its
 * script (queue, then `defaultScript`) in one synchronous run, so inside `defaultScript` the
 * last recorded request is the one being answered, even with concurrent calls.
 */
function current(requests: readonly { body: unknown }[]): unknown {
  const last = requests.at(-1);
  if (last === undefined) throw new Error("defaultScript called before any request was recorded");
  return last.body;
}

export interface Agent<S> {
  /** Pass as the fake's `defaultScript`. */
  defaultScript: () => S;
  /** Every answer given, in order. */
  answers: AgentAnswer[];
}

/** An agent for the fake OpenAI; `fake()` returns the fake it answers for (created later). */
export function openaiAgent(
  script: ProviderAgentScript,
  fake: () => FakeOpenAI | undefined,
): Agent<FakeOpenAIScript> {
  const answers: AgentAnswer[] = [];
  return {
    answers,
    defaultScript: () => {
      const body = current(fake()?.requests ?? []);
      const { answer, calls } = decide(script, body, openaiToolNames, openaiCallingTurns);
      answers.push(answer);
      if (answer === "side") return textStream(SIDE_ANSWER);
      if (answer === "final") return textStream(script.finalText);
      return toolCallStream(
        calls.map((c) => ({ id: c.id, name: c.name, arguments: c.input })),
        { preamble: "Let me do that.", interleave: calls.length > 1 },
      );
    },
  };
}

/** An agent for the fake Anthropic relay; `fake()` returns the fake it answers for. */
export function anthropicAgent(
  script: ProviderAgentScript,
  fake: () => FakeAnthropic | undefined,
): Agent<FakeScript> {
  const answers: AgentAnswer[] = [];
  return {
    answers,
    defaultScript: () => {
      const body = current(fake()?.requests ?? []);
      const { answer, calls } = decide(script, body, anthropicToolNames, anthropicCallingTurns);
      answers.push(answer);
      if (answer === "side") return textReply(SIDE_ANSWER);
      if (answer === "final") return textReply(script.finalText, { chunks: 3 });
      const uses: AnthropicToolCall[] = calls.map((c) => ({ id: c.id, name: c.name, input: c.input }));
      return parallelToolUseReply(uses);
    },
  };
}
