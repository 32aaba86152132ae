/**
 * Tool / output JSON Schemas → what Gemini accepts (protocol.md F.5).
 *
 * Two targets:
 * - `cleanJsonSchema` for `parametersJsonSchema` / `responseJsonSchema`: keep the keywords Google
 *   documents for its JSON Schema fields, rewrite the few common ones it lacks into documented
 *   equivalents (`const` → `enum`, `exclusiveMinimum` → `minimum`, `allOf` merged, type arrays →
 *   `anyOf`, `definitions` → `$defs`) and drop the rest (`$schema`, `propertyNames`, `pattern`, …).
 * - `toOpenApiSchema` for `parameters` / `responseSchema`: Google's OpenAPI-3.0 subset, where any
 *   unknown field is a 400. `$ref`s are inlined, unions become `anyOf` + `nullable`, enums are
 *   strings only.
 * Property names are data, never keywords: only schema positions are filtered.
 */

type JsonObject = Record<string, unknown>;

/** The OpenAPI-subset `Schema` object (protocol.md F.5 lists every allowed field). */
export interface OpenApiSchema {
  type?: OpenApiType;
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  items?: OpenApiSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  minProperties?: number;
  maxProperties?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: OpenApiSchema[];
  default?: unknown;
}
export type OpenApiType = "STRING" | "NUMBER" | "INTEGER" | "BOOLEAN" | "ARRAY" | "OBJECT" | "NULL";

/** Deeper nesting is cut off (keeps hostile or cyclic schemas bounded). */
const MAX_DEPTH = 32;

/** Keywords Google documents for its JSON Schema fields. */
const JSON_SCHEMA_STRINGS = new Set(["$id", "$anchor", "type", "format", "title", "description"]);
const JSON_SCHEMA_NUMBERS = new Set(["minItems", "maxItems", "minimum", "maximum"]);

/** A cleaned copy of a JSON Schema for `parametersJsonSchema` / `responseJsonSchema`. */
export function cleanJsonSchema(schema: unknown): JsonObject {
  const root = isObject(schema) ? schema : {};
  return cleanNode(root, root, 0);
}

function cleanNode(node: unknown, root: JsonObject, depth: number): JsonObject {
  if (!isObject(node) || depth > MAX_DEPTH) return {};
  const n = splitTypeArray(mergeAllOf(node, root, depth));
  // Google: "If $ref is set on a sub-schema, no other properties, except those starting with $".
  if (typeof n.$ref === "string") return { $ref: n.$ref.replace(/\/definitions\//g, "/$defs/") };
  const sub = (value: unknown) => cleanNode(value, root, depth + 1);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(n)) {
    if (JSON_SCHEMA_STRINGS.has(key)) {
      if (typeof value === "string") out[key] = value;
    } else if (JSON_SCHEMA_NUMBERS.has(key)) {
      if (typeof value === "number") out[key] = value;
    } else if (key === "properties") {
      if (isObject(value)) out.properties = mapValues(value, sub);
    } else if (key === "$defs" || key === "definitions") {
      // Refs are rewritten from `/definitions/` to `/$defs/` below, so both land in `$defs`.
      if (isObject(value))
        out.$defs = { ...(isObject(out.$defs) ? out.$defs : {}), ...mapValues(value, sub) };
    } else if (key === "items") {
      // Draft-04 tuple form `items: [...]` is `prefixItems` now.
      if (Array.isArray(value)) out.prefixItems = value.map(sub);
      else out.items = sub(value);
    } else if (key === "prefixItems" || key === "anyOf" || key === "oneOf") {
      if (Array.isArray(value) && value.length > 0) out[key] = value.map(sub);
    } else if (key === "additionalProperties") {
      out[key] = typeof value === "boolean" ? value : sub(value);
    } else if (key === "required" || key === "propertyOrdering") {
      if (Array.isArray(value)) out[key] = value.filter((v) => typeof v === "string");
    } else if (key === "enum") {
      // Documented "for strings and numbers".
      const values = Array.isArray(value)
        ? value.filter((v) => typeof v === "string" || typeof v === "number")
        : [];
      if (values.length > 0) out.enum = values;
    }
  }
  if (out.enum === undefined && (typeof n.const === "string" || typeof n.const === "number"))
    out.enum = [n.const];
  applyExclusiveBounds(n, out, n.type === "integer");
  filterRequired(out);
  return out;
}

/** A converted copy of a JSON Schema in the OpenAPI subset, for `parameters` / `responseSchema`. */
export function toOpenApiSchema(schema: unknown): OpenApiSchema {
  const root = isObject(schema) ? schema : {};
  return convertNode(root, root, [], 0);
}

const OPENAPI_TYPES: Readonly<Record<string, OpenApiType>> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
};
/** `format` values the OpenAPI-subset Schema accepts, per type. */
const OPENAPI_FORMATS: Partial<Record<OpenApiType, readonly string[]>> = {
  STRING: ["enum", "date-time"],
  INTEGER: ["int32", "int64"],
  NUMBER: ["float", "double"],
};
const OPENAPI_COPY = ["title", "description", "pattern"] as const;
const OPENAPI_NUMBERS = [
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
] as const;

