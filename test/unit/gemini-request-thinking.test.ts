/**
 * Anthropic thinking / effort → Gemini thinkingConfig per model generation, and the model table
 * (protocol.md F.7).
 */
import { describe, expect, it } from "vitest";
import { messagesRequestSchema } from "../../src/protocol/anthropic/request-schema.js";
import { geminiModelInfo } from "../../src/providers/gemini/models.js";
import { buildGeminiBody } from "../../src/providers/gemini/request.js";

function thinkingConfig(model: string, fields: Record<string, unknown>, max_tokens = 32_000) {
  const request = messagesRequestSchema.parse({
    model: "claude-opus-4-6",
    max_tokens,
    messages: [{ role: "user", content: "hi" }],
    ...fields,
  });
  return buildGeminiBody(request, model, { toolSchema: "json-schema" }).generationConfig.thinkingConfig;
}
const adaptive = { thinking: { type: "adaptive" } };
const disabled = { thinking: { type: "disabled" } };
const enabled = (budget_tokens: number) => ({ thinking: { type: "enabled", budget_tokens } });
const effort = (value: string) => ({ output_config: { effort: value } });

describe("gemini-3-pro (levels LOW, HIGH)", () => {
  const m = "gemini-3-pro-preview";
  it("adaptive → thoughts on at the model's default level", () => {
    expect(thinkingConfig(m, adaptive)).toEqual({ includeThoughts: true });
  });
  it("effort picks the level, the next higher one when the model lacks it", () => {
    expect(thinkingConfig(m, { ...adaptive, ...effort("low") })).toEqual({
      includeThoughts: true,
      thinkingLevel: "LOW",
    });
    expect(thinkingConfig(m, { ...adaptive, ...effort("medium") })).toEqual({
      includeThoughts: true,
      thinkingLevel: "HIGH",
    });
    expect(thinkingConfig(m, { ...adaptive, ...effort("max") })).toEqual({
      includeThoughts: true,
      thinkingLevel: "HIGH",
    });
  });
  it("enabled budget → level by size", () => {
    expect(thinkingConfig(m, enabled(2_000))).toEqual({ includeThoughts: true, thinkingLevel: "LOW" });
    expect(thinkingConfig(m, enabled(20_000))).toEqual({ includeThoughts: true, thinkingLevel: "HIGH" });
  });
  it("disabled → the lowest level (3 Pro cannot turn thinking off), no thoughts", () => {
    expect(thinkingConfig(m, disabled)).toEqual({ thinkingLevel: "LOW" });
  });
  it("no thinking field keeps Gemini's default; effort alone still sets the level", () => {
    expect(thinkingConfig(m, {})).toBeUndefined();
    expect(thinkingConfig(m, effort("low"))).toEqual({ thinkingLevel: "LOW" });
  });
});

describe("gemini-3-flash (levels MINIMAL..HIGH)", () => {
  const m = "gemini-3-flash-preview";
  it("disabled → MINIMAL", () => {
    expect(thinkingConfig(m, disabled)).toEqual({ thinkingLevel: "MINIMAL" });
  });
  it("effort medium → MEDIUM, xhigh → HIGH", () => {
    expect(thinkingConfig(m, { ...adaptive, ...effort("medium") })).toEqual({
      includeThoughts: true,
      thinkingLevel: "MEDIUM",
    });
    expect(thinkingConfig(m, { ...adaptive, ...effort("xhigh") })).toEqual({
      includeThoughts: true,
      thinkingLevel: "HIGH",
    });
  });
  it("budget sizes → LOW / MEDIUM / HIGH", () => {
    expect(thinkingConfig(m, enabled(1_024))?.thinkingLevel).toBe("LOW");
    expect(thinkingConfig(m, enabled(10_000))?.thinkingLevel).toBe("MEDIUM");
    expect(thinkingConfig(m, enabled(30_000))?.thinkingLevel).toBe("HIGH");
  });
  it("effort wins over a budget on level models", () => {
    expect(thinkingConfig(m, { ...enabled(30_000), ...effort("low") })?.thinkingLevel).toBe("LOW");
  });
});

describe("gemini-2.5-pro (budget 128..32768, cannot turn off)", () => {
  const m = "gemini-2.5-pro";
  it("enabled budget → thinkingBudget, clamped to the family range", () => {
    expect(thinkingConfig(m, enabled(10_000))).toEqual({ includeThoughts: true, thinkingBudget: 10_000 });
    expect(thinkingConfig(m, enabled(100_000), 128_000)).toEqual({
      includeThoughts: true,
      thinkingBudget: 32_768,
    });
    expect(thinkingConfig(m, enabled(50))).toEqual({ includeThoughts: true, thinkingBudget: 128 });
  });
  it("keeps the budget below maxOutputTokens", () => {
    expect(thinkingConfig(m, enabled(16_000), 8_000)).toEqual({
      includeThoughts: true,
      thinkingBudget: 7_999,
    });
  });
  it("adaptive → dynamic (-1) with a large cap, half the cap otherwise", () => {
    expect(thinkingConfig(m, adaptive, 128_000)).toEqual({ includeThoughts: true, thinkingBudget: -1 });
    expect(thinkingConfig(m, adaptive, 4_000)).toEqual({ includeThoughts: true, thinkingBudget: 2_000 });
  });
  it("disabled → no thinkingConfig (0 is not allowed on 2.5 Pro)", () => {
    expect(thinkingConfig(m, disabled)).toBeUndefined();
  });
  it("an explicit budget wins over effort on budget models", () => {
    expect(thinkingConfig(m, { ...enabled(5_000), ...effort("max") })?.thinkingBudget).toBe(5_000);
    expect(thinkingConfig(m, { ...adaptive, ...effort("max") }, 128_000)?.thinkingBudget).toBe(32_768);
  });
});

