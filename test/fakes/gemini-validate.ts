/**
 * The fake Gemini API's strictness rules, as a pure function of (request body, model).
 *
 * Three passes, in the order Google's front end applies them (protocol.md F.1, F.2, F.5, F.6, F.7):
 * 1. proto-JSON parsing: unknown fields (`Unknown name "x" at '...': Cannot find field.`), wrong
 *    scalar types, bad enum names, lists given to non-repeated fields — all reported at once;
 * 2. proto validation: `* GenerateContentRequest.<path>: <rule>` lines, all reported at once;
 * 3. semantic checks (roles, thinking config, function-call turns, thought signatures) — first wins.
 * snake_case field names are accepted as aliases of the camelCase ones, like the real proto-JSON.
 */

/** A Google-shaped error: the value of `{"error": ...}` in the response body. */
export interface GoogleError {
  code: number;
  status: string;
  message: string;
  details?: unknown[];
}

/** One model the fake serves, with the limits the validator enforces. */
export interface FakeModelInfo {
  /** Model id without the `models/` prefix. */
  name: string;
  displayName: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  /** Accepted `thinkingLevel` values; undefined = the model rejects `thinkingLevel` (2.5). */
  thinkingLevels?: readonly string[];
  /** Accepted `thinkingBudget` range (besides -1); undefined = any budget is accepted (Gemini 3). */
  thinkingBudget?: { min: number; max: number; allowZero: boolean };
  /** Gemini 3: the first functionCall of each step in the current turn needs a thoughtSignature. */
  requiresCallSignatures: boolean;
}

const LIMITS = { inputTokenLimit: 1_048_576, outputTokenLimit: 65_536 };

/** The default model list (protocol.md F.7 for the thinking rules). */
export const FAKE_GEMINI_MODELS: readonly FakeModelInfo[] = [
  {
    name: "gemini-2.5-pro",
    displayName: "Gemini 2.5 Pro",
    ...LIMITS,
    thinkingBudget: { min: 128, max: 32_768, allowZero: false },
    requiresCallSignatures: false,
  },
  {
    name: "gemini-2.5-flash",
    displayName: "Gemini 2.5 Flash",
    ...LIMITS,
    thinkingBudget: { min: 1, max: 24_576, allowZero: true },
    requiresCallSignatures: false,
  },
  {
    name: "gemini-2.5-flash-lite",
    displayName: "Gemini 2.5 Flash-Lite",
    ...LIMITS,
    thinkingBudget: { min: 512, max: 24_576, allowZero: true },
    requiresCallSignatures: false,
  },
  {
    name: "gemini-3-pro-preview",
    displayName: "Gemini 3 Pro Preview",
    ...LIMITS,
    thinkingLevels: ["LOW", "HIGH"],
    requiresCallSignatures: true,
  },
  {
    name: "gemini-3-flash-preview",
    displayName: "Gemini 3 Flash Preview",
    ...LIMITS,
    thinkingLevels: ["MINIMAL", "LOW", "MEDIUM", "HIGH"],
    requiresCallSignatures: true,
  },
];

/** Google's documented placeholders that skip signature validation (protocol.md F.6). */
export const SKIP_THOUGHT_SIGNATURES: readonly string[] = [
  "skip_thought_signature_validator",
  "context_engineering_is_the_way_to_go",
];

export interface ValidateOptions {
  /** Model catalog; defaults to {@link FAKE_GEMINI_MODELS}. */
  models?: readonly FakeModelInfo[];
  /** Whether the fake issued `signature` for `model`. Omitted = signatures are not checked for validity. */
  isIssuedSignature?: (model: string, signature: string) => boolean;
}

