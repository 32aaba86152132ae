/**
 * Requests in flight, bounded (issue: resilience §7): an immediate `tryAcquire`, and a small
 * bounded wait queue for when every target is full. Never queues without bound: a full queue or
 * a wait past its deadline answers "no" and the gateway sheds load with a quick 529.
 */

export type Release = () => void;

interface Waiter {
  resolve: (release: Release | undefined) => void;
  timer: NodeJS.Timeout;
}

export class Limiter {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  /** `max` 0 or less means unlimited. */
  constructor(
    readonly max: number,
    private readonly queueMax: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  hasRoom(): boolean {
    return this.max <= 0 || this.active < this.max;
  }

  tryAcquire(): Release | undefined {
    if (!this.hasRoom()) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Wait (bounded) for a slot; undefined when the queue is full, the wait times out or aborts. */
  acquire(timeoutMs: number, signal: AbortSignal): Promise<Release | undefined> {
    const now = this.tryAcquire();
    if (now !== undefined) return Promise.resolve(now);
    if (this.waiters.length >= this.queueMax || signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: (release) => {
          clearTimeout(waiter.timer);
          signal.removeEventListener("abort", onAbort);
          resolve(release);
        },
        timer: setTimeout(() => this.drop(waiter), timeoutMs),
      };
      const onAbort = () => this.drop(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private drop(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
    waiter.resolve(undefined);
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next !== undefined) next.resolve(this.releaser());
      else this.active--;
    };
  }
}
