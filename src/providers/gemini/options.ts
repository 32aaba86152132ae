/**
 * Per-endpoint switches of the Gemini adapter.
 *
 * The adapter is a pure translator, so anything that differs between Gemini endpoints (the public
 * Generative Language API, proxies, older API versions) is passed in here rather than read from config.
 */

export interface GeminiOptions {
  /**
   * How tool input schemas are sent (protocol.md F.5).
   * - `json-schema` (default): `functionDeclarations[].parametersJsonSchema`, a cleaned JSON Schema.
   * - `openapi`: `functionDeclarations[].parameters`, converted to Google's OpenAPI-3.0 subset, for
   *   endpoints that do not accept `parametersJsonSchema`. Structured output then uses `responseSchema`.
   */
  toolSchema: "json-schema" | "openapi";
}

/** What a Gemini provider uses unless configured otherwise. */
export const DEFAULT_GEMINI_OPTIONS: Readonly<GeminiOptions> = Object.freeze({ toolSchema: "json-schema" });
