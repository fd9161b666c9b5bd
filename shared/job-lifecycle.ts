import type { TaskError } from './errors.ts';

/**
 * The job lifecycle as stored. `transitionJob` is the only way a job changes state.
 *
 *              start                 succeed (every reduce task done)
 *    queued ─────────▶ running ────────────────────────────────────▶ succeeded
 *      │                  │
 *      ├──────────────────┴── fail (a task ran out of attempts) ──▶ failed
 *      └──────────────────┴── cancel ─────────────────────────────▶ cancelled
 *
 * `start` happens when the first map task is leased. succeeded, failed and cancelled
 * are terminal: every event on them is refused.
 *
 * A running job's phase is not stored: it is derived from its task counts (`jobStatus`),
 * so it can never disagree with them. A job is `mapping` while some map task is not
 * done and `reducing` once all are: a crash between the last map task's answer and
 * a phase change cannot leave the two out of step, because there is no phase change.
 */
export type JobState =
  | { status: 'queued' }
  | { status: 'running'; startedAtMs: number }
  | { status: 'succeeded'; startedAtMs: number; finishedAtMs: number }
  | { status: 'failed'; finishedAtMs: number; error: JobFailure }
  | { status: 'cancelled'; finishedAtMs: number };

/** A job's status as the API reports it (contract: `GET /api/jobs/:id`): the stored state, with a running job's phase. */
export type JobStatus = 'queued' | 'mapping' | 'reducing' | 'succeeded' | 'failed' | 'cancelled';

/** Why a job failed: which task, and the last error of its last attempt. */
export interface JobFailure extends TaskError {
  taskId?: string;
}

export type JobEvent = { type: 'start' } | { type: 'succeed' } | { type: 'fail'; error: JobFailure } | { type: 'cancel' };

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
export const isTerminal = (state: JobState): boolean => state.status !== 'queued' && state.status !== 'running';

export class JobTransitionError extends Error {
  constructor(from: JobState['status'], event: JobEvent['type']) {
    super(`cannot ${event} a ${from} job`);
    this.name = 'JobTransitionError';
  }
}

/** The next state of a job, or a JobTransitionError when the event does not apply. */
export function transitionJob(state: JobState, event: JobEvent, nowMs: number): JobState | JobTransitionError {
  const refuse = () => new JobTransitionError(state.status, event.type);
  if (isTerminal(state)) return refuse();
  switch (event.type) {
    case 'start':
      return state.status === 'queued' ? { status: 'running', startedAtMs: nowMs } : refuse();
    case 'succeed':
      return state.status === 'running' ? { status: 'succeeded', startedAtMs: state.startedAtMs, finishedAtMs: nowMs } : refuse();
    case 'fail':
      return { status: 'failed', finishedAtMs: nowMs, error: event.error };
    case 'cancel':
      return { status: 'cancelled', finishedAtMs: nowMs };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** The reported status: a running job is mapping until its last map task is done, then reducing. */
export function jobStatus(state: JobState, mapsDone: number, mapTasks: number): JobStatus {
  if (state.status !== 'running') return state.status;
  return mapsDone < mapTasks ? 'mapping' : 'reducing';
}

/**
 * A job state as found in a store written by an earlier version, which stored the phase
 * (`mapping`, `reducing`, with a `mapsDoneAtMs`): read as `running`, the phase being
 * derived now. Any other state is returned as it is.
 */
export function upgradeJobState(stored: JobState | LegacyRunningState): JobState {
  if ('startedAtMs' in stored && (stored.status === 'mapping' || stored.status === 'reducing')) return { status: 'running', startedAtMs: stored.startedAtMs };
  return stored as JobState;
}

type LegacyRunningState = { status: 'mapping'; startedAtMs: number } | { status: 'reducing'; startedAtMs: number; mapsDoneAtMs: number };
