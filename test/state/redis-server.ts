/**
 * A private redis-server for the shared-state tests: on a free 127.0.0.1 port, no persistence,
 * a child of the test process (never a system Redis). It can be stopped and started again on
 * the same port to test an outage. Without redis-server on PATH the tests fail with the install
 * line, unless CCGATE_SKIP_REDIS=1 skips them.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createConnection, createServer } from "node:net";

export const SKIP_REDIS = process.env.CCGATE_SKIP_REDIS === "1";

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Throws the fix when redis-server is missing (tests that need it call this first). */
export function requireRedisServer(): string {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "redis-server is not installed: the shared-state tests need it (apt-get install -y redis-server), or set CCGATE_SKIP_REDIS=1 to skip them",
    );
  }
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Kill it (its data is gone: it keeps none). */
  stop(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const binary = requireRedisServer();
  let lastError: unknown;
  // The port is free when picked but could be taken before redis binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const redis = new RedisChild(binary, port);
    try {
      await redis.start();
      return redis;
    } catch (err) {
      lastError = err;
      await redis.stop();
    }
  }
  throw lastError;
}

class RedisChild implements TestRedis {
  private child: ChildProcess | undefined;
  private readonly killOnExit = () => this.child?.kill("SIGKILL");

  constructor(
    private readonly binary: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error("test redis already running");
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    const child = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    process.once("exit", this.killOnExit);
    let output = "";
    child.stdout?.on("data", (b: Buffer) => {
      output = (output + b.toString("utf8")).slice(-4_000);
    });
    child.stderr?.on("data", (b: Buffer) => {
      output = (output + b.toString("utf8")).slice(-4_000);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
      if (child.exitCode !== null) break;
      if (await pings(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server on port ${this.port} did not start:\n${output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.off("exit", this.killOnExit);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("redis-server did not exit")), STOP_TIMEOUT_MS);
    });
    try {
      await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING on the port (one bounded try). */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (b: Buffer) => done(b.toString("utf8").startsWith("+PONG")));
  });
}
