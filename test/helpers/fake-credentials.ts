/**
 * Credential-shaped values for the masking tests. They are assembled at run time, so no string
 * in the repository looks like a real key to a secret scanner (or to a reader); none of them
 * was ever issued by anyone.
 */
const join = (...parts: string[]) => parts.join("");

/** Google API key shape: `AIza` + 35 characters. */
export const FAKE_GOOGLE_KEY = join("AI", "za", "FAKE-test-value-not-a-real-key-xxx");
/** Google OAuth access token shape (Vertex). */
export const FAKE_GOOGLE_TOKEN = join("ya", "29.", "FAKE-test-token-not-real-xxxx");
/** Anthropic key shape. */
export const FAKE_ANTHROPIC_KEY = join("sk", "-ant-", "FAKE-test-value-xx");
/** OpenAI key shape. */
export const FAKE_OPENAI_KEY = join("sk", "-", "FAKEtestVALUEnotREAL");
