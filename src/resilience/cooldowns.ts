/**
 * Per-key cooldowns: a rate-limited key rests until its Retry-After, a rejected key for a long
 * while. In memory for now; the StateStore of the resilience issue will hold it for teams.
 */
export const AUTH_COOLDOWN_MS = 10 * 60_000;
export const DEFAULT_RATE_LIMIT_COOLDOWN_MS = 5_000;

export class Cooldowns {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  cool(keyId: string, ms: number): void {
    const until = this.now() + ms;
    if ((this.until.get(keyId) ?? 0) < until) this.until.set(keyId, until);
  }

  /** Milliseconds until the key is usable again (0 when usable). */
  remaining(keyId: string): number {
    const until = this.until.get(keyId);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left <= 0) {
      this.until.delete(keyId);
      return 0;
    }
    return left;
  }

  clear(keyId: string): void {
    this.until.delete(keyId);
  }
}
