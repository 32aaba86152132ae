/**
 * Keep-alive: while the source is silent for `intervalMs`, yield `ping` events (protocol.md B.6),
 * so no client watchdog fires during long thinking or a slow first token. The pending `next()`
 * is kept across pings — nothing is dropped or reordered.
 */
import type { StreamEvent } from "../protocol/anthropic/types.js";

const PING: StreamEvent = { type: "ping" };

export async function* withKeepAlive(
  source: AsyncIterable<StreamEvent>,
  intervalMs: number,
): AsyncGenerator<StreamEvent> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<StreamEvent>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      pending ??= iterator.next();
      const tick = new Promise<"tick">((resolve) => {
        timer = setTimeout(resolve, intervalMs, "tick");
      });
      const winner = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (winner === "tick") {
        yield PING;
        continue;
      }
      pending = undefined;
      if (winner.done) return;
      yield winner.value;
    }
  } finally {
    clearTimeout(timer);
    // Stops the source (and so the upstream request) when the consumer stops early.
    if (pending !== undefined) pending.catch(() => {});
    await iterator.return?.();
  }
}