/** The 404 Google answers for a model it does not serve. */
export function modelNotFound(model: string, method: string): GoogleError {
  return {
    code: 404,
    status: "NOT_FOUND",
    message: `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  };
}

export function findModel(model: string, models: readonly FakeModelInfo[] = FAKE_GEMINI_MODELS) {
  return models.find((m) => m.name === model);
}

/** Validates a `generateContent` / `streamGenerateContent` body; undefined when the API would accept it. */
export function validateGenerateContent(
  body: unknown,
  model: string,
  options: ValidateOptions = {},
): GoogleError | undefined {
  const info = findModel(model, options.models);
  if (info === undefined) return modelNotFound(model, "generateContent");
  const violations: Violation[] = [];
  const req = walkMessage(body, "GenerateContentRequest", "", violations);
  if (violations.length > 0 || req === undefined) return payloadError(violations);
  return checkRequest(req, { root: "GenerateContentRequest", prefix: "", model: info, options });
}

/** Validates a `countTokens` body: exactly one of `contents` / `generateContentRequest` (protocol.md F.10). */
export function validateCountTokens(
  body: unknown,
  model: string,
  options: ValidateOptions = {},
): GoogleError | undefined {
  const info = findModel(model, options.models);
  if (info === undefined) return modelNotFound(model, "countTokens");
  const violations: Violation[] = [];
  const req = walkMessage(body, "CountTokensRequest", "", violations);
  if (violations.length > 0 || req === undefined) return payloadError(violations);
  const inner = asRecord(req.generateContentRequest);
  const hasContents = asArray(req.contents).length > 0;
  if (inner !== undefined && hasContents) {
    // Wording not confirmed against the live API; the rule itself is (protocol.md F.10).
    return invalid("CountTokens requires only one of generate_content_request or contents to be set.");
  }
  if (inner === undefined && !hasContents) {
    return invalid("CountTokens requires generate_content_request or contents to be set.");
  }
  if (inner !== undefined) {
    return checkRequest(inner, {
      root: "CountTokensRequest",
      prefix: "generate_content_request.",
      model: info,
      options,
    });
  }
  return protoError(contentsViolations(asArray(req.contents), ""), "CountTokensRequest");
}

// ---------------------------------------------------------------------------------------------
// Pass 1: proto-JSON parsing.

interface Violation {
  field?: string;
  description: string;
}

type Scalar = "string" | "bytes" | "bool" | "int" | "number" | "value" | "struct" | "object";
type FieldType = Scalar | { msg: string } | { enumOf: string; values: readonly string[] } | { mapOf: string };
interface FieldSpec {
  type: FieldType;
  repeated?: true;
}

const str: FieldSpec = { type: "string" };
const bytes: FieldSpec = { type: "bytes" };
const bool: FieldSpec = { type: "bool" };
const int: FieldSpec = { type: "int" };
const num: FieldSpec = { type: "number" };
const value: FieldSpec = { type: "value" };
const obj: FieldSpec = { type: "object" };
const strs: FieldSpec = { type: "string", repeated: true };
const msg = (name: string): FieldSpec => ({ type: { msg: name } });
const msgs = (name: string): FieldSpec => ({ type: { msg: name }, repeated: true });
const enumOf = (name: string, values: readonly string[]): FieldSpec => ({ type: { enumOf: name, values } });

const HARM_CATEGORIES = [
  "HARM_CATEGORY_UNSPECIFIED",
  "HARM_CATEGORY_DEROGATORY",
  "HARM_CATEGORY_TOXICITY",
  "HARM_CATEGORY_VIOLENCE",
  "HARM_CATEGORY_SEXUAL",
  "HARM_CATEGORY_MEDICAL",
  "HARM_CATEGORY_DANGEROUS",
  "HARM_CATEGORY_HARASSMENT",
  "HARM_CATEGORY_HATE_SPEECH",
  "HARM_CATEGORY_SEXUALLY_EXPLICIT",
  "HARM_CATEGORY_DANGEROUS_CONTENT",
  "HARM_CATEGORY_CIVIC_INTEGRITY",
];
const THRESHOLDS = [
  "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
  "BLOCK_LOW_AND_ABOVE",
  "BLOCK_MEDIUM_AND_ABOVE",
  "BLOCK_ONLY_HIGH",
  "BLOCK_NONE",
  "OFF",
];
const TYPES = ["TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"];

/** Field tables of the v1beta messages a gateway sends (from @google/genai 2.32's Gemini API mapping). */
const MESSAGES: Record<string, Record<string, FieldSpec>> = {
  GenerateContentRequest: {
    model: str,
    contents: msgs("Content"),
    systemInstruction: msg("Content"),
    tools: msgs("Tool"),
    toolConfig: msg("ToolConfig"),
    safetySettings: msgs("SafetySetting"),
    generationConfig: msg("GenerationConfig"),
    cachedContent: str,
    labels: value,
    serviceTier: str,
    store: bool,
  },
  CountTokensRequest: { contents: msgs("Content"), generateContentRequest: msg("GenerateContentRequest") },
  Content: { role: str, parts: msgs("Part") },
  Part: {
    text: str,
    inlineData: msg("Blob"),
    fileData: msg("FileData"),
    functionCall: msg("FunctionCall"),
    functionResponse: msg("FunctionResponse"),
    executableCode: obj,
    codeExecutionResult: obj,
    toolCall: obj,
    toolResponse: obj,
    thought: bool,
    thoughtSignature: bytes,
    videoMetadata: obj,
    mediaResolution: value,
    partMetadata: value,
  },
  Blob: { mimeType: str, data: bytes },
  FileData: { mimeType: str, fileUri: str },
  FunctionCall: { id: str, name: str, args: { type: "struct" } },
  FunctionResponse: {
    id: str,
    name: str,
    response: { type: "struct" },
    parts: msgs("FunctionResponsePart"),
    willContinue: bool,
    scheduling: enumOf("FunctionResponse.Scheduling", [
      "SCHEDULING_UNSPECIFIED",
      "SILENT",
      "WHEN_IDLE",
      "INTERRUPT",
    ]),
  },
  FunctionResponsePart: {
    inlineData: msg("FunctionResponseBlob"),
    fileData: msg("FunctionResponseFileData"),
  },
  FunctionResponseBlob: { mimeType: str, data: bytes, displayName: str },
  FunctionResponseFileData: { mimeType: str, fileUri: str, displayName: str },
  Tool: {
    functionDeclarations: msgs("FunctionDeclaration"),
    googleSearch: obj,
    googleSearchRetrieval: obj,
    codeExecution: obj,
    urlContext: obj,
    computerUse: obj,
    fileSearch: obj,
    googleMaps: obj,
  },
  FunctionDeclaration: {
    name: str,
    description: str,
    behavior: enumOf("Behavior", ["UNSPECIFIED", "BLOCKING", "NON_BLOCKING"]),
    parameters: msg("Schema"),
    parametersJsonSchema: value,
    response: msg("Schema"),
    responseJsonSchema: value,
  },
  // The OpenAPI-3.0 subset of protocol.md F.5; JSON-Schema-only keywords are unknown names here.
  Schema: {
    type: enumOf("Type", TYPES),
    format: str,
    title: str,
    description: str,
    nullable: bool,
    enum: strs,
    items: msg("Schema"),
    minItems: int,
    maxItems: int,
    properties: { type: { mapOf: "Schema" } },
    required: strs,
    minProperties: int,
    maxProperties: int,
    minLength: int,
    maxLength: int,
    pattern: str,
    minimum: num,
    maximum: num,
    anyOf: msgs("Schema"),
    default: value,
    example: value,
    propertyOrdering: strs,
  },
  ToolConfig: { functionCallingConfig: msg("FunctionCallingConfig"), retrievalConfig: obj },
  FunctionCallingConfig: {
    mode: enumOf("FunctionCallingConfig.Mode", ["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]),
    allowedFunctionNames: strs,
  },
  SafetySetting: {
    category: enumOf("HarmCategory", HARM_CATEGORIES),
    threshold: enumOf("SafetySetting.HarmBlockThreshold", THRESHOLDS),
  },
  GenerationConfig: {
    stopSequences: strs,
    responseMimeType: str,
    responseSchema: msg("Schema"),
    responseJsonSchema: value,
    responseModalities: strs,
    candidateCount: int,
    maxOutputTokens: int,
    temperature: num,
    topP: num,
    topK: int,
    seed: int,
    presencePenalty: num,
    frequencyPenalty: num,
    responseLogprobs: bool,
    logprobs: int,
    enableEnhancedCivicAnswers: bool,
    speechConfig: obj,
    imageConfig: obj,
    mediaResolution: value,
    thinkingConfig: msg("ThinkingConfig"),
  },
  ThinkingConfig: {
    includeThoughts: bool,
    thinkingBudget: int,
    thinkingLevel: enumOf("ThinkingConfig.ThinkingLevel", [
      "THINKING_LEVEL_UNSPECIFIED",
      "MINIMAL",
      "LOW",
      "MEDIUM",
      "HIGH",
    ]),
  },
};

/** Part fields that make up its `data` oneof (protocol.md F.2). */
const PART_DATA_FIELDS = [
  "text",
  "inlineData",
  "fileData",
  "functionCall",
  "functionResponse",
  "executableCode",
  "codeExecutionResult",
  "toolCall",
  "toolResponse",
];

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function walkMessage(
  input: unknown,
  name: string,
  path: string,
  out: Violation[],
): Record<string, unknown> | undefined {
  const record = asRecord(input);
  if (record === undefined) {
    out.push(invalidValue(path, `type.googleapis.com/google.ai.generativelanguage.v1beta.${name}`, input));
    return undefined;
  }
  const spec = MESSAGES[name] ?? {};
  const result: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(record)) {
    const field = resolveField(spec, key);
    if (field === undefined) {
      out.push(unknownName(key, path, "Cannot find field."));
      continue;
    }
    if (raw === null) continue; // proto-JSON: null means "not set"
    const [camel, fieldSpec] = field;
    const fieldPath = path === "" ? snake(camel) : `${path}.${snake(camel)}`;
    if (name === "Part" && PART_DATA_FIELDS.includes(camel)) {
      const already = PART_DATA_FIELDS.find((f) => f !== camel && result[f] !== undefined);
      if (already !== undefined) {
        out.push({
          field: path,
          description: `Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${key}'`,
        });
        continue;
      }
    }
    if (fieldSpec.repeated === true) {
      const list = Array.isArray(raw) ? raw : [raw]; // proto-JSON accepts one value for a repeated field
      result[camel] = list.map((item, i) => walkValue(item, fieldSpec.type, `${fieldPath}[${i}]`, out));
    } else if (Array.isArray(raw) && fieldSpec.type !== "value") {
      out.push(unknownName(key, path, "Proto field is not repeating, cannot start list."));
    } else {
      result[camel] = walkValue(raw, fieldSpec.type, fieldPath, out);
    }
  }
  return result;
}