function convertNode(node: unknown, root: JsonObject, refs: string[], depth: number): OpenApiSchema {
  if (!isObject(node) || depth > MAX_DEPTH) return {};
  if (typeof node.$ref === "string") {
    const ref = node.$ref;
    const target = refs.includes(ref) ? undefined : resolvePointer(root, ref);
    // A cycle or a dangling/remote ref becomes an unconstrained value.
    if (target === undefined)
      return typeof node.description === "string" ? { description: node.description } : {};
    const { $ref: _ref, ...siblings } = node;
    return convertNode({ ...target, ...siblings }, root, [...refs, ref], depth + 1);
  }
  const n = mergeAllOf(node, root, depth);
  const sub = (value: unknown) => convertNode(value, root, refs, depth + 1);

  const declared = typeof n.type === "string" ? [n.type] : Array.isArray(n.type) ? n.type : [];
  let types = declared.filter((t): t is string => typeof t === "string");
  let nullable = n.nullable === true || types.includes("null");
  types = types.filter((t) => t !== "null");
  const alternatives = [n.anyOf, n.oneOf].flatMap((v) => (Array.isArray(v) ? v : []));
  const nonNull = alternatives.filter((a) => !(isObject(a) && a.type === "null"));
  if (nonNull.length < alternatives.length) nullable = true;
  const { anyOf: _a, oneOf: _o, ...rest } = n;

  // `X | null` and single-branch unions collapse into the branch itself.
  if (nonNull.length === 1 && types.length === 0 && isObject(nonNull[0])) {
    const merged = sub({ ...nonNull[0], ...withoutType(rest) });
    return nullable ? { ...merged, nullable: true } : merged;
  }
  // Several non-null types become one `anyOf` branch per type.
  if (types.length > 1 && nonNull.length === 0) {
    const branches = types.map((t) => sub({ ...withoutType(rest), type: t, description: undefined }));
    return withNullable(describe({ anyOf: branches }, n), nullable);
  }

  const out: OpenApiSchema = {};
  const type = types[0] === undefined ? inferType(n) : OPENAPI_TYPES[types[0]];
  if (type !== undefined) out.type = type;
  for (const key of OPENAPI_COPY) {
    const value = n[key];
    if (typeof value === "string") out[key] = value;
  }
  for (const key of OPENAPI_NUMBERS) {
    const value = n[key];
    if (typeof value === "number") out[key] = value;
  }
  applyExclusiveBounds(n, out, type === "INTEGER");
  if (nonNull.length > 1) out.anyOf = nonNull.map(sub);
  applyEnum(n, out);
  if (
    typeof n.format === "string" &&
    out.type !== undefined &&
    OPENAPI_FORMATS[out.type]?.includes(n.format)
  ) {
    out.format = n.format;
  }
  if (out.type === "ARRAY" || n.items !== undefined) {
    // Gemini rejects an ARRAY without `items`; an empty schema means "any item".
    out.items = Array.isArray(n.items) ? sub(n.items[0]) : sub(n.items);
  }
  if (isObject(n.properties) && Object.keys(n.properties).length > 0) {
    // An OBJECT with empty `properties` is a 400 ("should be non-empty"): omit it instead.
    out.properties = mapValues(n.properties, sub);
    if (Array.isArray(n.required))
      out.required = n.required.filter((r): r is string => typeof r === "string");
    filterRequired(out);
  }
  // Google rejects `default` next to `anyOf`.
  if (n.default !== undefined && n.default !== null && out.anyOf === undefined) out.default = n.default;
  return withNullable(out, nullable);
}

