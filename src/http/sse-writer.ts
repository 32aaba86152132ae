/**
 * Batches SSE frames into one socket write per event-loop turn. One upstream read often holds
 * many chunks, each becoming an event; writing them one by one cost a writev per event in the
 * gateway's CPU profile. Frames queue in a string and are flushed on `setImmediate` (after the
 * microtasks that produced them); when the socket pushes back, `push` returns a promise that
 * settles on `drain` (or rejects when the client goes away).
 */
import type { ServerResponse } from "node:http";

export class SseWriter {
  private pending = "";
  private scheduled = false;
  private draining: Promise<void> | undefined;

  constructor(private readonly raw: ServerResponse) {}

  /** Queue a frame; await the result only when it is a promise (backpressure). */
  push(frame: string): Promise<void> | undefined {
    if (this.raw.destroyed) return Promise.reject(new Error("client disconnected"));
    this.pending += frame;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return this.draining;
  }

  /** Write what is queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending === "" || this.raw.destroyed) return;
    const ok = this.raw.write(this.pending);
    this.pending = "";
    if (!ok && this.draining === undefined) {
      this.draining = new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.raw.off("close", onClose);
          this.draining = undefined;
          resolve();
        };
        const onClose = () => {
          this.raw.off("drain", onDrain);
          reject(new Error("client disconnected"));
        };
        this.raw.once("drain", onDrain);
        this.raw.once("close", onClose);
      });
      // The producer may not be waiting right now; a later push returns this promise.
      this.draining.catch(() => {});
    }
  }

  /** End the response; what is still queued goes out with the end, in one write. */
  end(): void {
    const rest = this.pending;
    this.pending = "";
    if (rest === "" || this.raw.destroyed) this.raw.end();
    else this.raw.end(rest);
  }
}