function walkValue(raw: unknown, type: FieldType, path: string, out: Violation[]): unknown {
  if (typeof type === "object") {
    if ("msg" in type) return walkMessage(raw, type.msg, path, out);
    if ("enumOf" in type) return walkEnum(raw, type.enumOf, type.values, path, out);
    const map = asRecord(raw);
    if (map === undefined) {
      out.push(invalidValue(path, "map", raw));
      return undefined;
    }
    // Map entries are addressed by position: `properties[2].value` (as Google reports them).
    return Object.fromEntries(
      Object.entries(map).map(([k, v], i) => [k, walkMessage(v, type.mapOf, `${path}[${i}].value`, out)]),
    );
  }
  const bad = (typeName: string): undefined => {
    out.push(invalidValue(path, typeName, raw));
    return undefined;
  };
  switch (type) {
    case "string":
      return typeof raw === "string" ? raw : bad("TYPE_STRING");
    case "bytes":
      return typeof raw === "string" && BASE64.test(raw) ? raw : bad("TYPE_BYTES");
    case "bool":
      return typeof raw === "boolean" ? raw : bad("TYPE_BOOL");
    case "int": {
      const n = typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      return typeof n === "number" && Number.isInteger(n) ? n : bad("TYPE_INT32");
    }
    case "number": {
      const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
      return typeof n === "number" && Number.isFinite(n) ? n : bad("TYPE_DOUBLE");
    }
    case "struct":
      return asRecord(raw) ?? bad("type.googleapis.com/google.protobuf.Struct");
    case "object":
      return asRecord(raw) ?? bad("object");
    case "value":
      return raw;
    default: {
      const never: never = type;
      return never;
    }
  }
}

