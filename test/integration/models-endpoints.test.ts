/**
 * The auxiliary endpoints' HTTP shapes, over real HTTP with the official SDK as client:
 * `request-id` on successes (the SDK reads it as `requestID`, protocol.md C.1), `/v1/models`
 * paging as Anthropic documents it (D.2: limit 1–1000, `after_id` / `before_id` cursors), and
 * Claude Code's telemetry posts answered without the gateway token (E.1).
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import type { RunningGateway } from "../../src/server.js";
import { type FakeGemini, startFakeGemini } from "../fakes/gemini.js";
import { startTestGateway } from "../helpers/gateway.js";

const TOKEN = "gateway-s3cret";
const NAMES = ["m-a", "m-b", "m-c", "m-d", "m-e", "m-f", "m-g"];

let gemini: FakeGemini;
let gateway: RunningGateway;
let client: Anthropic;
/** Every listed id, in the gateway's order. */
let all: string[];

beforeAll(async () => {
  gemini = await startFakeGemini();
  gateway = await startTestGateway({
    env: { CCGATE_AUTH_TOKEN: TOKEN },
    configure(config) {
      config.providers = [
        providerSchema.parse({ name: "gemini", type: "gemini", baseUrl: gemini.url, apiKeys: ["gem-key"] }),
      ];
      config.routes = [
        routeSchema.parse({ name: "named", match: NAMES, targets: ["gemini/gemini-2.5-pro"] }),
      ];
    },
  });
  client = new Anthropic({ baseURL: gateway.url, apiKey: TOKEN, maxRetries: 0, timeout: 10_000 });
  all = (await client.models.list({ limit: 1000 })).data.map((m) => m.id);
});
afterAll(async () => {
  await gateway?.close();
  await gemini?.close();
});

/** A list page or an error body, as JSON. */
interface ListBody {
  data: { id: string }[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
  error: { type: string; message: string };
}

const ids = (body: ListBody) => body.data.map((m) => m.id);

/** GET /v1/models with a raw query string, as a socket sees it. */
async function listRaw(query: string): Promise<{ status: number; headers: Headers; body: ListBody }> {
  const res = await fetch(`${gateway.url}/v1/models${query}`, { headers: { "x-api-key": TOKEN } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ListBody };
}

describe("request-id on successful answers", () => {
  it("GET /v1/models, GET /v1/models/:id and POST /v1/messages/count_tokens carry it", async () => {
    const list = await client.models.list().withResponse();
    const one = await client.models.retrieve("m-a").withResponse();
    const count = await client.messages
      .countTokens({ model: "m-a", messages: [{ role: "user", content: "count me" }] })
      .withResponse();
    const ids = [list.request_id, one.request_id, count.request_id];
    for (const id of ids) expect(id).toMatch(/^req_\w+$/);
    expect(new Set(ids).size).toBe(3);
    expect(count.data.input_tokens).toBeGreaterThan(0);
    // The SDK's own accessor on the parsed object.
    const counted = await client.messages.countTokens({
      model: "m-b",
      messages: [{ role: "user", content: "x" }],
    });
    expect(counted._request_id).toMatch(/^req_/);
  });
});

describe("GET /v1/models paging", () => {
  it("answers a limit outside 1–1000, or not a whole number, with a 400 naming the field", async () => {
    for (const limit of ["0", "1001", "abc", "1.5", "-1", "2e1"]) {
      const res = await listRaw(`?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(res.headers.get("request-id")).toMatch(/^req_/);
      expect(res.body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
      expect(res.body.error.message).toMatch(/^limit: must be an integer from 1 to 1000/);
    }
    await expect(client.models.list({ limit: 0 })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    const edge = await listRaw("?limit=1000");
    expect(edge.status).toBe(200);
    expect(edge.body.data).toHaveLength(all.length);
  });

  // A guard for what already worked: forward paging must stay as it was.
  it("pages forward with after_id, each entry once, and the SDK's auto-paging stops", async () => {
    expect(all).toEqual(expect.arrayContaining(NAMES));
    const first = await listRaw("?limit=2");
    expect(ids(first.body)).toEqual(all.slice(0, 2));
    expect(first.body).toMatchObject({ has_more: true, first_id: all[0], last_id: all[1] });
    const second = await listRaw(`?limit=2&after_id=${all[1]}`);
    expect(ids(second.body)).toEqual(all.slice(2, 4));
    expect(second.body).toMatchObject({ first_id: all[2], last_id: all[3] });

    const seen: string[] = [];
    for await (const model of client.models.list({ limit: 2 })) seen.push(model.id);
    expect(seen).toEqual(all);

    const last = await listRaw(`?limit=2&after_id=${all.at(-1)}`);
    expect(last.body).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });

  it("answers before_id with the entries just before it, and pages backwards to the start", async () => {
    const n = all.length;
    const page = await listRaw(`?limit=2&before_id=${all[n - 1]}`);
    expect(ids(page.body)).toEqual(all.slice(n - 3, n - 1));
    expect(page.body).toMatchObject({ has_more: true, first_id: all[n - 3], last_id: all[n - 2] });

    const atStart = await listRaw(`?limit=5&before_id=${all[2]}`);
    expect(ids(atStart.body)).toEqual(all.slice(0, 2));
    expect(atStart.body).toMatchObject({ has_more: false, first_id: all[0], last_id: all[1] });

    const none = await listRaw(`?before_id=${all[0]}`);
    expect(none.body).toEqual({ data: [], has_more: false, first_id: null, last_id: null });

    // The SDK follows `first_id` backwards while `has_more`.
    const seen: string[] = [];
    for await (const model of client.models.list({ limit: 2, before_id: all[n - 1] ?? "" }))
      seen.push(model.id);
    expect(seen.sort()).toEqual(all.slice(0, n - 1).sort());
    expect(seen).toHaveLength(n - 1);
  });

  it("answers an unknown cursor with an empty last page, so a client cannot loop", async () => {
    for (const cursor of ["after_id=no-such-model", "before_id=no-such-model"]) {
      const res = await listRaw(`?limit=2&${cursor}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
    }
    const seen: string[] = [];
    for await (const model of client.models.list({ limit: 2, after_id: "no-such-model" }))
      seen.push(model.id);
    expect(seen).toEqual([]);
  });

  it("refuses after_id and before_id together", async () => {
    const res = await listRaw(`?after_id=${all[0]}&before_id=${all[3]}`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/after_id, before_id/);
  });
});

describe("Claude Code's telemetry with a gateway token configured", () => {
  it("answers /api/event_logging/batch without the token; the API still needs it", async () => {
    const post = (path: string) =>
      fetch(gateway.url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ events: [{ event_type: "ClaudeCodeInternalEvent" }] }),
      });
    const batch = await post("/api/event_logging/batch");
    expect(batch.status).toBe(204);
    expect((await post("/api/event_logging/v2/batch")).status).toBe(204);

    const models = await fetch(`${gateway.url}/v1/models`);
    expect(models.status).toBe(401);
    expect((await post("/api/event_logging/other")).status).toBe(401);
  });
});
