/**
 * Google Cloud auth for tests: a fake OAuth 2.0 token endpoint (the JWT-bearer grant, RFC 7523,
 * as `https://oauth2.googleapis.com/token` serves it), test service accounts with real RSA keys,
 * and a Vertex AI front that accepts only the tokens this endpoint issued and forwards to the
 * strict fake Gemini (the Gemini wire format is the same; ./gemini.ts stays the one place that
 * validates bodies and scripts answers).
 *
 * The token endpoint checks what Google checks: grant type, an RS256 signature made with the
 * account's private key (verified with its public key), the `kid`, the audience, a short-lived
 * `iat`/`exp` window and a scope. Errors use Google's `{"error","error_description"}` bodies.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { readBodyCapped, sendJson } from "./http-stream.js";

/** The audience google-auth-library puts in its assertions (Google's token endpoint). */
export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

// ---------------------------------------------------------------------------------------------
// Test service accounts.

export interface TestServiceAccount {
  clientEmail: string;
  privateKeyId: string;
  publicKey: KeyObject;
  /** The key file as Google Cloud IAM hands it out. */
  keyFile: Record<string, string>;
}

/** A service account with a fresh 2048-bit RSA key pair. */
export function createTestServiceAccount(
  opts: { clientEmail?: string; projectId?: string; tokenUri?: string } = {},
): TestServiceAccount {
  const projectId = opts.projectId ?? "test-project";
  const clientEmail = opts.clientEmail ?? `ccgate-test@${projectId}.iam.gserviceaccount.com`;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyId = randomBytes(20).toString("hex");
  return {
    clientEmail,
    privateKeyId,
    publicKey,
    keyFile: {
      type: "service_account",
      project_id: projectId,
      private_key_id: privateKeyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: clientEmail,
      client_id: "100000000000000000001",
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: opts.tokenUri ?? GOOGLE_TOKEN_AUDIENCE,
      universe_domain: "googleapis.com",
    },
  };
}

/** Writes the account's key file into `dir` and returns its path. */
export function writeKeyFile(
  account: TestServiceAccount,
  dir: string,
  name = "service-account.json",
): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(account.keyFile, null, 2), { mode: 0o600 });
  return path;
}

// ---------------------------------------------------------------------------------------------
// The token endpoint.

/** One exchange the endpoint received. */
export interface TokenExchange {
  status: number;
  /** The assertion's issuer, when it could be read. */
  iss: string | undefined;
  scope: string | undefined;
  /** Google's `error` code for a refused exchange. */
  error: string | undefined;
  /** The token handed out, for a successful one. */
  accessToken: string | undefined;
}

export interface FakeGoogleOAuthOptions {
  accounts: readonly TestServiceAccount[];
  /** Lifetime of issued tokens; default 3599 (what Google answers). Changeable later. */
  expiresInSeconds?: number;
}

export interface FakeGoogleOAuth {
  readonly url: string;
  /** `POST` here: the value for the `tokenUrl` option. */
  readonly tokenUrl: string;
  readonly exchanges: readonly TokenExchange[];
  /** Successful exchanges (tokens issued). */
  readonly issued: number;
  expiresInSeconds: number;
  /** Hold every answer this long (makes concurrent callers overlap). */
  responseDelayMs: number;
  /** While set, every exchange gets this answer instead (an outage, a rejected account). */
  outage: { status: number; body: unknown } | undefined;
  /** An issued, unexpired, unrevoked token → its account's email. */
  accountOf(token: string): string | undefined;
  revoke(token: string): void;
  close(): Promise<void>;
}