function walkEnum(raw: unknown, name: string, values: readonly string[], path: string, out: Violation[]) {
  // Google accepts enum names case-insensitively ("object", "high") and their numbers.
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 0 && raw < values.length) return values[raw];
  const match = typeof raw === "string" ? values.find((v) => v === raw.toUpperCase()) : undefined;
  if (match !== undefined) return match;
  out.push(invalidValue(path, `type.googleapis.com/google.ai.generativelanguage.v1beta.${name}`, raw));
  return undefined;
}

function resolveField(spec: Record<string, FieldSpec>, key: string): [string, FieldSpec] | undefined {
  const direct = spec[key];
  if (direct !== undefined) return [key, direct];
  if (!key.includes("_")) return undefined;
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const alias = spec[camel];
  return alias === undefined ? undefined : [camel, alias];
}

function unknownName(key: string, path: string, reason: string): Violation {
  const at = path === "" ? "" : ` at '${path}'`;
  const description = `Invalid JSON payload received. Unknown name "${key}"${at}: ${reason}`;
  return path === "" ? { description } : { field: path, description };
}

function invalidValue(path: string, typeName: string, raw: unknown): Violation {
  return { field: path, description: `Invalid value at '${path}' (${typeName}), ${JSON.stringify(raw)}` };
}

