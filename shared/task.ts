import { taskFailure, type TaskError } from './errors.ts';
import { copiesWanted, verdict, type Vote } from './quorum.ts';

/**
 * The task lifecycle. One transition function, `transitionTask`, is the only way a
 * task changes state; a move from the wrong state is refused with a TaskTransitionError.
 *
 *                 lease                        complete (any live lease)
 *    pending ───────────────▶ leased ─────────────────────────────────▶ done
 *       ▲  ▲                   │ │ ▲
 *       │  │ requeue: attempts │ │ │ backup, while an attempt is left: one more
 *       │  │ given back        │ │ │ lease, on another volunteer
 *       │  └───────────────────┤ │ └───┘
 *       │   fail / abandon     │ │
 *       └── (last lease,       │ └── fail / abandon (last lease, no attempt left) ──▶ failed
 *            an attempt left) ─┘
 *
 *    renew: leased ──▶ leased, that lease with a later deadline
 *    fail / abandon of one lease while others run: leased ──▶ leased, minus that lease
 *    backup, or a vote's extra copy, with no attempt left: refused
 *
 * A leased task holds one lease, or more while backup copies run (speculative
 * execution: the first valid answer wins). `fail` is job code that threw or timed out;
 * `abandon` is a lease lost without an answer (the tab closed or its deadline passed).
 *
 * Attempts. Every lease started is an attempt, a backup's and a vote's copies included,
 * and a task starts no more than its budget (`attemptBudget`): `maxAttempts`, and under a
 * vote room for the copies the vote needs. A copy that fails while others run ends only
 * its own lease, so the others may still answer; once no attempt is left no copy is
 * added, so the task ends with its last running copy: done if that copy answers, failed
 * with that copy's error if it fails. A task whose code never returns therefore fails
 * after at most its budget of attempts, each stopped by the task timeout, backups or
 * not. Two events give attempts back, being no fault of the job's code: `return`, a copy
 * handed back unstarted (no backoff either), and `requeue`, which returns a task to
 * pending at once when its leases died with a coordinator that restarted. Every way into
 * pending leaves an attempt (a failure with none left fails the task instead), so
 * `lease` from pending checks no budget.
 *
 * Replication (shared/quorum.ts): with `policy.replication` q > 1, `complete` is a vote.
 * The task is done when the votes accept a digest; until then the answer's lease ends,
 * the task stays leased (other copies run) or returns to pending, and `lease` may add
 * copies to a leased task while the votes want more and an attempt is left. Every copy
 * of a task runs on a volunteer that holds no other copy and has not voted on it. Past
 * the answers cap without a verdict, the task fails.
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
  /** The task input sent with this lease, in bytes (a reduce task's: its partition's blocks). */
  inputBytes?: number;
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
      /** What the winning copy was sent and answered, in bytes (absent in states stored before they were kept). */
      inputBytes?: number;
      outputBytes?: number;
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
  | { type: 'complete'; token: string; digest: string; outputBytes?: number }
  | { type: 'fail'; token: string; error: TaskError }
  | { type: 'abandon'; token: string; reason: string }
  /** The volunteer gives back a copy it never started (it paused, or took on less): no attempt is spent. */
  | { type: 'return'; token: string }
  | { type: 'requeue' };

/** Limits that the transition needs: attempts, retry backoff, and the vote. */
export interface TaskPolicy {
  /** Attempts a task may start, backup copies included; a vote adds room for its copies (`attemptBudget`). */
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

/**
 * The attempts a task may start in all: `maxAttempts`, and under a vote (q > 1) one more
 * per answer cast, since an answer is no failure, and q - 1 for the copies beyond the
 * first, which the vote needs however well they go.
 */
export function attemptBudget(state: TaskState, policy: Pick<TaskPolicy, 'maxAttempts' | 'replication'>): number {
  if (policy.replication <= 1) return policy.maxAttempts;
  return policy.maxAttempts + (state.votes?.length ?? 0) + policy.replication - 1;
}

/** The attempts the task may still start: its budget less those started. */
export function attemptsLeft(state: TaskState, policy: Pick<TaskPolicy, 'maxAttempts' | 'replication'>): number {
  return Math.max(0, attemptBudget(state, policy) - state.attemptsStarted);
}

/**
 * Whether a task may take one more copy now: pending and out of backoff, or leased,
 * short of copies for its vote, and with an attempt left for one.
 */
export function wantsCopy(state: TaskState, nowMs: number, policy: Pick<TaskPolicy, 'maxAttempts' | 'replication'>): boolean {
  if (state.status === 'pending') return nowMs >= state.notBeforeMs;
  return (
    state.status === 'leased' &&
    policy.replication > 1 &&
    copiesWanted(state.votes ?? [], state.leases.length, policy.replication) > 0 &&
    attemptsLeft(state, policy) > 0
  );
}

/**
 * Whether `backup` would take this volunteer's copy: the task runs, on other volunteers
 * only, and has an attempt left. Dispatch asks this so it never picks what the
 * transition refuses.
 */
export function mayAddBackup(state: TaskState, volunteerId: string, policy: Pick<TaskPolicy, 'maxAttempts' | 'replication'>): boolean {
  return state.status === 'leased' && !hasCopyOrVote(state, volunteerId) && attemptsLeft(state, policy) > 0;
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
        if (attemptsLeft(state, policy) === 0) return refuse('no attempt is left for another copy');
        return { ...state, attemptsStarted: state.attemptsStarted + 1, leases: [...state.leases, event.lease] };
      }
      if (state.status !== 'pending') return refuse('only a pending task can be leased');
      if (nowMs < state.notBeforeMs) return refuse('the task is backing off');
      return { status: 'leased', attemptsStarted: state.attemptsStarted + 1, leases: [event.lease], ...keepError, ...keepVotes };
    case 'backup':
      if (state.status !== 'leased') return refuse('only a running task can get a backup copy');
      if (hasCopyOrVote(state, event.lease.volunteerId)) return refuse('a backup must run on another volunteer');
      if (attemptsLeft(state, policy) === 0) return refuse('no attempt is left for a backup copy');
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
        ...(lease.inputBytes !== undefined ? { inputBytes: lease.inputBytes } : {}),
        ...(event.outputBytes !== undefined ? { outputBytes: event.outputBytes } : {}),
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
      // The other copies may still answer. None is added once the attempts are spent, so
      // the last of them to fail brings the task to the check below.
      if (remaining.length > 0) return { ...state, leases: remaining, lastError: error };
      if (attemptsLeft(state, policy) === 0) return { status: 'failed', attemptsStarted: state.attemptsStarted, error, ...keepVotes };
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
      // The leases died with the coordinator, not with the job's code: their attempts are
      // given back, or every restart would bring a job nearer to failing.
      return { status: 'pending', attemptsStarted: state.attemptsStarted - state.leases.length, notBeforeMs: 0, ...keepError, ...keepVotes };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
