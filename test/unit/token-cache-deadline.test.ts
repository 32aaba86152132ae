/**
 * Token refreshes are bounded: a token endpoint that accepts the connection and never answers
 * must not hang every request of the key (they all join the one shared refresh). At the deadline
 * the waiters get a transient 503 (the attempt loop fails over on it), the stuck refresh is dropped,
 * and the next call makes a fresh exchange. Against a real stalling HTTP server on 127.0.0.1.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { createGoogleTokenSource } from "../../src/credentials/google-token-source.js";
import {
  cachedTokenSource,
  DEFAULT_REFRESH_TIMEOUT_MS,
  type FetchedToken,
} from "../../src/credentials/token-cache.js";
import {
  createTestServiceAccount,
  type FakeGoogleOAuth,
  startFakeGoogleOAuth,
  type TestServiceAccount,
  writeKeyFile,
} from "../fakes/google-oauth.js";
import {
  type StallingTokenEndpoint,
  startStallingTokenEndpoint,
} from "../helpers/stalling-token-endpoint.js";

const never = new AbortController().signal;
/** Short enough for a test, long enough that a healthy local exchange always makes it. */
const DEADLINE_MS = 300;

describe("cachedTokenSource deadline", () => {
  it("defaults to a bounded refresh", () => {
    expect(DEFAULT_REFRESH_TIMEOUT_MS).toBe(30_000);
  });

  it("rejects every waiter with a transient 503, aborts the fetch, and refreshes afresh next time", async () => {
    const signals: AbortSignal[] = [];
    let answer: ((t: FetchedToken) => void) | undefined;
    const fetchToken = vi.fn((signal: AbortSignal) => {
      signals.push(signal);
      // The first fetch never settles; the second is answered by hand.
      return new Promise<FetchedToken>((resolve) => {
        if (signals.length > 1) answer = resolve;
      });
    });
    const source = cachedTokenSource(fetchToken, {
      refreshTimeoutMs: DEADLINE_MS,
      issuer: "token endpoint X",
    });

    const started = Date.now();
    const a = source.getToken(never).catch((e: unknown) => e);
    const b = source.getToken(never).catch((e: unknown) => e);
    const [errA, errB] = await Promise.all([a, b]);
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 1_000);
    for (const err of [errA, errB]) {
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({
        code: "TOKEN_REFRESH_TIMEOUT",
        status: 503,
        type: "api_error",
        class: "transient",
      });
      expect((err as Error).message).toBe(
        `token endpoint X did not issue an access token within ${DEADLINE_MS} ms`,
      );
    }
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(signals[0]?.aborted).toBe(true);

    const next = source.getToken(never);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(signals[1]?.aborted).toBe(false);
    answer?.({ token: "fresh", expiresAt: Date.now() + 3_600_000 });
    expect(await next).toBe("fresh");
    expect(await source.getToken(never)).toBe("fresh");
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it("does not time out a refresh that answers in time", async () => {
    const source = cachedTokenSource(
      async () => {
        await new Promise((r) => setTimeout(r, 50));
        return { token: "ok", expiresAt: Date.now() + 3_600_000 };
      },
      { refreshTimeoutMs: DEADLINE_MS },
    );
    expect(await source.getToken(never)).toBe("ok");
    await new Promise((r) => setTimeout(r, DEADLINE_MS + 50));
    expect(await source.getToken(never)).toBe("ok");
  });
});

describe("Google token source against a token endpoint that never answers", () => {
  let account: TestServiceAccount;
  let oauth: FakeGoogleOAuth;
  let endpoint: StallingTokenEndpoint;
  let keyFile: string;

  beforeAll(async () => {
    account = createTestServiceAccount();
    keyFile = writeKeyFile(account, mkdtempSync(join(tmpdir(), "ccgate-token-deadline-")));
    oauth = await startFakeGoogleOAuth({ accounts: [account] });
    endpoint = await startStallingTokenEndpoint(oauth);
  });
  afterAll(async () => {
    await endpoint.close();
    await oauth.close();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const cases = [
    { name: "a service-account key file", options: () => ({ credentialsFile: keyFile }) },
    {
      name: "application default credentials",
      options: () => {
        vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", keyFile);
        return {};
      },
    },
  ];

  for (const c of cases) {
    it(`with ${c.name}: gives up at the deadline, closes the request, and a later call exchanges afresh`, {
      timeout: 10_000,
    }, async () => {
      endpoint.stall = Number.POSITIVE_INFINITY;
      const hitsBefore = endpoint.hits;
      const closedBefore = endpoint.closedByClient;
      const source = createGoogleTokenSource({
        ...c.options(),
        tokenUrl: endpoint.tokenUrl,
        refreshTimeoutMs: DEADLINE_MS,
      });

      const started = Date.now();
      // Two requests at once share the stuck refresh; both are released at the deadline.
      const errs = await Promise.all([
        source.getToken(never).catch((e: unknown) => e),
        source.getToken(never).catch((e: unknown) => e),
      ]);
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 2_000);
      for (const err of errs) {
        expect(err).toBeInstanceOf(GatewayError);
        expect(err).toMatchObject({ code: "TOKEN_REFRESH_TIMEOUT", status: 503, class: "transient" });
        expect((err as Error).message).toContain(endpoint.tokenUrl);
      }
      // The abandoned exchange's connection is closed, and the library does not retry it behind
      // the caller's back (its retries would only pile up on a stalled endpoint).
      await expect.poll(() => endpoint.closedByClient - closedBefore, { timeout: 2_000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(endpoint.hits - hitsBefore).toBe(1);

      // The next request does not join the stuck exchange: a new one reaches the endpoint.
      endpoint.stall = 0;
      const token = await source.getToken(never);
      expect(endpoint.hits - hitsBefore).toBe(2);
      expect(oauth.accountOf(token)).toBe(account.clientEmail);
      expect(await source.getToken(never)).toBe(token);
    });
  }
});
