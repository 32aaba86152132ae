/**
 * Between the local ResilienceState and the shared events: apply another instance's event
 * (through the state's `apply*` methods, which never publish again), and describe what this
 * instance currently holds (pushed after a reconnect, so a Redis that lost its data, or that
 * missed transitions while it was away, learns them again).
 */
import type { ResilienceState } from "../resilience/slots.js";
import { MAX_SHARED_SESSION, type StateEvent } from "./state-events.js";

/** Apply one event from another instance to the local state. */
export function applyEvent(state: ResilienceState, event: StateEvent): void {
  switch (event.kind) {
    case "key":
      state.applyKeyDisabled(event.key, event.until);
      return;
    case "cooldown":
      state.applyCooldown(event.slot, event.until);
      return;
    case "breaker":
      state.applyBreaker(event.slot, event.state, event.reopensAt);
      return;
    case "bind":
      state.applyBind(event.session, event.slot, event.until);
      return;
    case "release":
      state.applyRelease(event.session);
      return;
    default: {
      const never: never = event;
      throw new Error(`unknown state event ${JSON.stringify(never)}`);
    }
  }
}

/** Everything this instance holds now that others should know: rests, open breakers, bindings. */
export function localEvents(state: ResilienceState): StateEvent[] {
  const now = state.now();
  const events: StateEvent[] = [];
  for (const [key, until] of state.disabledKeys) if (until > now) events.push({ kind: "key", key, until });
  for (const [slot, health] of state.slots) {
    if (health.cooldownUntil > now) events.push({ kind: "cooldown", slot, until: health.cooldownUntil });
    const reopensAt = health.breaker.reopensAt;
    if (reopensAt > now) events.push({ kind: "breaker", slot, state: "open", reopensAt });
  }
  for (const [session, slot, until] of state.affinity.entries())
    if (session.length <= MAX_SHARED_SESSION) events.push({ kind: "bind", session, slot, until });
  return events;
}
