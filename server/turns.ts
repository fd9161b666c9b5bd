/**
 * Long work that must not block the event loop: a submission of 250,000 map tasks is
 * planned, indexed and stored in small steps, and the coordinator serves volunteers and
 * readers between them. The work is written once, as a generator that yields after each
 * small step (well under a millisecond to a few ms); the caller picks how to drive it:
 * `runNow` in one go (tests, small jobs), `runInTurns` a slice of the event loop at a time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Work done in steps: yields between them, and returns its result at the end. */
export type Steps<T> = Generator<void, T, void>;

/**
 * How long one turn of stepped work may run before it lets the event loop go round, in
 * ms. Well below the 50 ms a submission may block at most, leaving room for a step that
 * runs long, a group commit and whatever else the turn does.
 */
export const TURN_MS = 10;

/** Runs the steps to their end without yielding the event loop. */
export function runNow<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * Runs the steps across event-loop turns, about `turnMs` of them per turn, and resolves
 * with their result (rejects with what they throw). Between turns it waits for
 * setImmediate, so timers (the store's group commit) and I/O (requests, volunteers) run.
 */
export async function runInTurns<T>(steps: Steps<T>, turnMs = TURN_MS): Promise<T> {
  let turnStartedMs = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - turnStartedMs >= turnMs) {
      await nextTurn();
      turnStartedMs = performance.now();
    }
  }
}
