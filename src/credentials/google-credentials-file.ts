/**
 * Read and check a Google service-account key file before handing it to the auth library.
 *
 * The library's own messages for a broken file are generic ("The incoming JSON object does not
 * contain a client_email field", or a crypto error at the first request); reading it here gives a
 * start-up error that names the file and the field, and never echoes the key.
 *
 * Only `service_account` keys are accepted here. Other credential types (user credentials from
 * `gcloud auth application-default login`, workload identity federation) come through
 * application default credentials instead; Google advises validating any credential config
 * before loading it, and external-account configs can name programs to run.
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";

export interface ServiceAccountKey {
  /** The service account's email: the JWT issuer, and safe to log. */
  clientEmail: string;
  /** PEM private key. Never log it. */
  privateKey: string;
  /** Sent as the JWT `kid` so Google picks the right public key. */
  privateKeyId: string | undefined;
  projectId: string | undefined;
}

/** Read `path`; throws an Error whose message names the file and what is wrong with it. */
export function readServiceAccountKey(path: string): ServiceAccountKey {
  const fail = (problem: string, cause?: unknown): never => {
    throw new Error(`credentials file ${path}: ${problem}`, cause === undefined ? undefined : { cause });
  };
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(code === "ENOENT" ? "no such file" : `cannot be read (${code ?? String(err)})`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail("is not valid JSON (expected a service-account key downloaded from Google Cloud IAM)", err);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) fail("is not a JSON object");
  const json = parsed as Record<string, unknown>;
  if (json.type !== "service_account") {
    fail(
      `"type" is ${JSON.stringify(json.type)}, expected "service_account" (for user credentials leave credentialsFile out and use application default credentials)`,
    );
  }
  const email = json.client_email;
  if (typeof email !== "string" || !email.includes("@")) {
    fail('"client_email" is missing or not an email address');
  }
  const key = json.private_key;
  if (typeof key !== "string" || key.trim() === "") fail('"private_key" is missing');
  try {
    createPrivateKey(key as string);
  } catch (err) {
    // A PEM decoder error says nothing about the key's content, so it is safe to keep as cause.
    fail('"private_key" is not a PEM private key', err);
  }
  return {
    clientEmail: email as string,
    privateKey: key as string,
    privateKeyId: typeof json.private_key_id === "string" ? json.private_key_id : undefined,
    projectId: typeof json.project_id === "string" ? json.project_id : undefined,
  };
}
