/**
 * The live index of one job: its tasks, the queue of its current phase's leasable
 * tasks, and the counters its summary shows. Built from the stored tasks when a job is
 * submitted or found at start-up; changed afterwards only by the scheduler's task-change
 * step. Leases are not here: the lease table owns them (lease-table.ts).
 */
import { isTerminal } from '../../shared/job-lifecycle.ts';
import type { PastAttempt } from '../../shared/job.ts';
import type { Vote } from '../../shared/quorum.ts';
import { initialTaskState, type Lease, type TaskKind, type TaskState } from '../../shared/task.ts';
import type { JobPlan } from '../job-planner.ts';
import type { JobRecord, TaskRecord } from '../store/job-store.ts';
import type { Steps } from '../turns.ts';
import { TaskQueue } from './task-queue.ts';

export interface JobRun {
  job: JobRecord;
  tasks: JobTasks;
  /** Indices of pending tasks of the current phase, in the order they should run. */
  queue: TaskQueue;
  done: { map: number; reduce: number };
  /** Total of the winning attempts' durations, per phase, for backup decisions. */
  doneMs: { map: number; reduce: number };
  retries: number;
  backups: { started: number; won: number };
  /** Tasks decided by a vote, and those of them where some answer disagreed. */
  votes: { decided: number; disputed: number };
  volunteersUsed: Set<string>;
  /** Attempts that ended without the accepted answer, by task id, for the dashboard's timeline. */
  pastAttempts: Map<string, PastAttempt[]>;
}

/** A new job as stored, from its plan: queued. */
export function jobRecordOf(plan: JobPlan, nowMs: number): JobRecord {
  return {
    id: plan.id,
    name: plan.name,
    source: plan.source,
    sourceDigest: plan.sourceDigest,
    submittedAtMs: nowMs,
    reducers: plan.reducers,
    mapTasks: plan.mapTasks,
    maxAttempts: plan.maxAttempts,
    replication: plan.replication,
    ...(plan.submitter ? { submitter: plan.submitter } : {}),
    ...(plan.spotCheck && plan.spotCheckSalt ? { spotCheck: plan.spotCheck, spotCheckSalt: plan.spotCheckSalt } : {}),
    inputBytes: plan.inputBytes,
    ...(plan.range ? { range: plan.range } : {}),
    ...(plan.awaiting ? { awaiting: plan.awaiting } : {}),
    state: { status: 'queued' },
  };
}

/**
 * The state of every task before anything happens to it. One object for all: states are
 * replaced, never changed (shared/task.ts), and 250,000 of them made at a submission cost
 * the young generation's collector 10 MB more to copy. Frozen, so a change is a TypeError.
 */
const NEW_TASK_STATE: TaskState = Object.freeze(initialTaskState());

/** A task as it is before anything happens to it, and as the store implies a task it never saved. */
export function newTask(jobId: string, kind: TaskKind, index: number): TaskRecord {
  return { id: `${jobId}/${kind}/${index}`, jobId, kind, index, state: NEW_TASK_STATE };
}

/**
 * A job's tasks, by kind and index. A task nothing has looked at yet has no record until
 * something does (`at`): it is pending, never started, as the store implies of a task it
 * never saved. Making all 250,000 records of a new job at once cost 200 ms, and made in
 * steps they still cost pauses of 20 to 50 ms, the young generation's collector copying
 * them all; most are made one at a time when first leased, and die old.
 */
export class JobTasks {
  readonly #made: Record<TaskKind, Map<number, TaskRecord>> = { map: new Map(), reduce: new Map() };

  constructor(
    private readonly jobId: string,
    private readonly counts: Readonly<Record<TaskKind, number>>,
  ) {}

  /** Task `index` of a kind, its record made now if it had none. */
  at(kind: TaskKind, index: number): TaskRecord {
    const made = this.#made[kind];
    let task = made.get(index);
    if (!task) {
      if (!(index >= 0 && index < this.counts[kind])) throw new RangeError(`job ${this.jobId} has no ${kind} task ${index}`);
      task = newTask(this.jobId, kind, index);
      made.set(index, task);
    }
    return task;
  }

  /** Puts a task's record as the store saved it (recovery). */
  put(task: TaskRecord): void {
    this.#made[task.kind].set(task.index, task);
  }

