/**
 * The benchmark's child processes (fake, bare proxy, gateway): start one and wait for its URL,
 * ask it for its RSS over IPC, stop them all. Only the children started here are ever signalled,
 * by their own handles; they also exit by themselves when this process goes away.
 */
import { fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHILD_START_MS = 20_000;
const IPC_MS = 5_000;

const children = new Map();
let stopping = false;

/** Fork `bench/<file>` and resolve with the URL it reports once listening. */
export function startChild(name, file, env = {}, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, file), [], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv,
    });
    children.set(name, child);
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${CHILD_START_MS} ms`)),
      CHILD_START_MS,
    );
    child.on("message", (msg) => {
      if (msg?.type === "ready") {
        clearTimeout(timer);
        resolve(msg.url);
      } else if (msg?.type === "failed") {
        clearTimeout(timer);
        reject(new Error(`${name} failed to start:\n${msg.message}`));
      }
    });
    child.on("exit", (code, signal) => {
      children.delete(name);
      clearTimeout(timer);
      if (!stopping) console.error(`\n!!! ${name} exited unexpectedly (code ${code}, signal ${signal}) !!!`);
      reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready`));
    });
  });
}

let askId = 0;
/** `stats` over IPC: {rss, peakRss, windowPeakRss, heapUsed, peakHeapTotal, peakExternal}; undefined if the child is gone or silent. */
export function stats(name, reset = false) {
  const child = children.get(name);
  if (child === undefined || !child.connected) return Promise.resolve(undefined);
  const id = ++askId;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      resolve(undefined);
    }, IPC_MS);
    const onMessage = (msg) => {
      if (msg?.type !== "stats" || msg.id !== id) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(msg);
    };
    child.on("message", onMessage);
    child.send({ type: "stats", id, reset });
  });
}

/** Kill every child still running (only the ones this run started, by their handles). */
function killChildren(signal = "SIGTERM") {
  for (const child of children.values()) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

/** SIGTERM every running child (SIGKILL after 3 s) and wait until all have exited. */
export async function stopChildren() {
  stopping = true;
  const exits = [...children.values()].map((child) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => {
          child.once("exit", resolve);
          const force = setTimeout(() => child.kill("SIGKILL"), 3_000);
          force.unref();
        }),
  );
  killChildren("SIGTERM");
  await Promise.all(exits);
}

process.on("exit", () => killChildren("SIGKILL"));
