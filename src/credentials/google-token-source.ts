/**
 * Google OAuth access tokens for Vertex AI, through Google's own auth library.
 *
 * - With a service-account key file: the JWT-bearer flow (RFC 7523) — the library signs an RS256
 *   assertion with the key and exchanges it at Google's token endpoint for a 1-hour token.
 * - Without one: application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`, the gcloud
 *   ADC file, or the GCE/Cloud Run metadata server), whatever kind they are.
 *
 * Tokens are cached and refreshed a margin before expiry, one refresh at a time
 * (./token-cache.ts). The library's own early refresh uses the same margin, so when the cache
 * asks for a new token the library really fetches one instead of returning its cached copy.
 *
 * Each refresh is bounded (./token-cache.ts `DEFAULT_REFRESH_TIMEOUT_MS`): the library's HTTP
 * client gets the same timeout per request (gaxios has none by default), and when the cache gives
 * up first, the client is dropped. The library shares one in-flight exchange per client, so a
 * client still holding the stuck one would hand it to the next refresh; a new client starts clean.
 *
 * `tokenUrl` redirects the exchange (tests use a local fake endpoint). google-auth-library 10
 * hard-codes `https://oauth2.googleapis.com/token` in its JWT flow and ignores `token_uri`, so the
 * redirect is a request interceptor on the library's HTTP client. The assertion's `aud` stays
 * Google's endpoint: only point `tokenUrl` at an endpoint you trust with the signed assertion.
 */
import type { AuthClient, gaxios as GaxiosModule } from "google-auth-library";

type AuthLibrary = typeof import("google-auth-library");
let library: Promise<AuthLibrary> | undefined;
/** google-auth-library costs ~13 MiB of memory: loaded only when a Vertex token is first needed. */
function authLibrary(): Promise<AuthLibrary> {
  library ??= import("google-auth-library");
  return library;
}

import { GatewayError } from "../core/errors.js";
import type { TokenSource } from "../core/upstream.js";
import { readServiceAccountKey } from "./google-credentials-file.js";
import {
  cachedTokenSource,
  DEFAULT_REFRESH_MARGIN_MS,
  DEFAULT_REFRESH_TIMEOUT_MS,
  type FetchedToken,
} from "./token-cache.js";

/** The scope Vertex AI needs. */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Where the library sends token exchanges. */
export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";

export interface GoogleTokenSourceOptions {
  /** Service-account key JSON; absent → application default credentials. */
  credentialsFile?: string;
  /** Token endpoint override (tests). */
  tokenUrl?: string;
  /** Default: cloud-platform. */
  scopes?: string[];
  /** Refresh this long before expiry; default 60 s. */
  refreshMarginMs?: number;
  /** Give up on a token refresh after this long; default 30 s (tests use less). */
  refreshTimeoutMs?: number;
}

export interface GoogleTokenSource extends TokenSource {
  /** Who the tokens act as, safe to log: `service account <email>` or `application default credentials`. */
  readonly account: string;
}

/**
 * A token source for Google APIs. A key file is read now, so a missing or broken file is a
 * start-up error naming the file; application default credentials are looked up at the first
 * `getToken` (they may need the metadata server).
 */
