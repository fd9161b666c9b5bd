/**
 * The live index of one job: its tasks, the queue of its current phase's leasable
 * tasks, and the counters its summary shows. Built from the stored tasks when a job is
 * submitted or found at start-up; changed afterwards only by the scheduler's task-change
 * step. Leases are not here: the lease table owns them (lease-table.ts).
 */
import { isTerminal, jobStatus, type JobStatus } from '../../shared/job-lifecycle.ts';
import type { PastAttempt } from '../../shared/job.ts';
import type { Vote } from '../../shared/quorum.ts';
import { initialTaskState, type Lease, type TaskKind } from '../../shared/task.ts';
import type { JobPlan } from '../job-planner.ts';
import type { JobRecord, TaskRecord } from '../store/job-store.ts';
import { TaskQueue } from './task-queue.ts';

export interface JobRun {
  job: JobRecord;
  tasks: { map: TaskRecord[]; reduce: TaskRecord[] };
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
    mapTasks: plan.mapInputs.length,
    maxAttempts: plan.maxAttempts,
    replication: plan.replication,
    ...(plan.submitter ? { submitter: plan.submitter } : {}),
    ...(plan.spotCheck && plan.spotCheckSalt ? { spotCheck: plan.spotCheck, spotCheckSalt: plan.spotCheckSalt } : {}),
    inputBytes: plan.inputBytes,
    state: { status: 'queued' },
  };
}

/** A new job's M map tasks and R reduce tasks, all pending. */
export function newTasks(job: JobRecord): TaskRecord[] {
  const task = (kind: TaskKind, index: number): TaskRecord => ({ id: `${job.id}/${kind}/${index}`, jobId: job.id, kind, index, state: initialTaskState() });
  return [...Array.from({ length: job.mapTasks }, (_, index) => task('map', index)), ...Array.from({ length: job.reducers }, (_, index) => task('reduce', index))];
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

/** The job's status as reported, its phase derived from its task counts. */
export function statusOf(run: JobRun): JobStatus {
  return jobStatus(run.job.state, run.done.map, run.job.mapTasks);
}

/** A queue of the current phase's pending tasks, in index order. */
export function queueOfPending(run: JobRun): TaskQueue {
  return new TaskQueue(run.tasks[currentPhase(run)].filter((task) => task.state.status === 'pending').map((task) => task.index));
}

/** Indexes a job and its tasks, counting what is done already (a job found at start-up). */
export function indexJob(job: JobRecord, tasks: TaskRecord[]): JobRun {
  const run: JobRun = {
    job,
    tasks: { map: [], reduce: [] },
    queue: new TaskQueue(),
    done: { map: 0, reduce: 0 },
    doneMs: { map: 0, reduce: 0 },
    retries: 0,
    backups: { started: 0, won: 0 },
    votes: { decided: 0, disputed: 0 },
    volunteersUsed: new Set(),
    pastAttempts: new Map(),
  };
  for (const task of tasks) {
    run.tasks[task.kind][task.index] = task;
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