function payloadError(violations: Violation[]): GoogleError {
  return {
    code: 400,
    status: "INVALID_ARGUMENT",
    message: violations.map((v) => v.description).join("\n"),
    details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: violations }],
  };
}

// ---------------------------------------------------------------------------------------------
// Passes 2 and 3 on the parsed (camelCase) request.

interface CheckContext {
  root: string;
  prefix: string;
  model: FakeModelInfo;
  options: ValidateOptions;
}

const FUNCTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/;

function checkRequest(req: Record<string, unknown>, ctx: CheckContext): GoogleError | undefined {
  const contents = asArray(req.contents).map((c) => asRecord(c) ?? {});
  const lines: string[] = [];
  if (contents.length === 0) lines.push(`${ctx.prefix}contents: contents is not specified`);
  lines.push(...contentsViolations(contents, ctx.prefix));
  const system = asRecord(req.systemInstruction);
  asArray(system?.parts).forEach((p, j) => {
    if (!hasData(p)) lines.push(`${ctx.prefix}system_instruction.parts[${j}].data: ${ONEOF_MISSING}`);
  });
  const declarations = functionDeclarations(req);
  for (const d of declarations) {
    if (typeof d.decl.name !== "string" || !FUNCTION_NAME.test(d.decl.name)) {
      lines.push(`${ctx.prefix}${d.path}.name: ${INVALID_FUNCTION_NAME}`);
    }
  }
  const proto = protoError(lines, ctx.root);
  if (proto !== undefined) return proto;

  const message =
    checkRoles(contents) ??
    checkMimeTypes(contents) ??
    checkDeclarations(declarations) ??
    checkGenerationConfig(asRecord(req.generationConfig), ctx.model) ??
    checkFunctionTurns(contents) ??
    checkSignatures(contents, ctx);
  return message === undefined ? undefined : invalid(message);
}

