/**
 * OAuth tokens for Vertex: the token cache (refresh before expiry, one refresh for concurrent
 * callers, failures not cached, aborts) and the Google token source against a local fake token
 * endpoint that verifies the RS256 assertion with the service account's public key.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { createGoogleTokenSource } from "../../src/credentials/google-token-source.js";
import { cachedTokenSource, type FetchedToken } from "../../src/credentials/token-cache.js";
import { vertexUpstreamKeys } from "../../src/providers/vertex/index.js";
import {
  createTestServiceAccount,
  type FakeGoogleOAuth,
  startFakeGoogleOAuth,
  type TestServiceAccount,
  writeKeyFile,
} from "../fakes/google-oauth.js";

const never = new AbortController().signal;

/** A fetcher whose calls are counted and resolved by hand. */
function manualFetcher() {
  const pending: Array<{ resolve: (t: FetchedToken) => void; reject: (e: unknown) => void }> = [];
  const fetchToken = vi.fn(
    () =>
      new Promise<FetchedToken>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  );
  return { fetchToken, pending };
}

describe("cachedTokenSource", () => {
  it("reuses a token until the margin before expiry, then refreshes", async () => {
    let now = 1_000_000;
    let n = 0;
    const fetchToken = vi.fn(async () => ({ token: `t${++n}`, expiresAt: now + 3_600_000 }));
    const source = cachedTokenSource(fetchToken, { refreshMarginMs: 60_000, now: () => now });

    expect(await source.getToken(never)).toBe("t1");
    now += 3_600_000 - 60_001; // 1 ms before the margin
    expect(await source.getToken(never)).toBe("t1");
    expect(fetchToken).toHaveBeenCalledTimes(1);
    now += 2; // inside the margin
    expect(await source.getToken(never)).toBe("t2");
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it("shares one refresh between concurrent callers", async () => {
    const { fetchToken, pending } = manualFetcher();
    const source = cachedTokenSource(fetchToken);
    const calls = Array.from({ length: 8 }, () => source.getToken(never));
    expect(fetchToken).toHaveBeenCalledTimes(1);
    pending[0]?.resolve({ token: "shared", expiresAt: Date.now() + 3_600_000 });
    expect(await Promise.all(calls)).toEqual(Array(8).fill("shared"));
    expect(await source.getToken(never)).toBe("shared");
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  it("does not cache a failure: every waiter sees it, the next call tries again", async () => {
    const { fetchToken, pending } = manualFetcher();
    const source = cachedTokenSource(fetchToken);
    const a = source.getToken(never);
    const b = source.getToken(never);
    pending[0]?.reject(new Error("invalid_grant"));
    await expect(a).rejects.toThrow("invalid_grant");
    await expect(b).rejects.toThrow("invalid_grant");
    const c = source.getToken(never);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    pending[1]?.resolve({ token: "ok", expiresAt: Date.now() + 3_600_000 });
    expect(await c).toBe("ok");
  });

  it("lets an aborted caller go while the refresh continues for the others", async () => {
    const { fetchToken, pending } = manualFetcher();
    const source = cachedTokenSource(fetchToken);
    const controller = new AbortController();
    const gone = source.getToken(controller.signal);
    const stays = source.getToken(never);
    controller.abort(new Error("client left"));
    await expect(gone).rejects.toThrow("client left");
    pending[0]?.resolve({ token: "late", expiresAt: Date.now() + 3_600_000 });
    expect(await stays).toBe("late");
    await expect(source.getToken(controller.signal)).rejects.toThrow("client left");
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  it("rejects an empty token", async () => {
    const source = cachedTokenSource(async () => ({ token: "", expiresAt: undefined }));
    await expect(source.getToken(never)).rejects.toThrow(/empty access token/);
  });
});

describe("Google token source against a fake token endpoint", () => {
  let dir: string;
  let account: TestServiceAccount;
  let stranger: TestServiceAccount;
  let oauth: FakeGoogleOAuth;
  let keyFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ccgate-vertex-creds-"));
    account = createTestServiceAccount();
    stranger = createTestServiceAccount({ clientEmail: "stranger@other.iam.gserviceaccount.com" });
    oauth = await startFakeGoogleOAuth({ accounts: [account] });
    keyFile = writeKeyFile(account, dir);
  });
  afterAll(async () => {
    await oauth.close();
  });
  beforeEach(() => {
    oauth.expiresInSeconds = 3599;
    oauth.responseDelayMs = 0;
    oauth.outage = undefined;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it("exchanges a signed assertion for a token, with the cloud-platform scope, and caches it", async () => {
    const before = oauth.issued;
    const source = createGoogleTokenSource({ credentialsFile: keyFile, tokenUrl: oauth.tokenUrl });
    expect(source.account).toBe(`service account ${account.clientEmail}`);
    const token = await source.getToken(never);
    expect(oauth.accountOf(token)).toBe(account.clientEmail);
    const exchange = oauth.exchanges.at(-1);
    expect(exchange).toMatchObject({ status: 200, iss: account.clientEmail, accessToken: token });
    expect(exchange?.scope).toBe("https://www.googleapis.com/auth/cloud-platform");
    expect(await source.getToken(never)).toBe(token);
    expect(oauth.issued - before).toBe(1);
  });

  it("refreshes 60 s before expiry, not earlier", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    oauth.expiresInSeconds = 600;
    const before = oauth.issued;
    const source = createGoogleTokenSource({ credentialsFile: keyFile, tokenUrl: oauth.tokenUrl });
    const first = await source.getToken(never);
    vi.setSystemTime(start + 538_000); // > 61 s left
    expect(await source.getToken(never)).toBe(first);
    expect(oauth.issued - before).toBe(1);
    vi.setSystemTime(start + 541_000); // < 60 s left
    const second = await source.getToken(never);
    expect(second).not.toBe(first);
    expect(oauth.issued - before).toBe(2);
    expect(oauth.accountOf(second)).toBe(account.clientEmail);
  });

  it("never reuses a token that lives less than the margin", async () => {
    oauth.expiresInSeconds = 30;
    const before = oauth.issued;
    const source = createGoogleTokenSource({ credentialsFile: keyFile, tokenUrl: oauth.tokenUrl });
    const a = await source.getToken(never);
    const b = await source.getToken(never);
    expect(a).not.toBe(b);
    expect(oauth.issued - before).toBe(2);
  });

  it("makes one exchange for many concurrent callers", async () => {
    oauth.responseDelayMs = 150;
    const before = oauth.exchanges.length;
    const source = createGoogleTokenSource({ credentialsFile: keyFile, tokenUrl: oauth.tokenUrl });
    const tokens = await Promise.all(Array.from({ length: 10 }, () => source.getToken(never)));
    expect(new Set(tokens).size).toBe(1);
    expect(oauth.exchanges.length - before).toBe(1);
  });

  it("reports a key the endpoint does not know, or a wrong signature, as a plain (auth) error", async () => {
    const unknownFile = writeKeyFile(stranger, dir, "stranger.json");
    const unknown = createGoogleTokenSource({ credentialsFile: unknownFile, tokenUrl: oauth.tokenUrl });
    const err1 = await unknown.getToken(never).catch((e: unknown) => e);
    expect(err1).toBeInstanceOf(Error);
    expect(err1).not.toBeInstanceOf(GatewayError);
    expect((err1 as Error).message).toMatch(
      /^token exchange at http:\/\/127\.0\.0\.1:\d+\/token failed: invalid_grant: Invalid grant: account not found/,
    );

    // The right email, somebody else's key: the signature check fails.
    const forged = writeKeyFile(
      { ...stranger, keyFile: { ...stranger.keyFile, client_email: account.clientEmail } },
      dir,
      "forged.json",
    );
    const bad = createGoogleTokenSource({ credentialsFile: forged, tokenUrl: oauth.tokenUrl });
    await expect(bad.getToken(never)).rejects.toThrow(/invalid_grant: Invalid JWT Signature\./);
    expect(oauth.exchanges.at(-1)?.error).toBe("invalid_grant");
  });

  it("treats a token endpoint that is down as transient, not as bad credentials", async () => {
    oauth.outage = { status: 503, body: { error: "temporarily_unavailable" } };
    const source = createGoogleTokenSource({ credentialsFile: keyFile, tokenUrl: oauth.tokenUrl });
    const err = await source.getToken(never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ class: "transient", code: "TOKEN_ENDPOINT_UNAVAILABLE" });
    expect((err as Error).message).toMatch(/token exchange at .* failed/);
    // Once the endpoint is back, the same source recovers (the failure was not cached).
    oauth.outage = undefined;
    expect(oauth.accountOf(await source.getToken(never))).toBe(account.clientEmail);
  });

  it("treats an unreachable token endpoint as transient", async () => {
    const closed = await startFakeGoogleOAuth({ accounts: [account] });
    await closed.close();
    const source = createGoogleTokenSource({ credentialsFile: keyFile, tokenUrl: closed.tokenUrl });
    await expect(source.getToken(never)).rejects.toMatchObject({ class: "transient" });
  });

  it("uses application default credentials when no key file is given", async () => {
    vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", keyFile);
    const before = oauth.issued;
    const source = createGoogleTokenSource({ tokenUrl: oauth.tokenUrl });
    expect(source.account).toBe("application default credentials");
    const token = await source.getToken(never);
    expect(oauth.accountOf(token)).toBe(account.clientEmail);
    expect(await source.getToken(never)).toBe(token);
    expect(oauth.issued - before).toBe(1);
  });

  it("names the file and the problem for a bad key file, at creation", () => {
    const write = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const create = (path: string) => () => createGoogleTokenSource({ credentialsFile: path });
    expect(create(join(dir, "missing.json"))).toThrow(/credentials file .*missing\.json: no such file/);
    expect(create(write("text.json", "not json"))).toThrow(/text\.json: is not valid JSON/);
    expect(create(write("array.json", "[]"))).toThrow(/array\.json: is not a JSON object/);
    expect(
      create(write("user.json", JSON.stringify({ type: "authorized_user", refresh_token: "r" }))),
    ).toThrow(/"type" is "authorized_user", expected "service_account"/);
    const noEmail = { ...account.keyFile, client_email: undefined };
    expect(create(write("no-email.json", JSON.stringify(noEmail)))).toThrow(/"client_email" is missing/);
    const badKey = {
      ...account.keyFile,
      private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    };
    const err = (() => {
      try {
        create(write("bad-key.json", JSON.stringify(badKey)))();
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/bad-key\.json: "private_key" is not a PEM private key/);
    expect(err?.message).not.toContain("AAAA");
  });
});

describe("vertexUpstreamKeys", () => {
  let oauth: FakeGoogleOAuth;
  let account: TestServiceAccount;
  let keyFile: string;

  beforeAll(async () => {
    account = createTestServiceAccount({ clientEmail: "keys@test-project.iam.gserviceaccount.com" });
    oauth = await startFakeGoogleOAuth({ accounts: [account] });
    keyFile = writeKeyFile(account, mkdtempSync(join(tmpdir(), "ccgate-vertex-keys-")));
  });
  afterAll(async () => {
    await oauth.close();
  });

  it("is one key, labelled with the account, whose secret comes from the token source", async () => {
    const keys = vertexUpstreamKeys("vtx", { credentialsFile: keyFile, tokenUrl: oauth.tokenUrl });
    expect(keys).toHaveLength(1);
    const key = keys[0];
    expect(key).toMatchObject({ id: "vtx#1", label: `service account ${account.clientEmail}`, secret: "" });
    const token = await key?.tokenSource?.getToken(never);
    expect(token !== undefined && oauth.accountOf(token)).toBe(account.clientEmail);
  });

  it("prefixes a key-file problem with the option's name", () => {
    expect(() => vertexUpstreamKeys("vtx", { credentialsFile: "/nonexistent/sa.json" })).toThrow(
      /^options\.credentialsFile: credentials file \/nonexistent\/sa\.json: no such file/,
    );
  });
});
