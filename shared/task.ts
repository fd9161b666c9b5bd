import { taskFailure, type TaskError } from './errors.ts';
import { copiesWanted, verdict, type Vote } from './quorum.ts';

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
 * `abandon` is a lease lost without an answer (the tab closed or its deadline passed);
 * `return` is a copy handed back unstarted, which costs no attempt and no backoff.
 * Each lease started counts as an attempt. `requeue` returns a task to pending at once,
 * with no backoff: its leases died with a coordinator that restarted.
 *
 * Replication (shared/quorum.ts): with `policy.replication` q > 1, `complete` is a vote.
 * The task is done when the votes accept a digest; until then the answer's lease ends,
 * the task stays leased (other copies run) or returns to pending, and `lease` may add
 * copies to a leased task while the votes want more. Every copy of a task runs on a
 * volunteer that holds no other copy and has not voted on it. Past the answers cap
 * without a verdict, the task fails.
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
  | { status: 'pending'; attemptsStarted: number; notBeforeMs: number; lastError?: TaskError; votes?: Vote[] }
  | { status: 'leased'; attemptsStarted: number; leases: Lease[]; lastError?: TaskError; votes?: Vote[] }
  | {
      status: 'done';
      attemptsStarted: number;
      volunteerId: string;
      finishedAtMs: number;
      durationMs: number;
      /** True when a backup copy's answer won. */
      byBackup: boolean;
      /** Every answer, when the task was replicated; the accepted digest is `digest`. */
      votes?: Vote[];
      digest?: string;
    }
  | { status: 'failed'; attemptsStarted: number; error: TaskError; votes?: Vote[] };

export type TaskStatus = TaskState['status'];

export type TaskEvent =
  | { type: 'lease'; lease: Lease }
  | { type: 'backup'; lease: Lease }
  | { type: 'renew'; token: string; deadlineMs: number }
  | { type: 'complete'; token: string; digest: string }
  | { type: 'fail'; token: string; error: TaskError }
  | { type: 'abandon'; token: string; reason: string }
  /** The volunteer gives back a copy it never started (it paused, or took on less): no attempt is spent. */
  | { type: 'return'; token: string }
  | { type: 'requeue' };

/** Limits that the transition needs: attempts, retry backoff, and the vote. */
export interface TaskPolicy {
  maxAttempts: number;
  backoffMs: (attemptsStarted: number) => number;
  /** Distinct volunteers whose answers must agree (1: the first answer wins). */
  replication: number;
  /** Answers after which a replicated task without a verdict fails. */
  maxAnswers: number;
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

/** Whether this volunteer holds a lease on the task or has voted on it: a copy must run elsewhere. */
function hasCopyOrVote(state: TaskState, volunteerId: string): boolean {
  if (state.status === 'leased' && state.leases.some((lease) => lease.volunteerId === volunteerId)) return true;
  return state.status !== 'done' && (state.votes ?? []).some((vote) => vote.volunteerId === volunteerId);
}

/** Whether a task may take one more copy now: pending and out of backoff, or leased and short of copies for its vote. */
export function wantsCopy(state: TaskState, nowMs: number, policy: Pick<TaskPolicy, 'replication'>): boolean {
  if (state.status === 'pending') return nowMs >= state.notBeforeMs;
  return state.status === 'leased' && policy.replication > 1 && copiesWanted(state.votes ?? [], state.leases.length, policy.replication) > 0;
}

/** Whether this volunteer may run a copy of the task (it holds none and has not answered it). */
export function mayRunCopy(state: TaskState, volunteerId: string): boolean {
  return !hasCopyOrVote(state, volunteerId);
}

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
  const votes = state.status === 'done' ? undefined : state.votes;
  const keepVotes = votes ? { votes } : {};
  switch (event.type) {
    case 'lease':
      if (hasCopyOrVote(state, event.lease.volunteerId)) return refuse('this volunteer holds a copy of this task or answered it already');
      if (state.status === 'leased') {
        if (copiesWanted(state.votes ?? [], state.leases.length, policy.replication) === 0) return refuse('the task runs on as many volunteers as it needs');
        return { ...state, attemptsStarted: state.attemptsStarted + 1, leases: [...state.leases, event.lease] };
      }
      if (state.status !== 'pending') return refuse('only a pending task can be leased');
      if (nowMs < state.notBeforeMs) return refuse('the task is backing off');
      return { status: 'leased', attemptsStarted: state.attemptsStarted + 1, leases: [event.lease], ...keepError, ...keepVotes };
    case 'backup':
      if (state.status !== 'leased') return refuse('only a running task can get a backup copy');
      if (hasCopyOrVote(state, event.lease.volunteerId)) return refuse('a backup must run on another volunteer');
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
      const done = {
        status: 'done',
        attemptsStarted: state.attemptsStarted,
        volunteerId: lease.volunteerId,
        finishedAtMs: nowMs,
        durationMs: nowMs - lease.leasedAtMs,
        byBackup: lease.backup,
      } as const;
      if (policy.replication <= 1) return done;
      const cast = [...(state.votes ?? []), { volunteerId: lease.volunteerId, digest: event.digest, atMs: nowMs }];
      const decided = verdict(cast, policy.replication, policy.maxAnswers);
      if (decided.kind === 'accepted') return { ...done, votes: cast, digest: decided.digest };
      if (decided.kind === 'no-quorum') {
        const error = taskFailure(
          'NoQuorum',
          `no ${policy.replication} of ${decided.answers} answers agreed (${new Set(cast.map((vote) => vote.digest)).size} different outputs): the job's code may not be deterministic, or volunteers lie`,
        );
        return { status: 'failed', attemptsStarted: state.attemptsStarted, error, votes: cast };
      }
      const remaining = state.leases.filter((other) => other !== lease);
      if (remaining.length > 0) return { ...state, leases: remaining, votes: cast };
      return { status: 'pending', attemptsStarted: state.attemptsStarted, notBeforeMs: nowMs, ...keepError, votes: cast };
    }
    case 'fail':
    case 'abandon': {
      const lease = findLease(state, event.token);
      if (state.status !== 'leased' || !lease) return refuse('no live lease has this token');
      const error: TaskError = event.type === 'fail' ? event.error : taskFailure('LeaseLost', event.reason);
      const remaining = state.leases.filter((other) => other !== lease);
      if (remaining.length > 0) return { ...state, leases: remaining, lastError: error };
      // Replicated tasks start a copy per volunteer, so their attempt budget grows with the vote.
      if (state.attemptsStarted >= policy.maxAttempts + (policy.replication > 1 ? (state.votes?.length ?? 0) + policy.replication - 1 : 0)) {
        return { status: 'failed', attemptsStarted: state.attemptsStarted, error, ...keepVotes };
      }
      return {
        status: 'pending',
        attemptsStarted: state.attemptsStarted,
        notBeforeMs: nowMs + policy.backoffMs(state.attemptsStarted),
        lastError: error,
        ...keepVotes,
      };
    }
    case 'return': {
      const lease = findLease(state, event.token);
      if (state.status !== 'leased' || !lease) return refuse('no live lease has this token');
      const remaining = state.leases.filter((other) => other !== lease);
      const attemptsStarted = state.attemptsStarted - 1;
      if (remaining.length > 0) return { ...state, attemptsStarted, leases: remaining };
      return { status: 'pending', attemptsStarted, notBeforeMs: nowMs, ...keepError, ...keepVotes };
    }
    case 'requeue':
      if (state.status !== 'leased') return refuse('only a leased task can be requeued');
      return { status: 'pending', attemptsStarted: state.attemptsStarted, notBeforeMs: 0, ...keepError, ...keepVotes };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
