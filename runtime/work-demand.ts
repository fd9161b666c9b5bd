/**
 * How much work a volunteer wants: given its slots and the tasks it holds, how many
 * tasks to ask the coordinator for now. Pure, and blind to the connection: the client
 * asks only while welcomed (runtime/volunteer-lifecycle.ts) and feeds the answer back.
 *
 *   room = capacity − held − asked for   (0 while paused; at most LIMITS.tasksPerMessage)
 *
 *   capacity, share 1:      2 × slots × batch   (a batch running and one waiting per
 *                                        slot: a worker that finishes finds its next
 *                                        input already here instead of waiting a round
 *                                        trip for it)
 *   batch:                  1 until a task's time is known, then as many tasks as
 *                           BATCH_MS of work, 1 to MAX_BATCH: a message costs more than a
 *                           tiny task, and a batch of them costs one message each way
 *   capacity, share < 1:    slots − resting   (holds only what it runs)
 *
 * A slot that ran a task for t ms under share s rests t·(1 − s)/s ms before counting
 * again: the duty cycle. Several requests may be out at once (a `task:request`, the
 * `next` riding on each result), never for more tasks than there is room for.
 *
 * Every event applies to any demand, so nothing is refused; an event that changes
 * nothing (pausing for a reason that already holds) returns the same object, which is
 * how the caller tells a no-op.
 */
import { LIMITS } from '../shared/limits.ts';

/** Everything that decides how much work to ask for, besides the slots and the tasks held. */
export interface WorkDemand {
  /** Why work is paused (paused by hand, tab hidden, on battery), in the order given; empty: it works. */
  pausedBecause: readonly string[];
  /** Share of each worker's time given, 0.05 ≤ share ≤ 1 (the duty cycle); 1 gives all of it. */
  share: number;
  /** Slots resting after a task, under a share below 1. */
  restingSlots: number;
  /** Tasks asked for on the current connection and not answered yet. */
  tasksAskedFor: number;
  /** `work:available` hints received, counted so that a hint arriving during a request is not lost. */
  workHints: number;
}

export type DemandEvent =
  | { type: 'pause'; reason: string }
  | { type: 'resume'; reason: string }
  /** Any number: clamped to 0.05..1, and 1 when not finite. */
  | { type: 'set-share'; share: number }
  /** A request for `tasks` went out (a `task:request`, or a result's `next`). */
  | { type: 'asked'; tasks: number }
  /** The answer to a request for `tasks` came, or never will on this connection. */
  | { type: 'answered'; tasks: number }
  | { type: 'work-hint' }
  | { type: 'rest-started' }
  | { type: 'rest-ended' }
  /** The connection dropped: requests out on it will never be answered. */
  | { type: 'connection-lost' };

/**
 * Work a slot takes per batch, in ms of its tasks' time: enough to make the messages
 * around it cheap beside it, little enough that a volunteer never sits on much work
 * others could be doing at the end of a job.
 */
export const BATCH_MS = 50;
/** Most tasks in one slot's batch (the worker pool's own limit per call). */
export const MAX_BATCH = 1024;

/** Lowest share a volunteer may give: there, a slot rests 19 times as long as it works. */
export const MIN_SHARE = 0.05;

export const initialWorkDemand = (): WorkDemand => ({ pausedBecause: [], share: 1, restingSlots: 0, tasksAskedFor: 0, workHints: 0 });

/** Tasks a slot runs per batch, given a task's recent time on a worker (undefined: not known yet). */
export function batchSize(taskMs: number | undefined): number {
  if (taskMs === undefined || !Number.isFinite(taskMs)) return 1;
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_MS / Math.max(taskMs, 1e-3))));
}

/** Tasks held at most: running or waiting for a slot. */
export function capacity(demand: WorkDemand, slots: number, taskMs?: number): number {
  if (demand.share < 1) return Math.max(0, slots - demand.restingSlots);
  return Math.min(slots * 2 * batchSize(taskMs), LIMITS.tasksPerMessage);
}

/** How many tasks to ask for now, holding `held`: 0 while paused or without room. */
export function tasksToAskFor(demand: WorkDemand, slots: number, held: number, taskMs?: number): number {
  if (demand.pausedBecause.length > 0) return 0;
  return Math.max(0, Math.min(capacity(demand, slots, taskMs) - held - demand.tasksAskedFor, LIMITS.tasksPerMessage));
}

/**
 * Whether a task that just arrived may stay, holding `held`. It was asked for before a
 * pause or a lower share, maybe (a result's `next` is often in flight): what no longer
 * fits goes straight back.
 */
export function mayHoldAnother(demand: WorkDemand, slots: number, held: number, taskMs?: number): boolean {
  if (demand.pausedBecause.length > 0) return false;
  // At full share, room for twice the batch it asked by: a task's measured time moves
  // between asking and answering, and giving back what was just leased costs both sides
  // a round trip and the coordinator a write per task (measured: a tenth of its store time).
  if (demand.share >= 1) return held < Math.min(2 * capacity(demand, slots, taskMs), LIMITS.tasksPerMessage);
  return held < capacity(demand, slots, taskMs);
}

/**
 * Whether to ask again after an answer that brought `tasksReceived`: it got work, or new
 * work was announced while asking (`workHintsBefore` is the count when the request went
 * out). An empty answer ends the loop until the next hint, freed slot or safety poll.
 */
export function askAgainAfterAnswer(demand: WorkDemand, workHintsBefore: number, tasksReceived: number): boolean {
  return tasksReceived > 0 || demand.workHints !== workHintsBefore;
}

/** How long a slot rests after running a task for `ranMs`, in ms; undefined at full share (it does not rest). */
export function restMs(demand: WorkDemand, ranMs: number): number | undefined {
  if (demand.share >= 1) return undefined;
  return (ranMs * (1 - demand.share)) / demand.share;
}

/** The share a requested value gives: clamped to MIN_SHARE..1, and 1 when not finite. */
export function clampShare(share: number): number {
  return Number.isFinite(share) ? Math.min(1, Math.max(MIN_SHARE, share)) : 1;
}

/** The next demand; the same object when the event changes nothing. */
export function transitionDemand(demand: WorkDemand, event: DemandEvent): WorkDemand {
  switch (event.type) {
    case 'pause':
      if (demand.pausedBecause.includes(event.reason)) return demand;
      return { ...demand, pausedBecause: [...demand.pausedBecause, event.reason] };
    case 'resume':
      if (!demand.pausedBecause.includes(event.reason)) return demand;
      return { ...demand, pausedBecause: demand.pausedBecause.filter((reason) => reason !== event.reason) };
    case 'set-share': {
      const share = clampShare(event.share);
      return share === demand.share ? demand : { ...demand, share };
    }
    case 'asked':
      return event.tasks === 0 ? demand : { ...demand, tasksAskedFor: demand.tasksAskedFor + event.tasks };
    case 'answered':
      return event.tasks === 0 ? demand : { ...demand, tasksAskedFor: Math.max(0, demand.tasksAskedFor - event.tasks) };
    case 'work-hint':
      return { ...demand, workHints: demand.workHints + 1 };
    case 'rest-started':
      return { ...demand, restingSlots: demand.restingSlots + 1 };
    case 'rest-ended':
      return { ...demand, restingSlots: Math.max(0, demand.restingSlots - 1) };
    case 'connection-lost':
      return demand.tasksAskedFor === 0 ? demand : { ...demand, tasksAskedFor: 0 };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
