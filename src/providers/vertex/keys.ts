/**
 * The credential of a Vertex upstream: one key whose secret is an OAuth token source.
 *
 * Config-time wiring, not part of the (pure) provider: creating the token source reads the
 * service-account key file, so a missing or broken file fails start-up with a message naming it.
 * The attempt loop asks the source for a token on every attempt (cached, refreshed before expiry).
 */
import type { UpstreamKey } from "../../core/upstream.js";
import { createGoogleTokenSource } from "../../credentials/google-token-source.js";
import type { VertexOptions } from "./options.js";

/** `[{id: "<provider>#1", label: "service account <email>" | "application default credentials", secret: "", tokenSource}]`. */
export function vertexUpstreamKeys(
  providerName: string,
  options: Pick<VertexOptions, "credentialsFile" | "tokenUrl">,
): UpstreamKey[] {
  let tokenSource: ReturnType<typeof createGoogleTokenSource>;
  try {
    tokenSource = createGoogleTokenSource({
      ...(options.credentialsFile === undefined ? {} : { credentialsFile: options.credentialsFile }),
      ...(options.tokenUrl === undefined ? {} : { tokenUrl: options.tokenUrl }),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`options.credentialsFile: ${message}`, { cause: err });
  }
  return [{ id: `${providerName}#1`, label: tokenSource.account, secret: "", tokenSource }];
}
