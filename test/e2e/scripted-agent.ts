/**
 * A fake Gemini "agent" for e2e runs of the real Claude Code CLI: it plays a fixed list of tool
 * steps, then answers with text. The step is read from the request itself (how many model turns
 * with function calls the history already holds), never from call order, and calls that are not
 * the main agent's (another model, e.g. a haiku-routed title or summary call, or no marker in the
 * prompt) get a short text answer, so extra calls from Claude Code do not derail the script.
 */
import {
  type FakeCall,
  type FakeGeminiRequest,
  functionCalls,
  type ScriptedResponse,
  textChunks,
} from "../fakes/gemini.js";
import { callingModelTurns, declaredFunctions, geminiBody, userText } from "./gemini-body.js";

export interface AgentScript {
  /** The Gemini model the main agent's calls are routed to. */
  model: string;
  /** A string only the test's prompt contains. */
  marker: string;
  /** Function calls per step; step i is answered when the history holds i calling model turns. */
  steps: readonly (readonly FakeCall[])[];
  /** The final answer once every step has run. */
  finalText: string;
}

export const SIDE_ANSWER = "Side answer from fake Gemini.";

export function scriptedAgent(script: AgentScript): (req: FakeGeminiRequest) => ScriptedResponse {
  return (req) => {
    const body = geminiBody(req);
    const main =
      req.model === script.model &&
      userText(body).includes(script.marker) &&
      declaredFunctions(body).includes("Write");
    if (!main) return { chunks: textChunks(SIDE_ANSWER) };
    const step = script.steps[callingModelTurns(body).length];
    if (step === undefined) return { chunks: textChunks(script.finalText, { parts: 3 }) };
    return { chunks: functionCalls(step, { thought: "Planning the tool calls." }) };
  };
}
