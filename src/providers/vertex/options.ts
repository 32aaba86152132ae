/**
 * Options of a `type: vertex` provider, checked at start-up. Errors start with the option's path
 * (`options.project: ...`) so the config loader can prefix `providers.N.`.
 */
import type { GeminiOptions } from "../gemini/options.js";

export interface VertexOptions {
  /** Google Cloud project id (or number) that is billed. */
  project: string;
  /** Region such as `us-central1`, or `global`. */
  location: string;
  /** Service-account key JSON; absent → application default credentials. */
  credentialsFile?: string;
  /** OAuth token endpoint override (tests). */
  tokenUrl?: string;
  /** How tool schemas are sent; same meaning as for a gemini provider (protocol.md F.5). */
  toolSchema: GeminiOptions["toolSchema"];
}

export const DEFAULT_VERTEX_LOCATION = "us-central1";

const KNOWN = ["project", "location", "credentialsFile", "tokenUrl", "toolSchema"] as const;

/** `options` from the config → VertexOptions; throws an Error naming the bad key. */
export function parseVertexOptions(options: Record<string, unknown>): VertexOptions {
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new Error(`options.${key}: unknown option for a vertex provider (known: ${KNOWN.join(", ")})`);
    }
  }
  const { project, location = DEFAULT_VERTEX_LOCATION, credentialsFile, tokenUrl, toolSchema } = options;

  if (project === undefined) {
    throw new Error("options.project: a vertex provider needs the Google Cloud project id (options.project)");
  }
  // Ids are lowercase letters, digits and hyphens; project numbers and legacy domain-scoped ids
  // (`example.com:proj`) also appear in resource names. Never a slash: it goes into the URL path.
  if (typeof project !== "string" || !/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/.test(project)) {
    throw new Error(`options.project must be a Google Cloud project id, got ${JSON.stringify(project)}`);
  }
  // The location becomes part of the host name (`{location}-aiplatform.googleapis.com`).
  if (typeof location !== "string" || !/^[a-z][a-z0-9-]*[a-z0-9]$/.test(location)) {
    throw new Error(
      `options.location must be a Vertex AI region such as "us-central1" or "global", got ${JSON.stringify(location)}`,
    );
  }
  const parsed: VertexOptions = { project, location, toolSchema: "json-schema" };

  if (credentialsFile !== undefined) {
    if (typeof credentialsFile !== "string" || credentialsFile.trim() === "") {
      throw new Error(
        "options.credentialsFile must be the path of a service-account key JSON file (leave it out for application default credentials)",
      );
    }
    parsed.credentialsFile = credentialsFile;
  }
  if (tokenUrl !== undefined) {
    if (typeof tokenUrl !== "string" || !isHttpUrl(tokenUrl)) {
      throw new Error(`options.tokenUrl must be an http(s) URL, got ${JSON.stringify(tokenUrl)}`);
    }
    parsed.tokenUrl = tokenUrl;
  }
  if (toolSchema !== undefined) {
    if (toolSchema !== "json-schema" && toolSchema !== "openapi") {
      throw new Error(
        `options.toolSchema must be "json-schema" or "openapi", got ${JSON.stringify(toolSchema)}`,
      );
    }
    parsed.toolSchema = toolSchema;
  }
  return parsed;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
