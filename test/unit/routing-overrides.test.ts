import { describe, expect, it } from "vitest";
import { providerSchema, routeSchema } from "../../src/config/schema.js";
import { GatewayError } from "../../src/core/errors.js";
import { DIRECT_ROUTE, RouteTable } from "../../src/routing/resolve-route.js";

const providers = ["gemini", "openrouter", "ollama"].map((name) =>
  providerSchema.parse({ name, type: "openai" }),
);
const routes = [
  { name: "passthrough", match: ["gemini-*"], targets: ["gemini/$model"] },
  { name: "reasoning", match: ["reasoner"], targets: ["openrouter/deepseek/deepseek-r1"] },
  { name: "local", match: [], targets: ["ollama/qwen3-coder"] },
  { name: "default", targets: ["gemini/gemini-2.5-pro"] },
].map((r) => routeSchema.parse(r));
const table = new RouteTable(routes, { providers });

function clientError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a GatewayError");
}

describe("per-request overrides", () => {
  it("x-ccgate-route forces the named route, even one no model name reaches", () => {
    const d = table.resolve({ model: "claude-sonnet-4-6", headers: { "x-ccgate-route": "local" } });
    expect(d).toEqual({
      route: "local",
      targets: [{ provider: "ollama", model: "qwen3-coder" }],
      reason: "forced by x-ccgate-route header",
      skipped: [],
    });
    // $model in a forced route still means the requested name.
    expect(
      table.resolve({ model: "claude-x", headers: { "x-ccgate-route": "passthrough" } })?.targets,
    ).toEqual([{ provider: "gemini", model: "claude-x" }]);
  });

  it("an unknown x-ccgate-route name is a 400 naming it and the routes", () => {
    const err = clientError(() => table.resolve({ model: "m", headers: { "x-ccgate-route": "nope" } }));
    expect(err).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      class: "client",
      code: "UNKNOWN_ROUTE",
    });
    expect(err.message).toBe(
      'x-ccgate-route: no route is named "nope" (routes: passthrough, reasoning, local, default)',
    );
  });

  it("a model name provider,model goes straight to that target (slashes in the model kept)", () => {
    const d = table.resolve({ model: "openrouter,deepseek/deepseek-chat" });
    expect(d).toEqual({
      route: DIRECT_ROUTE,
      targets: [{ provider: "openrouter", model: "deepseek/deepseek-chat" }],
      reason: 'forced by model name "openrouter,deepseek/deepseek-chat"',
      skipped: [],
    });
    // It wins over the header: it names the target itself.
    expect(
      table.resolve({ model: "ollama,llama3", headers: { "x-ccgate-route": "local" } })?.targets,
    ).toEqual([{ provider: "ollama", model: "llama3" }]);
  });

  it("provider,model with a provider that does not exist is a 400 naming it", () => {
    const err = clientError(() => table.resolve({ model: "deepseek,deepseek-chat" }));
    expect(err).toMatchObject({ status: 400, type: "invalid_request_error", code: "UNKNOWN_PROVIDER" });
    expect(err.message).toBe(
      'model: provider "deepseek" in "deepseek,deepseek-chat" is not configured (providers: gemini, openrouter, ollama)',
    );
  });

  it("a model name equal to a route's name selects it, unless its targets need a real model name", () => {
    expect(table.resolve({ model: "local" })).toMatchObject({
      route: "local",
      reason: 'model name selects route "local"',
    });
    // "passthrough" has gemini/$model: the name goes through the normal match (→ default).
    expect(table.resolve({ model: "passthrough" })?.route).toBe("default");
  });

  it("$model stands for the requested model name", () => {
    expect(table.resolve({ model: "gemini-3-pro-preview" })?.targets).toEqual([
      { provider: "gemini", model: "gemini-3-pro-preview" },
    ]);
  });

  it("modelNames: literal patterns, self-routing target models and selectable route names", () => {
    expect(table.modelNames()).toEqual(["reasoner", "gemini-2.5-pro", "reasoning", "local", "default"]);
  });
});
