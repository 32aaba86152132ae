/**
 * Session affinity (issue: resilience §6): a Claude Code session keeps landing on the (target,
 * key) that served it — its prompt cache stays warm — while that slot is healthy. The binding
 * has a TTL renewed on use, is dropped the moment its slot fails, and new sessions go to the
 * slot with the fewest bindings so no key is starved or flooded.
 */
import type { IncomingHttpHeaders } from "node:http";

interface Binding {
  slot: string;
  expiresAt: number;
}

export class AffinityTable {
  private readonly bindings = new Map<string, Binding>();
  private readonly perSlot = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.bindings.size;
  }

  /** The slot this session is bound to, renewing the binding. */
  lookup(session: string): string | undefined {
    const b = this.bindings.get(session);
    if (b === undefined) return undefined;
    if (b.expiresAt <= this.now()) {
      this.unbind(session, b);
      return undefined;
    }
    b.expiresAt = this.now() + this.ttlMs;
    return b.slot;
  }

  /**
   * Bind (or renew) a session. `expiresAt` (epoch ms) caps the binding's life — for a binding
   * learnt from another instance. Returns whether the session is newly bound or moved slot.
   */
  bind(session: string, slot: string, expiresAt?: number): boolean {
    const until = Math.min(this.now() + this.ttlMs, expiresAt ?? Number.POSITIVE_INFINITY);
    const old = this.bindings.get(session);
    if (old?.slot === slot) {
      old.expiresAt = until;
      return false;
    }
    if (old !== undefined) this.unbind(session, old);
    if (this.bindings.size >= this.maxSessions) this.evictOldest();
    this.bindings.set(session, { slot, expiresAt: until });
    this.perSlot.set(slot, (this.perSlot.get(slot) ?? 0) + 1);
    return true;
  }

  /** Live bindings as `[session, slot, expiresAt]` (to mirror them to other instances). */
  *entries(): IterableIterator<[string, string, number]> {
    const now = this.now();
    for (const [session, b] of this.bindings) if (b.expiresAt > now) yield [session, b.slot, b.expiresAt];
  }

  /** Drop a session's binding; returns whether there was one. */
  release(session: string): boolean {
    const b = this.bindings.get(session);
    if (b === undefined) return false;
    this.unbind(session, b);
    return true;
  }

  /** Sessions bound to a slot (for spreading new sessions and for `/status`). */
  load(slot: string): number {
    return this.perSlot.get(slot) ?? 0;
  }

  private unbind(session: string, b: Binding): void {
    this.bindings.delete(session);
    const n = (this.perSlot.get(b.slot) ?? 1) - 1;
    if (n <= 0) this.perSlot.delete(b.slot);
    else this.perSlot.set(b.slot, n);
  }

  private evictOldest(): void {
    // Map iteration order is insertion order: the first entry is the oldest binding.
    const first = this.bindings.entries().next();
    if (!first.done) this.unbind(first.value[0], first.value[1]);
  }
}

/**
 * The session key: `x-claude-code-session-id`, else the session in `metadata.user_id` (JSON form
 * of Claude Code ≥ 2.1.78, or the older `user_…_session_<uuid>` form), else none (protocol.md E.4).
 */
export function sessionKey(
  headers: IncomingHttpHeaders | undefined,
  userId: string | null | undefined,
): string | undefined {
  const header = headers?.["x-claude-code-session-id"];
  if (typeof header === "string" && header !== "") return header;
  if (typeof userId !== "string" || userId === "") return undefined;
  if (userId.startsWith("{")) {
    try {
      const parsed = JSON.parse(userId) as { session_id?: unknown };
      if (typeof parsed.session_id === "string" && parsed.session_id !== "") return parsed.session_id;
    } catch {
      return undefined;
    }
    return undefined;
  }
  const m = /_session_([0-9a-fA-F-]{8,})$/.exec(userId);
  return m?.[1];
}