/** Enum values must be strings on a STRING schema; other enums become a hint in the description. */
function applyEnum(n: JsonObject, out: OpenApiSchema): void {
  const raw = Array.isArray(n.enum) ? n.enum : "const" in n ? [n.const] : undefined;
  if (raw === undefined) return;
  if (raw.includes(null)) out.nullable = true;
  const values = raw.filter((v) => v !== null && typeof v !== "object");
  if (values.length === 0) return;
  if (out.type === undefined || out.type === "STRING") {
    out.type = "STRING";
    out.enum = values.map(String);
    return;
  }
  const hint = `Allowed values: ${values.map((v) => JSON.stringify(v)).join(", ")}.`;
  out.description = out.description === undefined ? hint : `${out.description} ${hint}`;
}

function inferType(n: JsonObject): OpenApiType | undefined {
  if (isObject(n.properties)) return "OBJECT";
  if (n.items !== undefined) return "ARRAY";
  if (Array.isArray(n.enum) || typeof n.const === "string") return "STRING";
  return undefined;
}

function describe(out: OpenApiSchema, n: JsonObject): OpenApiSchema {
  if (typeof n.description === "string") out.description = n.description;
  return out;
}

function withNullable(out: OpenApiSchema, nullable: boolean): OpenApiSchema {
  if (nullable) out.nullable = true;
  return out;
}

function withoutType(n: JsonObject): JsonObject {
  const { type: _type, nullable: _nullable, ...rest } = n;
  return rest;
}

/**
 * JSON Schema `type: ["string", "null"]` → `anyOf` of single-type branches (standard JSON Schema,
 * every branch keeps the type-specific keywords; the null branch stays bare).
 */
function splitTypeArray(n: JsonObject): JsonObject {
  if (!Array.isArray(n.type)) return n;
  const types = n.type.filter((t): t is string => typeof t === "string");
  if (types.length <= 1) return { ...n, type: types[0] };
  const { type: _type, description, title, ...rest } = n;
  const anyOf = types.map((t) => (t === "null" ? { type: "null" } : { ...rest, type: t }));
  return { description, title, anyOf };
}

/** `allOf` folded into its parent: properties merged, required united, first value wins otherwise. */
function mergeAllOf(node: JsonObject, root: JsonObject, depth: number): JsonObject {
  if (!Array.isArray(node.allOf)) return node;
  const { allOf, ...merged } = node;
  for (const part of allOf) {
    let sub = isObject(part) && typeof part.$ref === "string" ? resolvePointer(root, part.$ref) : part;
    if (!isObject(sub) || depth > MAX_DEPTH) continue;
    sub = mergeAllOf(sub, root, depth + 1);
    for (const [key, value] of Object.entries(sub)) {
      if (key === "properties" && isObject(value)) {
        merged.properties = { ...value, ...(isObject(merged.properties) ? merged.properties : {}) };
      } else if (key === "required" && Array.isArray(value)) {
        const have = Array.isArray(merged.required) ? merged.required : [];
        merged.required = [...new Set([...have, ...value])];
      } else if (merged[key] === undefined) {
        merged[key] = value;
      }
    }
  }
  return merged;
}

/** `exclusiveMinimum: 0` (2020-12 form) → `minimum`, exact for integers, closest bound otherwise. */
function applyExclusiveBounds(
  n: JsonObject,
  out: { minimum?: unknown; maximum?: unknown },
  integer: boolean,
): void {
  if (typeof n.exclusiveMinimum === "number" && typeof n.minimum !== "number") {
    out.minimum = integer ? Math.floor(n.exclusiveMinimum) + 1 : n.exclusiveMinimum;
  }
  if (typeof n.exclusiveMaximum === "number" && typeof n.maximum !== "number") {
    out.maximum = integer ? Math.ceil(n.exclusiveMaximum) - 1 : n.exclusiveMaximum;
  }
}

/** Gemini rejects `required` names that are not declared properties ("property is not defined"). */
function filterRequired(out: { properties?: unknown; required?: unknown }): void {
  if (!Array.isArray(out.required)) return;
  const props = isObject(out.properties) ? out.properties : undefined;
  const required = out.required.filter(
    (name) => typeof name === "string" && props !== undefined && name in props,
  );
  if (required.length > 0) out.required = required;
  else delete out.required;
}

/** A local JSON Pointer ref (`#/$defs/X`, `#/definitions/X`, `#`) resolved against the root. */
function resolvePointer(root: JsonObject, ref: string): JsonObject | undefined {
  if (!ref.startsWith("#")) return undefined;
  let current: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(current) && !Array.isArray(current)) return undefined;
    current = (current as JsonObject)[key];
  }
  return isObject(current) ? current : undefined;
}

function mapValues<T>(obj: JsonObject, fn: (value: unknown) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(obj)) out[key] = fn(value);
  return out;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
