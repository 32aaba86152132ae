/**
 * Read-only views of the Gemini request bodies the fake recorded, for e2e assertions and for
 * handlers that decide their answer from the request (not from call order: Claude Code may make
 * extra calls for titles or summaries).
 */
import type { Content, FunctionCall, FunctionResponse, Part, Tool } from "@google/genai";
import type { FakeGeminiRequest } from "../fakes/gemini.js";

/** The parts of a `generateContent` body these tests look at. */
export interface GeminiBody {
  contents: Content[];
  systemInstruction?: Content;
  tools?: Tool[];
}

/** The recorded body as a GeminiBody; throws when it is not one (the fake already validated it). */
export function geminiBody(req: FakeGeminiRequest): GeminiBody {
  const body = req.body;
  if (
    typeof body !== "object" ||
    body === null ||
    !Array.isArray((body as { contents?: unknown }).contents)
  ) {
    throw new Error(`fake Gemini request ${req.path} has no contents array`);
  }
  return body as GeminiBody;
}

export function partsOf(content: Content | undefined): Part[] {
  return content?.parts ?? [];
}

/** The last `role: "user"` content: the prompt, or the function responses of the step before. */
export function lastUserContent(body: GeminiBody): Content | undefined {
  return body.contents.findLast((c) => c.role === "user");
}

/** Function responses of the last user content, in part order. */
export function lastFunctionResponses(body: GeminiBody): FunctionResponse[] {
  return partsOf(lastUserContent(body)).flatMap((p) => (p.functionResponse ? [p.functionResponse] : []));
}

/** Model contents that call functions, in conversation order (one per completed tool step). */
export function callingModelTurns(body: GeminiBody): Content[] {
  return body.contents.filter((c) => c.role === "model" && partsOf(c).some((p) => p.functionCall));
}

/** The functionCall parts of a model content (each with its thoughtSignature, if any). */
export function callParts(content: Content | undefined): Array<Part & { functionCall: FunctionCall }> {
  return partsOf(content).filter(
    (p): p is Part & { functionCall: FunctionCall } => p.functionCall !== undefined,
  );
}

export function declaredFunctions(body: GeminiBody): string[] {
  return (body.tools ?? []).flatMap((t) => (t.functionDeclarations ?? []).map((d) => d.name ?? ""));
}

/** All user-visible text of the request (prompt, system reminders), for finding a test's marker. */
export function userText(body: GeminiBody): string {
  return body.contents
    .filter((c) => c.role === "user")
    .flatMap((c) => partsOf(c).map((p) => p.text ?? ""))
    .join("\n");
}

/** The generate calls of the main agent: the model it was routed to, with the test's marker in it. */
export function mainAgentRequests(
  requests: readonly FakeGeminiRequest[],
  model: string,
  marker: string,
): FakeGeminiRequest[] {
  return requests.filter(
    (r) =>
      (r.action === "streamGenerateContent" || r.action === "generateContent") &&
      r.model === model &&
      r.body !== undefined &&
      userText(geminiBody(r)).includes(marker),
  );
}
