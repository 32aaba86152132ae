import { describe, expect, it } from "vitest";
import { routeSchema } from "../../src/config/schema.js";
import { RouteTable } from "../../src/routing/resolve-route.js";
import { compileTargets, orderTargets, parseDirectTarget } from "../../src/routing/targets.js";
import { seededRandom } from "../helpers/seeded-random.js";

const route = (targets: unknown[]) =>
  new RouteTable([routeSchema.parse({ name: "r", targets })], { random: seededRandom(42) });
const order = (table: RouteTable) =>
  table.resolve({ model: "m" })?.targets.map((t) => `${t.provider}/${t.model}`) ?? [];

describe("target order", () => {
  it("a plain list is a strict failover order", () => {
    const table = route(["a/1", "b/2", { target: "c/3" }]);
    for (let i = 0; i < 20; i++) expect(order(table)).toEqual(["a/1", "b/2", "c/3"]);
  });

  it("weights split first attempts in proportion (seeded, 4000 draws)", () => {
    const table = route([
      { target: "a/1", weight: 3 },
      { target: "b/2", weight: 1 },
    ]);
    const first = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const o = order(table);
      expect(o).toHaveLength(2);
      expect(new Set(o).size).toBe(2);
      const f = o[0] ?? "";
      first.set(f, (first.get(f) ?? 0) + 1);
    }
    const share = (first.get("a/1") ?? 0) / 4000;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  it("tiers go in ascending order; weights only shuffle within a tier", () => {
    const table = route([
      { target: "backup/x", tier: 1 },
      { target: "a/1", weight: 1 },
      { target: "b/2", weight: 1, tier: 0 },
      { target: "last/z", tier: 5 },
    ]);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const o = order(table);
      expect(o.slice(2)).toEqual(["backup/x", "last/z"]);
      expect([...o.slice(0, 2)].sort()).toEqual(["a/1", "b/2"]);
      seen.add(o[0] ?? "");
    }
    expect(seen).toEqual(new Set(["a/1", "b/2"]));
  });

  it("weighted sampling without replacement, with an injected random source", () => {
    const specs = compileTargets([
      { target: "a/1", weight: 1 },
      { target: "b/2", weight: 1 },
      { target: "c/3", weight: 2 },
    ]);
    // r·total = 0.9·4 = 3.6 → c (cumulative 1, 2, 4); then 0.1·2 = 0.2 → a; then b.
    const draws = [0.9, 0.1];
    const names = orderTargets(specs, () => draws.shift() ?? 0).map((t) => t.provider);
    expect(names).toEqual(["c", "a", "b"]);
  });

  it("parses provider,model names", () => {
    expect(parseDirectTarget("openrouter,deepseek/deepseek-chat")).toEqual({
      provider: "openrouter",
      model: "deepseek/deepseek-chat",
    });
    expect(parseDirectTarget("claude-sonnet-4-6")).toBeUndefined();
    expect(parseDirectTarget(",x")).toBeUndefined();
    expect(parseDirectTarget("x,")).toBeUndefined();
  });
});