export function createGoogleTokenSource(options: GoogleTokenSourceOptions = {}): GoogleTokenSource {
  const scopes = options.scopes ?? [CLOUD_PLATFORM_SCOPE];
  const refreshMarginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const refreshTimeoutMs = options.refreshTimeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
  const clientOptions = (lib: AuthLibrary) => ({
    transporter: transporterFor(lib.gaxios, options.tokenUrl, refreshTimeoutMs),
    eagerRefreshThresholdMillis: refreshMarginMs,
  });
  const endpoint = options.tokenUrl ?? GOOGLE_TOKEN_URL;
  const cacheOptions = { refreshMarginMs, refreshTimeoutMs, issuer: `token endpoint ${endpoint}` };

  if (options.credentialsFile !== undefined) {
    // Read now: a missing or broken key file is a start-up error naming the file.
    const key = readServiceAccountKey(options.credentialsFile);
    let client: AuthClient | undefined;
    const account = `service account ${key.clientEmail}`;
    const source = cachedTokenSource(async (signal) => {
      const lib = await authLibrary();
      client ??= new lib.JWT({
        email: key.clientEmail,
        key: key.privateKey,
        ...(key.privateKeyId === undefined ? {} : { keyId: key.privateKeyId }),
        scopes,
        ...clientOptions(lib),
      });
      const jwt = client;
      onAbandoned(signal, () => {
        if (client === jwt) client = undefined;
      });
      return fetchToken(jwt, endpoint, lib.gaxios);
    }, cacheOptions);
    return { account, getToken: (signal) => source.getToken(signal) };
  }

  let auth: InstanceType<AuthLibrary["GoogleAuth"]> | undefined;
  const account = "application default credentials";
  const source = cachedTokenSource(async (signal) => {
    const lib = await authLibrary();
    auth ??= new lib.GoogleAuth({ scopes, clientOptions: clientOptions(lib) });
    const adc = auth;
    // The GoogleAuth instance caches its client: dropping it drops the client too.
    onAbandoned(signal, () => {
      if (auth === adc) auth = undefined;
    });
    let client: AuthClient;
    try {
      client = await adc.getClient();
    } catch (err) {
      const hint =
        'set options.credentialsFile to a service-account key, or run "gcloud auth application-default login"';
      throw new Error(`${messageOf(err)} (${hint})`, { cause: err });
    }
    return fetchToken(client, endpoint, lib.gaxios);
  }, cacheOptions);
  return { account, getToken: (signal) => source.getToken(signal) };
}

/**
 * Ask the library for a current token and its expiry. Messages leave out the account: callers
 * show it already (the attempt loop prefixes the key's label, which is the account).
 */
async function fetchToken(
  client: AuthClient,
  endpoint: string,
  gaxios: typeof GaxiosModule,
): Promise<FetchedToken> {
  let token: string | null | undefined;
  try {
    ({ token } = await client.getAccessToken());
  } catch (err) {
    throw classify(err, `token exchange at ${endpoint} failed: ${messageOf(err)}`, gaxios);
  }
  if (typeof token !== "string" || token === "") {
    throw new Error(`the token endpoint ${endpoint} returned no access token`);
  }
  const expiry = client.credentials.expiry_date;
  return { token, expiresAt: typeof expiry === "number" ? expiry : undefined };
}

/**
 * A token endpoint that is down (network error, 5xx after the library's own retries) says
 * nothing about the credentials: transient, so the key is not disabled. A rejection (4xx:
 * `invalid_grant`, unknown account, disabled key) stays a plain Error, which the attempt loop
 * turns into an `auth` failure.
 */
function classify(err: unknown, message: string, gaxios: typeof GaxiosModule): Error {
  const status = err instanceof gaxios.GaxiosError ? (err.status ?? err.response?.status) : undefined;
  const unreachable = err instanceof gaxios.GaxiosError && status === undefined;
  if (unreachable || (status !== undefined && status >= 500)) {
    return new GatewayError({
      code: "TOKEN_ENDPOINT_UNAVAILABLE",
      message,
      status: 503,
      type: "api_error",
      class: "transient",
      cause: err,
    });
  }
  return new Error(message, { cause: err });
}

/** Run `drop` when the cache abandons this refresh (its deadline passed). */
function onAbandoned(signal: AbortSignal, drop: () => void): void {
  if (signal.aborted) drop();
  else signal.addEventListener("abort", drop, { once: true });
}

/**
 * The library's HTTP client: a timeout on every request (gaxios has none by default), and token
 * exchanges redirected to `tokenUrl` when one is set.
 */
function transporterFor(
  gaxios: typeof GaxiosModule,
  tokenUrl: string | undefined,
  timeoutMs: number,
): GaxiosModule.Gaxios {
  const transporter = new gaxios.Gaxios({ timeout: timeoutMs });
  if (tokenUrl === undefined) return transporter;
  const target = new URL(tokenUrl);
  transporter.interceptors.request.add({
    resolved: async (config) => {
      if (config.url.href === GOOGLE_TOKEN_URL) config.url = new URL(target);
      return config;
    },
  });
  return transporter;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