const ONEOF_MISSING = "required oneof field 'data' must have one initialized field";
const INVALID_FUNCTION_NAME =
  "Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 128.";

function contentsViolations(contents: readonly unknown[], prefix: string): string[] {
  const lines: string[] = [];
  contents.forEach((c, i) => {
    const parts = asArray(asRecord(c)?.parts);
    if (parts.length === 0) lines.push(`${prefix}contents[${i}].parts: contents.parts must not be empty.`);
    parts.forEach((p, j) => {
      if (!hasData(p)) lines.push(`${prefix}contents[${i}].parts[${j}].data: ${ONEOF_MISSING}`);
    });
  });
  return lines;
}

/**
 * A part's `data` oneof is set when one data field is present. `text: ""` alone counts as unset
 * (protocol.md F.2); `text: ""` carrying a thoughtSignature is the documented trailing signature
 * part Google streams and asks clients to echo back (F.3), so it is accepted.
 */
function hasData(part: unknown): boolean {
  const p = asRecord(part) ?? {};
  return PART_DATA_FIELDS.some(
    (f) => p[f] !== undefined && !(f === "text" && p.text === "" && p.thoughtSignature === undefined),
  );
}

function protoError(lines: readonly string[], root: string): GoogleError | undefined {
  if (lines.length === 0) return undefined;
  return invalid(`${lines.map((l) => `* ${root}.${l}`).join("\n")}\n`);
}

/** Image types Gemini reads (protocol.md F.2); GIF, BMP, TIFF… get Google's refusal. */
const IMAGE_MIME_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"]);

function checkMimeTypes(contents: readonly Record<string, unknown>[]): string | undefined {
  for (const content of contents) {
    for (const part of asArray(content.parts)) {
      const p = asRecord(part);
      const response = asRecord(p?.functionResponse);
      for (const blob of [p?.inlineData, ...asArray(response?.parts).map((r) => asRecord(r)?.inlineData)]) {
        const mimeType = asRecord(blob)?.mimeType;
        if (
          typeof mimeType === "string" &&
          mimeType.startsWith("image/") &&
          !IMAGE_MIME_TYPES.has(mimeType)
        ) {
          return `Unsupported MIME type: ${mimeType}`;
        }
      }
    }
  }
  return undefined;
}

function checkRoles(contents: readonly Record<string, unknown>[]): string | undefined {
  const ok = contents.every(
    (c) => c.role === "user" || c.role === "model" || (c.role === undefined && contents.length === 1),
  );
  return ok ? undefined : "Please use a valid role: user, model.";
}

interface Declaration {
  decl: Record<string, unknown>;
  path: string;
}

function functionDeclarations(req: Record<string, unknown>): Declaration[] {
  return asArray(req.tools).flatMap((tool, t) =>
    asArray(asRecord(tool)?.functionDeclarations).map((decl, d) => ({
      decl: asRecord(decl) ?? {},
      path: `tools[${t}].function_declarations[${d}]`,
    })),
  );
}

function checkDeclarations(declarations: readonly Declaration[]): string | undefined {
  const both = declarations.find(
    (d) => d.decl.parameters !== undefined && d.decl.parametersJsonSchema !== undefined,
  );
  // Rule from protocol.md F.5; the wording is this fake's own.
  return both === undefined
    ? undefined
    : `Invalid function declaration at '${both.path}': parameters and parameters_json_schema are mutually exclusive.`;
}

