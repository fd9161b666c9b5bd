import type { TaskError } from './errors.ts';

/**
 * The task lifecycle. One transition function, `transitionTask`, is the only way a
 * task changes state; a move from the wrong state is refused with a TaskTransitionError.
 *
 *                 lease                        complete (any live lease)
 *    pending ───────────────▶ leased ─────────────────────────────────▶ done
 *       ▲  ▲                   │ │ ▲
 *       │  │ requeue           │ │ │ backup: one more lease, on another volunteer
 *       │  └───────────────────┤ │ └───┘
 *       │   fail / abandon     │ │
 *       └── (last lease,       │ └── fail / abandon (last lease, no attempts left) ──▶ failed
 *            attempts left) ───┘
 *
 *    renew: leased ──▶ leased, that lease with a later deadline
 *    fail / abandon of one lease while others remain: leased ──▶ leased, minus that lease
 *
 * A leased task holds one lease, or more while backup copies run (speculative
 * execution: the first valid answer wins). `fail` is job code that threw or timed out;
 * `abandon` is a lease lost without an answer (the tab closed or its deadline passed).
 * Each lease started counts as an attempt. `requeue` returns a task to pending at once,
 * with no backoff: its leases died with a coordinator that restarted.
 */

export type TaskKind = 'map' | 'reduce';

/** A volunteer's claim on a task. A result is accepted only with a live lease's token. */
export interface Lease {
  token: string;
  volunteerId: string;
  leasedAtMs: number;
  deadlineMs: number;
  /** True for a backup copy started while the first lease was still running. */
  backup: boolean;
}

export type TaskState =
  | { status: 'pending'; attemptsStarted: number; notBeforeMs: number; lastError?: TaskError }
  | { status: 'leased'; attemptsStarted: number; leases: Lease[]; lastError?: TaskError }
  | {
      status: 'done';
      attemptsStarted: number;
      volunteerId: string;
      finishedAtMs: number;
      durationMs: number;
      /** True when a backup copy's answer won. */
      byBackup: boolean;
    }
  | { status: 'failed'; attemptsStarted: number; error: TaskError };

export type TaskStatus = TaskState['status'];

export type TaskEvent =
  | { type: 'lease'; lease: Lease }
  | { type: 'backup'; lease: Lease }
  | { type: 'renew'; token: string; deadlineMs: number }
  | { type: 'complete'; token: string }
  | { type: 'fail'; token: string; error: TaskError }
  | { type: 'abandon'; token: string; reason: string }
  | { type: 'requeue' };

/** Limits that the transition needs: how many attempts a task gets, and the retry backoff. */
export interface TaskPolicy {
  maxAttempts: number;
  backoffMs: (attemptsStarted: number) => number;
}

export class TaskTransitionError extends Error {
  constructor(from: TaskStatus, event: TaskEvent['type'], why: string) {
    super(`cannot ${event} a ${from} task: ${why}`);
    this.name = 'TaskTransitionError';
  }
}

/** Exponential backoff before a retry: 250 ms after the first attempt, doubling, at most 8 s. */
export function defaultBackoffMs(attemptsStarted: number): number {
  return attemptsStarted <= 0 ? 0 : Math.min(8000, 250 * 2 ** (attemptsStarted - 1));
}

export const initialTaskState = (): TaskState => ({ status: 'pending', attemptsStarted: 0, notBeforeMs: 0 });

/** The live lease with this token, if the task has one. */
export function findLease(state: TaskState, token: string): Lease | undefined {
  return state.status === 'leased' ? state.leases.find((lease) => lease.token === token) : undefined;
}

/** The next state of a task, or a TaskTransitionError when the event does not apply. */
export function transitionTask(
  state: TaskState,
  event: TaskEvent,
  nowMs: number,
  policy: TaskPolicy,
): TaskState | TaskTransitionError {
  const refuse = (why: string) => new TaskTransitionError(state.status, event.type, why);
  const lastError = state.status === 'pending' || state.status === 'leased' ? state.lastError : undefined;
  const keepError = lastError ? { lastError } : {};
  switch (event.type) {
    case 'lease':
      if (state.status !== 'pending') return refuse('only a pending task can be leased');
      if (nowMs < state.notBeforeMs) return refuse('the task is backing off');
      return { status: 'leased', attemptsStarted: state.attemptsStarted + 1, leases: [event.lease], ...keepError };
    case 'backup':
      if (state.status !== 'leased') return refuse('only a running task can get a backup copy');
      if (state.leases.some((lease) => lease.volunteerId === event.lease.volunteerId)) {
        return refuse('a backup must run on another volunteer');
      }
      return { ...state, attemptsStarted: state.attemptsStarted + 1, leases: [...state.leases, event.lease] };
    case 'renew': {
      const lease = findLease(state, event.token);
      if (state.status !== 'leased' || !lease) return refuse('no live lease has this token');
      if (nowMs > lease.deadlineMs) return refuse('the lease has expired');
      return {
        ...state,
        leases: state.leases.map((other) => (other === lease ? { ...lease, deadlineMs: event.deadlineMs } : other)),
      };
    }
    case 'complete': {
      const lease = findLease(state, event.token);
      if (state.status !== 'leased' || !lease) return refuse('no live lease has this token');
      if (nowMs > lease.deadlineMs) return refuse('the lease has expired');
      return {
        status: 'done',
        attemptsStarted: state.attemptsStarted,
        volunteerId: lease.volunteerId,
        finishedAtMs: nowMs,
        durationMs: nowMs - lease.leasedAtMs,
        byBackup: lease.backup,
      };
    }
    case 'fail':
    case 'abandon': {
      const lease = findLease(state, event.token);
      if (state.status !== 'leased' || !lease) return refuse('no live lease has this token');
      const error: TaskError = event.type === 'fail' ? event.error : { name: 'LeaseLost', message: event.reason };
      const remaining = state.leases.filter((other) => other !== lease);
      if (remaining.length > 0) return { ...state, leases: remaining, lastError: error };
      if (state.attemptsStarted >= policy.maxAttempts) {
        return { status: 'failed', attemptsStarted: state.attemptsStarted, error };
      }
      return {
        status: 'pending',
        attemptsStarted: state.attemptsStarted,
        notBeforeMs: nowMs + policy.backoffMs(state.attemptsStarted),
        lastError: error,
      };
    }
    case 'requeue':
      if (state.status !== 'leased') return refuse('only a leased task can be requeued');
      return { status: 'pending', attemptsStarted: state.attemptsStarted, notBeforeMs: 0, ...keepError };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
