/**
 * Request bodies: parse with zod at the boundary, answer a 400 that names the field.
 * Unknown content block types are named explicitly (zod's union error would only say "invalid").
 */
import type { z } from "zod";
import { type GatewayError, invalidRequest } from "../core/errors.js";
import { KNOWN_BLOCK_TYPES } from "../protocol/anthropic/request-schema.js";

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> | GatewayError {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return invalidRequest("The request body must be a JSON object");
  const unknownBlock = findUnknownBlock(body as Record<string, unknown>);
  if (unknownBlock !== undefined) return invalidRequest(unknownBlock);
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = mostSpecific(result.error.issues[0]);
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : "body";
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : "";
  return invalidRequest(`${field}: ${issue?.message ?? "invalid"}${more}`);
}

type Issue = z.core.$ZodIssue;

/**
 * A union whose every option failed says only "Invalid input" at the union's path; the option
 * that got furthest (its first problem has the longest path: e.g. the array of blocks, not the
 * string, when an array was sent) names the field that is actually wrong.
 */
function mostSpecific(issue: Issue | undefined, prefix: readonly PropertyKey[] = []): Issue | undefined {
  if (issue === undefined) return undefined;
  const path = [...prefix, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return { ...issue, path };
  let best: Issue | undefined;
  for (const option of issue.errors) {
    const candidate = mostSpecific(option[0], path);
    if (candidate !== undefined && (best === undefined || candidate.path.length > best.path.length))
      best = candidate;
  }
  return best !== undefined && best.path.length > path.length ? best : { ...issue, path };
}

function findUnknownBlock(body: Record<string, unknown>): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = 0; i < messages.length; i++) {
    const content = (messages[i] as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (let j = 0; j < content.length; j++) {
      const type = (content[j] as { type?: unknown } | null)?.type;
      if (typeof type === "string" && !KNOWN_BLOCK_TYPES.has(type))
        return `messages.${i}.content.${j}.type: unknown content block type "${type}"`;
      if (type === undefined) return `messages.${i}.content.${j}.type: Field required`;
    }
  }
  return undefined;
}