  /** Every task of a kind, in index order; one with no record yet is given a fresh one, not kept. */
  *all(kind: TaskKind): Generator<TaskRecord> {
    const made = this.#made[kind];
    for (let index = 0; index < this.counts[kind]; index++) yield made.get(index) ?? newTask(this.jobId, kind, index);
  }
}

/** Map tasks queued between two yields of `newRunSteps`. */
const TASKS_PER_STEP = 4096;

/**
 * A new job's run: M map tasks and R reduce tasks, all pending, the map tasks queued in
 * index order. In steps (server/turns.ts): the queue of 250,000 tasks is long work too.
 */
export function* newRunSteps(job: JobRecord): Steps<JobRun> {
  const run = emptyRun(job);
  for (let index = 0; index < job.mapTasks; index++) {
    run.queue.push(index);
    if (index % TASKS_PER_STEP === TASKS_PER_STEP - 1) yield;
  }
  return run;
}

/** Finished jobs past the result retention (0 keeps them forever), to forget. */
export function expiredJobIds(runs: Iterable<JobRun>, retentionMs: number, nowMs: number): string[] {
  if (retentionMs <= 0) return [];
  const expired: string[] = [];
  for (const { job } of runs) if ('finishedAtMs' in job.state && nowMs - job.state.finishedAtMs > retentionMs) expired.push(job.id);
  return expired;
}

/** The phase whose tasks are handed out: map until every map task is done, then reduce. */
export function currentPhase(run: JobRun): TaskKind {
  return run.done.map < run.job.mapTasks ? 'map' : 'reduce';
}

/** A queue of the current phase's pending tasks, in index order. */
export function queueOfPending(run: JobRun): TaskQueue {
  const pending: number[] = [];
  for (const task of run.tasks.all(currentPhase(run))) if (task.state.status === 'pending') pending.push(task.index);
  return new TaskQueue(pending);
}

function emptyRun(job: JobRecord): JobRun {
  return {
    job,
    tasks: new JobTasks(job.id, { map: job.mapTasks, reduce: job.reducers }),
    queue: new TaskQueue(),
    done: { map: 0, reduce: 0 },
    doneMs: { map: 0, reduce: 0 },
    retries: 0,
    backups: { started: 0, won: 0 },
    votes: { decided: 0, disputed: 0 },
    volunteersUsed: new Set(),
    pastAttempts: new Map(),
  };
}

/**
 * Indexes a job and its tasks, counting what is done already (a job found at start-up).
 * `tasks` are the ones the store saved; every other task is pending, never started.
 */
export function indexJob(job: JobRecord, tasks: TaskRecord[]): JobRun {
  const run = emptyRun(job);
  for (const task of tasks) {
    run.tasks.put(task);
    if (task.state.status === 'done') {
      countDone(run, task.kind, task.state.durationMs, task.state.volunteerId, task.state.byBackup);
      if (task.state.votes) countVote(run, task.state.votes, task.state.digest);
    }
    run.retries += Math.max(0, task.state.attemptsStarted - 1);
  }
  if (!isTerminal(job.state)) run.queue = queueOfPending(run);
  return run;
}

export function countDone(run: JobRun, kind: TaskKind, durationMs: number, volunteerId: string, byBackup: boolean): void {
  run.done[kind]++;
  run.doneMs[kind] += durationMs;
  run.volunteersUsed.add(volunteerId);
  if (byBackup) run.backups.won++;
}

export function countVote(run: JobRun, votes: readonly Vote[], winner: string | undefined): void {
  run.votes.decided++;
  if (votes.some((vote) => vote.digest !== winner)) run.votes.disputed++;
}

/** Attempts kept per task at most: a task that fails this often fails its job long before. */
const MAX_PAST_ATTEMPTS = 32;

export function recordAttempt(run: JobRun, taskId: string, lease: Lease, outcome: PastAttempt['outcome'], nowMs: number): void {
  const attempts = run.pastAttempts.get(taskId) ?? [];
  if (attempts.length >= MAX_PAST_ATTEMPTS) attempts.shift();
  attempts.push({ volunteerId: lease.volunteerId, startedAtMs: lease.leasedAtMs, endedAtMs: nowMs, outcome, backup: lease.backup });
  run.pastAttempts.set(taskId, attempts);
}
