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
  // One timer, re-armed with refresh() on every event (a new timer per event showed in profiles).
  let fire: (() => void) | undefined;
  let tick: Promise<"tick"> | undefined;
  const timer = setTimeout(() => fire?.(), intervalMs);
  const arm = () => {
    tick = new Promise<"tick">((resolve) => {
      fire = () => resolve("tick");
    });
    timer.refresh();
  };
  arm();
  try {
    for (;;) {
      pending ??= iterator.next();
      const winner = await Promise.race([pending, tick!]);
      if (winner === "tick") {
        arm();
        yield PING;
        continue;
      }
      pending = undefined;
      if (winner.done) return;
      timer.refresh();
      yield winner.value;
    }
  } finally {
    clearTimeout(timer);
    // Stops the source (and so the upstream request) when the consumer stops early.
    if (pending !== undefined) pending.catch(() => {});
    await iterator.return?.();
  }
}
