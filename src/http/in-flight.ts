/**
 * The requests being served, so a shutdown can end every one of them with the error it should
 * end with. A registry rather than one listener per request on a shared AbortSignal: that cost
 * per request, and past ten concurrent requests Node warned of a listener leak.
 */
export class InFlightRequests {
  private readonly controllers = new Set<AbortController>();
  private stopped: { reason: unknown } | undefined;

  /** Track `controller` until the returned function is called; aborted at once after `abortAll`. */
  add(controller: AbortController): () => void {
    if (this.stopped !== undefined) {
      controller.abort(this.stopped.reason);
      return () => {};
    }
    this.controllers.add(controller);
    return () => this.controllers.delete(controller);
  }

  /** Abort every tracked request, and every later one, with `reason`. */
  abortAll(reason: unknown): void {
    this.stopped = { reason };
    for (const controller of this.controllers) controller.abort(reason);
    this.controllers.clear();
  }

  get size(): number {
    return this.controllers.size;
  }
}