function checkGenerationConfig(
  config: Record<string, unknown> | undefined,
  model: FakeModelInfo,
): string | undefined {
  const thinking = asRecord(config?.thinkingConfig) ?? {};
  const budget = typeof thinking.thinkingBudget === "number" ? thinking.thinkingBudget : undefined;
  const level = typeof thinking.thinkingLevel === "string" ? thinking.thinkingLevel : undefined;
  if (budget !== undefined && level !== undefined) {
    return "You can only set only one of thinking budget and thinking level.";
  }
  if (level !== undefined && level !== "THINKING_LEVEL_UNSPECIFIED") {
    if (model.thinkingLevels === undefined) return "Thinking level is not supported for this model.";
    if (!model.thinkingLevels.includes(level))
      return `Thinking level ${level} is not supported for this model.`;
  }
  const range = model.thinkingBudget;
  if (budget !== undefined && range !== undefined && budget !== -1) {
    if (budget === 0 && !range.allowZero)
      return "Budget 0 is invalid. This model only works in thinking mode.";
    if (budget !== 0 && (budget < range.min || budget > range.max)) {
      return `The thinking budget (${budget}) is invalid.`;
    }
  }
  const max = config?.maxOutputTokens;
  if (typeof max === "number" && (max < 1 || max > model.outputTokenLimit)) {
    return `Unable to submit request because it has a maxOutputTokens value of ${max} but the supported range is from 1 (inclusive) to ${model.outputTokenLimit + 1} (exclusive). Update the value and try again.`;
  }
  return undefined;
}

function countParts(content: Record<string, unknown> | undefined, field: string): number {
  return asArray(content?.parts).filter((p) => asRecord(p)?.[field] !== undefined).length;
}

/** Function-call turn ordering and call/response counts (protocol.md F.5). */
function checkFunctionTurns(contents: readonly Record<string, unknown>[]): string | undefined {
  for (let i = 0; i < contents.length; i++) {
    const content = contents[i];
    const prev = contents[i - 1];
    const next = contents[i + 1];
    const calls = countParts(content, "functionCall");
    if (content?.role === "model" && calls > 0) {
      if (prev?.role !== "user") {
        return "Please ensure that function call turn comes immediately after a user turn or after a function response turn.";
      }
      const answered = next?.role === "user" ? countParts(next, "functionResponse") : 0;
      if (next !== undefined && answered !== calls) {
        return "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.";
      }
    }
    if (
      countParts(content, "functionResponse") > 0 &&
      (prev?.role !== "model" || countParts(prev, "functionCall") === 0)
    ) {
      return "Please ensure that function response turn comes immediately after a function call turn.";
    }
  }
  return undefined;
}

/**
 * Thought signatures in the current turn: everything after the last user content that holds
 * real input, not only functionResponse parts (protocol.md F.6). Earlier turns are not checked.
 */
function checkSignatures(
  contents: readonly Record<string, unknown>[],
  ctx: CheckContext,
): string | undefined {
  let start = 0;
  contents.forEach((c, i) => {
    if (c.role === "user" && asArray(c.parts).some((p) => asRecord(p)?.functionResponse === undefined))
      start = i + 1;
  });
  const isIssued = ctx.options.isIssuedSignature;
  for (let i = start; i < contents.length; i++) {
    const content = contents[i];
    if (content?.role !== "model") continue;
    let firstCall = true;
    for (const raw of asArray(content.parts)) {
      const part = asRecord(raw) ?? {};
      const signature = part.thoughtSignature;
      if (
        typeof signature === "string" &&
        isIssued !== undefined &&
        !SKIP_THOUGHT_SIGNATURES.includes(signature) &&
        !isIssued(ctx.model.name, signature)
      ) {
        return "Thought signature is not valid.";
      }
      const call = asRecord(part.functionCall);
      if (call === undefined || !firstCall) continue;
      firstCall = false;
      if (ctx.model.requiresCallSignatures && signature === undefined) {
        return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${String(call.name)}\` , position ${i + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

function invalid(message: string): GoogleError {
  return { code: 400, status: "INVALID_ARGUMENT", message };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function asRecord(input: unknown): Record<string, unknown> | undefined {
  return typeof input === "object" && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : undefined;
}

function asArray(input: unknown): readonly unknown[] {
  return Array.isArray(input) ? input : [];
}
