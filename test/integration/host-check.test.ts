/**
 * DNS-rebinding protection: without a client token the gateway only answers requests addressed
 * to this machine by name (a rebinding page's requests carry the page's own name in Host).
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../src/server.js";
import { startTestGateway } from "../helpers/gateway.js";

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** GET `path` with this Host header (fetch will not send a chosen Host). */
function get(gw: RunningGateway, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Host check without a client token", () => {
  it("answers loopback names and refuses others with a 403 that says why", async () => {
    gateway = await startTestGateway({ env: { GEMINI_API_KEY: "k", GEMINI_BASE_URL: "http://127.0.0.1:9" } });
    const port = new URL(gateway.url).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      "localhost",
      `[::1]:${port}`,
      `app.localhost:${port}`,
    ])
      expect((await get(gateway, "/v1/models", host)).status, host).toBe(200);
    for (const host of [`evil.example.com:${port}`, "192.168.1.20", `127.0.0.1.evil.example:${port}`]) {
      const res = await get(gateway, "/v1/models", host);
      expect(res.status, host).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({
        type: "error",
        error: { type: "permission_error", message: expect.stringMatching(/DNS rebinding/) },
      });
    }
    expect((await get(gateway, "/status", "evil.example.com")).status).toBe(403);
  });

  it("with a client token any name is served (the token is the protection)", async () => {
    gateway = await startTestGateway({
      env: {
        GEMINI_API_KEY: "k",
        GEMINI_BASE_URL: "http://127.0.0.1:9",
        CCGATE_AUTH_TOKEN: "team-token-1234",
      },
    });
    expect((await get(gateway, "/v1/models", "gateway.team.example")).status).toBe(401);
    expect((await get(gateway, "/health", "gateway.team.example")).status).toBe(200);
  });
});
