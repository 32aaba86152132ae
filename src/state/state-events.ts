/**
 * The transitions gateway instances share (design.md §1 "State behind an interface"): a key
 * rests or is restored, a (target, key) slot cools down, a breaker opens or closes, a session
 * binds or is released. Identifiers only — key ids (`provider#n`), slot ids
 * (`provider/model#n`), session ids — never a secret. Times are absolute epoch ms, so the
 * instances' clocks must agree (NTP); 0 means "ended early".
 */
import { z } from "zod";

const epochMs = z.number().int().nonnegative();
const id = z.string().min(1).max(512);

const eventSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("key"), key: id, until: epochMs }),
  z.object({ kind: z.literal("cooldown"), slot: id, until: epochMs }),
  z.object({ kind: z.literal("breaker"), slot: id, state: z.enum(["open", "closed"]), reopensAt: epochMs }),
  z.object({ kind: z.literal("bind"), session: id, slot: id, until: epochMs }),
  z.object({ kind: z.literal("release"), session: id }),
]);

export type StateEvent = z.infer<typeof eventSchema>;

/** One pub/sub message: the sender (to skip our own) and its events, in order. */
export interface StateMessage {
  from: string;
  events: StateEvent[];
}

const messageSchema = z.object({ from: z.string(), events: z.array(z.unknown()).max(10_000) });

/** Longest session id shared; longer ones stay local (they would only bloat the Redis keys). */
export const MAX_SHARED_SESSION = 256;

/**
 * Parse a pub/sub message leniently: events this version does not know (a newer instance) are
 * counted in `skipped` instead of failing the others. `undefined` when it is not a message at all.
 */
export function parseMessage(text: string): { message: StateMessage; skipped: number } | undefined {
  const parsed = messageSchema.safeParse(parseJson(text));
  if (!parsed.success) return undefined;
  const events: StateEvent[] = [];
  for (const raw of parsed.data.events) {
    const event = eventSchema.safeParse(raw);
    if (event.success) events.push(event.data);
  }
  return {
    message: { from: parsed.data.from, events },
    skipped: parsed.data.events.length - events.length,
  };
}

/** One stored event (the value of a state key in Redis); `undefined` when unreadable. */
export function parseEvent(text: string): StateEvent | undefined {
  const parsed = eventSchema.safeParse(parseJson(text));
  return parsed.success ? parsed.data : undefined;
}

/** The Redis key holding the current value of what `event` is about (one per key, slot, session). */
export function storageKey(prefix: string, event: StateEvent): string {
  switch (event.kind) {
    case "key":
      return `${prefix}:state:key:${event.key}`;
    case "cooldown":
      return `${prefix}:state:cooldown:${event.slot}`;
    case "breaker":
      return `${prefix}:state:breaker:${event.slot}`;
    case "bind":
    case "release":
      return `${prefix}:state:session:${event.session}`;
    default: {
      const never: never = event;
      throw new Error(`unknown state event ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Until when the event's state holds (its Redis entry expires then); 0 when it ends a state,
 * which deletes the entry instead.
 */
export function holdsUntil(event: StateEvent): number {
  switch (event.kind) {
    case "key":
    case "cooldown":
    case "bind":
      return event.until;
    case "breaker":
      return event.state === "open" ? event.reopensAt : 0;
    case "release":
      return 0;
    default: {
      const never: never = event;
      throw new Error(`unknown state event ${JSON.stringify(never)}`);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the caller treats it like any other unreadable message.
    return undefined;
  }
}
