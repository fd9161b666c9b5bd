import type { TaskError } from './errors.ts';

/**
 * The task lifecycle. One transition function, `transitionTask`, is the only way a
 * task changes state; a move from the wrong state is refused with a TaskTransitionError.
 *
 *                 lease                       complete
 *    pending ───────────────▶ leased ───────────────────▶ done
 *       ▲                       │ │
 *       │   fail / abandon      │ │  fail / abandon
 *       └── (attempts left) ────┘ └── (no attempts left) ──▶ failed
 *
 *    renew: leased ──▶ leased with a later deadline
 *
 * `fail` is job code that threw or timed out; `abandon` is a lease lost without an
 * answer (the tab closed or the deadline passed). Both consume the attempt that the
 * lease started. A retried task waits `backoffMs(attempts)` before it may be leased.
 */

export type TaskKind = 'map' | 'reduce';

/** A volunteer's claim on a task. A result is accepted only with the live lease's token. */
export interface Lease {
  token: string;
  volunteerId: string;
  leasedAtMs: number;
  deadlineMs: number;
}

export type TaskState =
  | { status: 'pending'; attemptsStarted: number; notBeforeMs: number; lastError?: TaskError }
  | { status: 'leased'; attemptsStarted: number; lease: Lease; lastError?: TaskError }
  | { status: 'done'; attemptsStarted: number; volunteerId: string; finishedAtMs: number; durationMs: number }
  | { status: 'failed'; attemptsStarted: number; error: TaskError };

export type TaskStatus = TaskState['status'];

export type TaskEvent =
  | { type: 'lease'; lease: Lease }
  | { type: 'renew'; token: string; deadlineMs: number }
  | { type: 'complete'; token: string }
  | { type: 'fail'; token: string; error: TaskError }
  | { type: 'abandon'; token: string; reason: string };

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

/** Exponential backoff: 0 before the first retry's predecessor, then 250 ms doubling up to 8 s. */
export function defaultBackoffMs(attemptsStarted: number): number {
  return attemptsStarted <= 0 ? 0 : Math.min(8000, 250 * 2 ** (attemptsStarted - 1));
}

export const initialTaskState = (): TaskState => ({ status: 'pending', attemptsStarted: 0, notBeforeMs: 0 });

/** The next state of a task, or a TaskTransitionError when the event does not apply. */
export function transitionTask(
  state: TaskState,
  event: TaskEvent,
  nowMs: number,
  policy: TaskPolicy,
): TaskState | TaskTransitionError {
  const refuse = (why: string) => new TaskTransitionError(state.status, event.type, why);
  switch (event.type) {
    case 'lease':
      if (state.status !== 'pending') return refuse('only a pending task can be leased');
      if (nowMs < state.notBeforeMs) return refuse('the task is backing off');
      return {
        status: 'leased',
        attemptsStarted: state.attemptsStarted + 1,
        lease: event.lease,
        ...(state.lastError ? { lastError: state.lastError } : {}),
      };
    case 'renew':
      if (state.status !== 'leased') return refuse('only a leased task can be renewed');
      if (state.lease.token !== event.token) return refuse('the lease token does not match');
      if (nowMs > state.lease.deadlineMs) return refuse('the lease has expired');
      return { ...state, lease: { ...state.lease, deadlineMs: event.deadlineMs } };
    case 'complete':
      if (state.status !== 'leased') return refuse('only a leased task can complete');
      if (state.lease.token !== event.token) return refuse('the lease token does not match');
      if (nowMs > state.lease.deadlineMs) return refuse('the lease has expired');
      return {
        status: 'done',
        attemptsStarted: state.attemptsStarted,
        volunteerId: state.lease.volunteerId,
        finishedAtMs: nowMs,
        durationMs: nowMs - state.lease.leasedAtMs,
      };
    case 'fail':
    case 'abandon': {
      if (state.status !== 'leased') return refuse('only a leased task can fail or be abandoned');
      if (state.lease.token !== event.token) return refuse('the lease token does not match');
      const error: TaskError =
        event.type === 'fail' ? event.error : { name: 'LeaseLost', message: event.reason };
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
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