describe("gemini-2.5-flash (budget 0..24576)", () => {
  const m = "gemini-2.5-flash";
  it("disabled → thinkingBudget 0", () => {
    expect(thinkingConfig(m, disabled)).toEqual({ thinkingBudget: 0 });
  });
  it("enabled budget is clamped to 24576", () => {
    expect(thinkingConfig(m, enabled(30_000), 64_000)).toEqual({
      includeThoughts: true,
      thinkingBudget: 24_576,
    });
  });
  it("effort low → a small budget", () => {
    expect(thinkingConfig(m, { ...adaptive, ...effort("low") })).toEqual({
      includeThoughts: true,
      thinkingBudget: 1_024,
    });
  });
});

describe("other families", () => {
  it("flash-lite: a budget that cannot fit its 512 minimum under the cap turns thinking off", () => {
    expect(thinkingConfig("gemini-2.5-flash-lite", enabled(100), 1_000)).toEqual({
      includeThoughts: true,
      thinkingBudget: 512,
    });
    expect(thinkingConfig("gemini-2.5-flash-lite", enabled(1_024), 300)).toEqual({
      includeThoughts: true,
      thinkingBudget: 0,
    });
  });
  it("models without thinking never get a thinkingConfig", () => {
    for (const fields of [adaptive, disabled, enabled(4_000), effort("high")]) {
      expect(thinkingConfig("gemini-2.0-flash", fields)).toBeUndefined();
      expect(thinkingConfig("gemma-3-27b-it", fields)).toBeUndefined();
    }
  });
  it("never sends both thinkingBudget and thinkingLevel", () => {
    const models = [
      "gemini-3-pro-preview",
      "gemini-3-flash-preview",
      "gemini-3.1-pro-preview",
      "gemini-2.5-pro",
      "gemini-2.5-flash",
      "gemini-2.5-flash-lite",
      "gemini-3.5-flash",
      "gemini-2.5-foo",
    ];
    const thinkings = [
      undefined,
      adaptive.thinking,
      disabled.thinking,
      enabled(1_024).thinking,
      enabled(40_000).thinking,
    ];
    const efforts = [undefined, "low", "medium", "high", "xhigh", "max"];
    for (const model of models) {
      for (const thinking of thinkings) {
        for (const e of efforts) {
          for (const max of [1, 500, 32_000]) {
            const fields = { ...(thinking ? { thinking } : {}), ...(e ? effort(e) : {}) };
            const config = thinkingConfig(model, fields, max);
            const label = `${model} ${JSON.stringify(fields)} max=${max}`;
            expect(config?.thinkingBudget !== undefined && config?.thinkingLevel !== undefined, label).toBe(
              false,
            );
            if (config?.thinkingBudget !== undefined && config.thinkingBudget > 0) {
              expect(config.thinkingBudget, label).toBeLessThan(Math.max(max, 2));
            }
          }
        }
      }
    }
  });
});

describe("geminiModelInfo", () => {
  it("knows the families by prefix, including dated and preview variants", () => {
    expect(geminiModelInfo("gemini-2.5-flash-preview-09-2025")).toMatchObject({
      thinking: "budget",
      budget: { min: 1, max: 24_576 },
    });
    expect(geminiModelInfo("gemini-2.5-flash-lite-preview-06-17")).toMatchObject({
      budget: { min: 512, canDisable: true },
    });
    expect(geminiModelInfo("models/gemini-2.5-pro")).toMatchObject({
      budget: { min: 128, max: 32_768, canDisable: false },
    });
    expect(geminiModelInfo("gemini-3-flash-preview")).toMatchObject({
      thinking: "level",
      levels: ["MINIMAL", "LOW", "MEDIUM", "HIGH"],
    });
    expect(geminiModelInfo("gemini-3.1-pro-preview")).toMatchObject({
      thinking: "level",
      levels: ["LOW", "MEDIUM", "HIGH"],
    });
    expect(geminiModelInfo("gemini-2.0-flash-001")).toMatchObject({
      thinking: "none",
      outputTokenLimit: 8_192,
    });
  });
  it("gives unknown models safe defaults by name pattern", () => {
    expect(geminiModelInfo("gemini-3.7-ultra")).toEqual({
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
      thinking: "level",
      levels: ["LOW", "HIGH"],
    });
    expect(geminiModelInfo("gemini-2.5-computer-use")).toMatchObject({ thinking: "budget" });
    expect(geminiModelInfo("my-tuned-model")).toEqual({
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
      thinking: "none",
    });
  });
});
