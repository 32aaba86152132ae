import type { Provider, ProviderType } from "./provider.js";
import type { Transport } from "./transport.js";

/** One credential of an upstream. `label` is safe to log and show; `secret` never is. */
export interface UpstreamKey {
  /** Stable id for cooldowns and counters: `<provider>#<n>`. */
  id: string;
  label: string;
  /** A static key; empty when `tokenSource` supplies short-lived tokens instead. */
  secret: string;
  /** Short-lived credentials (e.g. Google OAuth access tokens), fetched per attempt, cached by the source. */
  tokenSource?: TokenSource;
}

/** Produces a current access token; implementations cache and refresh before expiry. */
export interface TokenSource {
  getToken(signal: AbortSignal): Promise<string>;
}

/** A configured provider, ready to serve attempts. */
export interface Upstream {
  name: string;
  type: ProviderType;
  provider: Provider;
  transport: Transport;
  baseUrl: string;
  headers: Record<string, string>;
  keys: UpstreamKey[];
  /** Without a key this upstream cannot serve (e.g. Gemini); local OpenAI servers need none. */
  requiresKey: boolean;
}

/** One try: this upstream, this model, this key. */
export interface Attempt {
  upstream: Upstream;
  model: string;
  key: UpstreamKey | undefined;
}

/** Show a secret as its last 4 characters only. */
export function maskSecret(secret: string): string {
  return secret.length <= 8 ? "****" : `…${secret.slice(-4)}`;
}
