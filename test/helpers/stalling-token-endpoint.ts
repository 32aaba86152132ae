/**
 * A token endpoint in front of the fake Google one (../fakes/google-oauth.ts) that can stall:
 * while `stall` > 0, each exchange is accepted (connection open, body read) and never answered;
 * otherwise it is passed through. The failure a deadline-less refresh hangs on forever.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeGoogleOAuth } from "../fakes/google-oauth.js";

export interface StallingTokenEndpoint {
  /** The value for the `tokenUrl` option. */
  readonly tokenUrl: string;
  /** Exchanges received (stalled and passed through). */
  readonly hits: number;
  /** How many of the next exchanges to stall (`Infinity`: all). */
  stall: number;
  /** Stalled exchanges whose connection the client closed. */
  readonly closedByClient: number;
  close(): Promise<void>;
}

export async function startStallingTokenEndpoint(upstream: FakeGoogleOAuth): Promise<StallingTokenEndpoint> {
  const state = { hits: 0, stall: 0, closedByClient: 0 };
  const server: Server = createServer((req: IncomingMessage, res) => {
    state.hits++;
    if (state.stall > 0) {
      state.stall--;
      req.resume();
      res.once("close", () => state.closedByClient++);
      return; // accepted, never answered
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      fetch(upstream.tokenUrl, {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "application/x-www-form-urlencoded" },
        body: Buffer.concat(chunks),
      })
        .then(async (r) => {
          res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text());
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokenUrl: `http://127.0.0.1:${port}/token`,
    get hits() {
      return state.hits;
    },
    get stall() {
      return state.stall;
    },
    set stall(n) {
      state.stall = n;
    },
    get closedByClient() {
      return state.closedByClient;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
