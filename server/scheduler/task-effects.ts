/**
 * What a task's state change means for the scheduler's indexes and for the volunteers,
 * derived from the change alone: the event, the state before and the state after. The
 * scheduler applies every task transition through this one function (scheduler.ts,
 * `applyTaskChange`), so the lease table, the queue of leasable tasks, the wake-ups
 * and the revocations follow from the task's state instead of being kept in step by
 * hand at each call site.
 *
 *   leases    started: in `after`, not in `before`  ─▶ added to the lease table
 *             ended:   in `before`, not in `after`  ─▶ removed; recorded as a past
 *                      attempt; revoked from their volunteer unless the event was theirs
 *   queue     `after` may take another copy         ─▶ queued, at the front or the back
 *   wake      a copy may run now                    ─▶ a waiting volunteer is told
 *   settled   `after` is done or failed             ─▶ counted, or the job fails
 */
import type { PastAttempt } from '../../shared/job.ts';
import { wantsCopy, type Lease, type TaskEvent, type TaskPolicy, type TaskState } from '../../shared/task.ts';

/** A lease that the change ended, and what became of its attempt. */
export interface EndedLease {
  lease: Lease;
  /** How the attempt ended, for the task's history; absent for the answer that was taken (or counted as a vote). */
  outcome?: PastAttempt['outcome'];
  /** Its volunteer must be told to stop: the lease ended for a reason other than its own event. */
  revoke: boolean;
}

export interface TaskEffects {
  started: Lease[];
  ended: EndedLease[];
  /** Queue the task for its next copy: `front` to run soon, `back` to wait its turn. */
  enqueue?: 'front' | 'back';
  /** Wake a waiting volunteer for it: `any` for a pending task, `copy` for one that may run another copy (of a vote). */
  wake?: 'any' | 'copy';
  /** The task reached an end: `done` (its answer is accepted) or `failed` (no attempts left, or no quorum). */
  settled?: 'done' | 'failed';
  /** The change started an attempt again after a failure or a lost lease (not a backup copy). */
  retried: boolean;
}

const OUTCOME_OF_OWN_EVENT: Partial<Record<TaskEvent['type'], PastAttempt['outcome']>> = {
  fail: 'failed',
  abandon: 'lost',
  return: 'returned',
};

function leasesOf(state: TaskState): readonly Lease[] {
  return state.status === 'leased' ? state.leases : [];
}

/** The effects of `event` taking a task from `before` to `after` at `nowMs`. Pure. */
export function deriveTaskEffects(event: TaskEvent, before: TaskState, after: TaskState, nowMs: number, policy: Pick<TaskPolicy, 'maxAttempts' | 'replication'>): TaskEffects {
  const beforeLeases = leasesOf(before);
  const afterTokens = new Set(leasesOf(after).map((lease) => lease.token));
  const beforeTokens = new Set(beforeLeases.map((lease) => lease.token));
  const started = leasesOf(after).filter((lease) => !beforeTokens.has(lease.token));
  const ownToken = 'token' in event ? event.token : undefined;
  const ended = beforeLeases
    .filter((lease) => !afterTokens.has(lease.token))
    .map((lease): EndedLease => {
      if (lease.token === ownToken) {
        const outcome = OUTCOME_OF_OWN_EVENT[event.type];
        return { lease, ...(outcome ? { outcome } : {}), revoke: false };
      }
      // Another copy's lease ended with this change: the task has its answer (or its
      // verdict), or the coordinator restarted (`requeue`: no volunteer holds it anymore).
      return event.type === 'requeue' ? { lease, revoke: false } : { lease, outcome: 'superseded', revoke: true };
    });

  const effects: TaskEffects = {
    started,
    ended,
    retried: event.type === 'lease' && after.attemptsStarted > 1,
  };
  if (after.status === 'done' || after.status === 'failed') {
    effects.settled = after.status;
    return effects;
  }
  const wanted = wantsCopy(after, nowMs, policy);
  switch (event.type) {
    case 'lease':
      // A replicated task runs on several volunteers: its next copy joins the back of the
      // queue, so it goes to whoever asks when it comes round, not to the next asker. A
      // cheat holding two connections, asking from both in turn, would get both copies.
      if (wanted) Object.assign(effects, { enqueue: 'back', wake: 'copy' });
      break;
    case 'fail':
    case 'abandon':
      if (after.status === 'pending') {
        // A retry waits its turn, and out its backoff: the sweep wakes volunteers once it may run.
        effects.enqueue = 'back';
        if (after.notBeforeMs <= nowMs) effects.wake = 'any';
      } else if (wanted) {
        // One copy of a replicated task was lost while others run: it needs a replacement
        // soon, if an attempt is left for one; if not, the running copies decide.
        Object.assign(effects, { enqueue: 'front', wake: 'copy' });
      }
      break;
    case 'complete':
      // A vote that decided nothing: the task waits for a volunteer that has not answered it.
      if (after.status === 'pending' || wanted) Object.assign(effects, { enqueue: 'front', wake: 'copy' });
      break;
    case 'return':
      // Handed back unstarted: it costs nothing and goes first, to anyone but the one that
      // gave it back (the caller wakes others once for the whole batch).
      if (after.status === 'pending' || wanted) effects.enqueue = 'front';
      break;
    case 'requeue':
      effects.enqueue = 'back';
      break;
    case 'backup':
    case 'renew':
      break;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
  return effects;
}