export async function startFakeGoogleOAuth(options: FakeGoogleOAuthOptions): Promise<FakeGoogleOAuth> {
  const accounts = new Map(options.accounts.map((a) => [a.clientEmail, a]));
  const tokens = new Map<string, { email: string; expiresAt: number }>();
  const exchanges: TokenExchange[] = [];
  const state: Pick<FakeGoogleOAuth, "expiresInSeconds" | "responseDelayMs" | "outage"> = {
    expiresInSeconds: options.expiresInSeconds ?? 3599,
    responseDelayMs: 0,
    outage: undefined,
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      sendJson(res, 500, { error: "internal", error_description: String(err) }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const body = await readBodyCapped(req, 64 * 1024);
    if (req.method !== "POST" || url.pathname !== "/token") return sendJson(res, 404, { error: "not_found" });
    if (state.responseDelayMs > 0) await new Promise((r) => setTimeout(r, state.responseDelayMs));
    const form = new URLSearchParams(body.tooLarge ? "" : body.bytes.toString("utf8"));
    const record: TokenExchange = {
      status: 0,
      iss: undefined,
      scope: undefined,
      error: undefined,
      accessToken: undefined,
    };
    exchanges.push(record);
    const answer = (status: number, payload: Record<string, unknown>): void => {
      record.status = status;
      if (typeof payload.error === "string") record.error = payload.error;
      sendJson(res, status, payload, { "cache-control": "no-cache, no-store, max-age=0, must-revalidate" });
    };
    const outage = state.outage;
    if (outage !== undefined) {
      record.status = outage.status;
      return sendJson(res, outage.status, outage.body);
    }
    if (form.get("grant_type") !== JWT_BEARER) {
      return answer(400, {
        error: "unsupported_grant_type",
        error_description: `Invalid grant_type: ${form.get("grant_type") ?? ""}`,
      });
    }
    const checked = checkAssertion(form.get("assertion") ?? "", accounts, record);
    if ("error" in checked) return answer(400, checked);
    const accessToken = `ya29.fake-${randomBytes(24).toString("base64url")}`;
    tokens.set(accessToken, { email: checked.email, expiresAt: Date.now() + state.expiresInSeconds * 1000 });
    record.accessToken = accessToken;
    answer(200, { access_token: accessToken, expires_in: state.expiresInSeconds, token_type: "Bearer" });
  }

  const { url, close } = await listen(server);
  return {
    url,
    tokenUrl: `${url}/token`,
    get exchanges() {
      return exchanges;
    },
    get issued() {
      return exchanges.filter((e) => e.accessToken !== undefined).length;
    },
    get expiresInSeconds() {
      return state.expiresInSeconds;
    },
    set expiresInSeconds(value) {
      state.expiresInSeconds = value;
    },
    get responseDelayMs() {
      return state.responseDelayMs;
    },
    set responseDelayMs(value) {
      state.responseDelayMs = value;
    },
    get outage() {
      return state.outage;
    },
    set outage(value) {
      state.outage = value;
    },
    accountOf(token) {
      const entry = tokens.get(token);
      return entry !== undefined && entry.expiresAt > Date.now() ? entry.email : undefined;
    },
    revoke(token) {
      tokens.delete(token);
    },
    close,
  };
}

type AssertionResult = { email: string } | { error: string; error_description: string };

/** Google's checks on a JWT-bearer assertion, in its order; the first failure wins. */
function checkAssertion(
  assertion: string,
  accounts: ReadonlyMap<string, TestServiceAccount>,
  record: TokenExchange,
): AssertionResult {
  const invalid = (description: string): AssertionResult => ({
    error: "invalid_grant",
    error_description: description,
  });
  const [h, p, s, extra] = assertion.split(".");
  if (h === undefined || p === undefined || s === undefined || extra !== undefined) {
    return invalid("Invalid JWT: not a compact JWS (three base64url parts).");
  }
  const header = decodeJson(h);
  const payload = decodeJson(p);
  if (header === undefined || payload === undefined)
    return invalid("Invalid JWT: unreadable header or payload.");
  if (header.alg !== "RS256") return invalid(`Invalid JWT: unsupported alg ${String(header.alg)}.`);
  const iss = typeof payload.iss === "string" ? payload.iss : undefined;
  record.iss = iss;
  record.scope = typeof payload.scope === "string" ? payload.scope : undefined;
  const account = iss === undefined ? undefined : accounts.get(iss);
  if (account === undefined) return invalid("Invalid grant: account not found");
  if (header.kid !== undefined && header.kid !== account.privateKeyId) {
    return invalid("Invalid JWT Signature.");
  }
  const signed = Buffer.from(`${h}.${p}`);
  if (!verify("RSA-SHA256", signed, account.publicKey, Buffer.from(s, "base64url"))) {
    return invalid("Invalid JWT Signature.");
  }
  if (payload.aud !== GOOGLE_TOKEN_AUDIENCE) {
    return invalid(`Invalid JWT: Failed audience check. The expected audience is ${GOOGLE_TOKEN_AUDIENCE}.`);
  }
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = payload;
  if (
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    exp - iat > 3600 ||
    iat > now + 300 ||
    exp <= now
  ) {
    return invalid(
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  }
  if (record.scope === undefined || record.scope.trim() === "") {
    return {
      error: "invalid_scope",
      error_description: "Invalid OAuth scope or ID token audience provided.",
    };
  }
  return { email: account.clientEmail };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The Vertex AI front.

/** One request the Vertex front received. */
export interface FakeVertexRequest {
  path: string;
  query: Record<string, string>;
  project: string | undefined;
  location: string | undefined;
  model: string | undefined;
  method: string | undefined;
  /** The bearer token sent, if any. */
  token: string | undefined;
  /** An `x-goog-api-key` header (Vertex with OAuth never needs one). */
  apiKey: string | undefined;
  /** The account the token belongs to, when it was valid. */
  account: string | undefined;
  body: unknown;
  status: number | undefined;
}

export interface FakeVertexOptions {
  oauth: FakeGoogleOAuth;
  /** The fake Gemini base URL the front forwards to (the bearer token becomes its API key). */
  geminiUrl: string;
  project: string;
  location: string;
}

export interface FakeVertex {
  readonly url: string;
  readonly requests: readonly FakeVertexRequest[];
  reset(): void;
  close(): Promise<void>;
}

const VERTEX_PATH =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;
/** Top-level fields of Vertex's CountTokensRequest (v1). */
const COUNT_FIELDS = new Set([
  "model",
  "instances",
  "contents",
  "systemInstruction",
  "tools",
  "generationConfig",
]);

export async function startFakeVertex(options: FakeVertexOptions): Promise<FakeVertex> {
  const requests: FakeVertexRequest[] = [];
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, googleError(500, "INTERNAL", String(err)));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const match = VERTEX_PATH.exec(url.pathname);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
    const apiKey = req.headers["x-goog-api-key"];
    const record: FakeVertexRequest = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      project: match?.[1] === undefined ? undefined : decodeURIComponent(match[1]),
      location: match?.[2] === undefined ? undefined : decodeURIComponent(match[2]),
      model: match?.[3] === undefined ? undefined : decodeURIComponent(match[3]),
      method: match?.[4],
      token,
      apiKey: typeof apiKey === "string" ? apiKey : undefined,
      account: token === undefined ? undefined : options.oauth.accountOf(token),
      body: undefined,
      status: undefined,
    };
    requests.push(record);
    const body = await readBodyCapped(req, 32 * 1024 * 1024);
    const fail = (code: number, status: string, message: string, details?: unknown[]): void => {
      record.status = code;
      sendJson(res, code, googleError(code, status, message, details));
    };
    if (match === null || req.method !== "POST") return fail(404, "NOT_FOUND", "Method not found.");
    if (token === undefined) {
      return fail(
        401,
        "UNAUTHENTICATED",
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
      );
    }
    if (record.account === undefined) {
      return fail(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "ACCESS_TOKEN_EXPIRED",
            domain: "googleapis.com",
          },
        ],
      );
    }
    const resource = `projects/${record.project}/locations/${record.location}/publishers/google/models/${record.model}`;
    if (record.project !== options.project) {
      return fail(
        403,
        "PERMISSION_DENIED",
        `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "IAM_PERMISSION_DENIED",
            domain: "aiplatform.googleapis.com",
          },
        ],
      );
    }
    if (record.location !== options.location) {
      return fail(400, "INVALID_ARGUMENT", `Location ${record.location} is not served at this endpoint.`);
    }
    let forwarded = body.tooLarge ? "" : body.bytes.toString("utf8");
    try {
      record.body = JSON.parse(forwarded);
    } catch {
      return fail(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    if (record.method === "countTokens") {
      // Vertex takes the fields at the top level; the Gemini API counts system and tools only
      // inside `generateContentRequest` (protocol.md F.10): translate for the fake behind.
      const fields = record.body as Record<string, unknown>;
      const unknown = Object.keys(fields).find((k) => !COUNT_FIELDS.has(k));
      if (unknown !== undefined) {
        return fail(
          400,
          "INVALID_ARGUMENT",
          `Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`,
        );
      }
      const { model: _model, instances: _instances, ...inner } = fields;
      forwarded = JSON.stringify({ generateContentRequest: { model: `models/${record.model}`, ...inner } });
    }
    await forward(res, record, forwarded, url.search);
  }

  /** Sends the request on to the fake Gemini and streams its answer back unchanged. */
  function forward(
    res: ServerResponse,
    record: FakeVertexRequest,
    body: string,
    search: string,
  ): Promise<void> {
    const target = new URL(`${options.geminiUrl}/v1beta/models/${record.model}:${record.method}${search}`);
    return new Promise((resolve) => {
      const upstream = request(
        target,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": String(Buffer.byteLength(body)),
            "x-goog-api-key": record.token ?? "",
          },
        },
        (answer) => {
          record.status = answer.statusCode;
          const headers: Record<string, string> = {};
          const type = answer.headers["content-type"];
          if (type !== undefined) headers["content-type"] = type;
          res.writeHead(answer.statusCode ?? 502, headers);
          res.flushHeaders();
          answer.pipe(res);
          answer.on("close", () => {
            // The fake Gemini cut the connection: cut ours too, so the gateway sees the cut.
            if (!answer.complete) res.destroy();
            resolve();
          });
        },
      );
      upstream.on("error", () => {
        res.destroy();
        resolve();
      });
      // The gateway went away: tell the fake Gemini, so it records the client close.
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    });
  }

  const { url, close } = await listen(server);
  return {
    url,
    get requests() {
      return requests;
    },
    reset() {
      requests.length = 0;
    },
    close,
  };
}

function googleError(code: number, status: string, message: string, details?: unknown[]): unknown {
  return { error: { code, message, status, ...(details === undefined ? {} : { details }) } };
}

/** Listen on 127.0.0.1:0; `close` also drops open connections so tests never hang on them. */
async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
