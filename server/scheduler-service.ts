/**
 * What the coordinator's edges (the volunteer gateway, the HTTP API, the dashboard feed,
 * metrics and the coordinator's wiring) need of a scheduler. Two implementations keep
 * it: the in-memory `Scheduler` (server/scheduler/scheduler.ts), which answers at once
 * and writes through a synchronous store, and one whose state lives in a database,
 * where every call is a transaction and answers with a promise. So that neither pays for
 * the other, every answer may be either (`MaybePromise`).
 *
 * The contract each implementation keeps, and each caller relies on:
 * - A refusal is a `TabreduceError`, thrown or rejected: callers treat both alike.
 * - Results (`complete`, `fail`, `settle`): an answer that is a promise resolves only
 *   once what it recorded is committed. An answer at hand means written, not
 *   committed: the caller waits on the store's commit (`stored()`, store.durable())
 *   before it says "stored", and every write of the same turn shares that commit.
 * - A volunteer's next tasks are asked for only after its results are recorded (their
 *   answer at hand, or their promise resolved), so tasks freed or unlocked by them
 *   (a job's reduce phase) can be handed out in the same round trip.
 * - A lease in the answer of `requestTasks` is live by the time the answer is sent: it
 *   can be renewed, completed, failed or returned at once.
 * - Reads (`getJob`, `listJobs`, `getTasks`, `cluster`) see every write answered before them.
 */
import type { TaskError, WireError } from '../shared/errors.ts';
import type { ClusterSummary, JobSummary, TaskSummary } from '../shared/job.ts';
import type { JobSourceReply, LeaseRef, RenewReceipt, TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import type { TaskEnd } from '../shared/task-batch.ts';
import type { JobPlan } from './job-planner.ts';
import type { StoredResult } from './result-data.ts';
import type { TaskCounts } from './scheduler/summaries.ts';
import type { JobRecord } from './store/job-store.ts';

/** Why an end was refused; an INTERNAL one keeps the error behind it, for the log (never sent). */
export interface SettleRefusal extends WireError {
  cause?: unknown;
}

export type MaybePromise<T> = T | Promise<T>;

export interface SchedulerService {
  // ── Jobs ────────────────────────────────────────────────────────────────────────

  /** Adds a planned job without holding the event loop; resolves once it is committed. */
  submitInTurns(plan: JobPlan, nowMs: number): MaybePromise<JobRecord>;
  /** Ends a job that has not ended (else CONFLICT): its running tasks are revoked. */
  cancel(jobId: string, nowMs: number): MaybePromise<JobSummary>;
  getJob(jobId: string): MaybePromise<JobSummary | undefined>;
  /** All jobs, newest first. */
  listJobs(): MaybePromise<JobSummary[]>;
  getTasks(jobId: string): MaybePromise<TaskSummary[]>;
  getSource(jobId: string): MaybePromise<JobSourceReply>;
  /** Like `getSource`, for a volunteer: FORBIDDEN unless it holds a task of the job, so a volunteer reads only the code it runs. */
  getSourceForVolunteer(volunteerId: string, jobId: string): MaybePromise<JobSourceReply>;
  /** A leased map task's input (a `FetchedMapInput`): the lease token is the capability, good while the lease lives. */
  leasedInput(leaseToken: string): MaybePromise<Uint8Array>;
  /** A succeeded job's result (CONFLICT before then), read a chunk at a time so that it is never held whole. */
  getResult(jobId: string): MaybePromise<StoredResult>;

  // ── Volunteers ──────────────────────────────────────────────────────────────────

  connect(volunteerId: string, agent: string, slots: number, nowMs: number): MaybePromise<void>;
  setSlots(volunteerId: string, slots: number): MaybePromise<void>;
  /** A volunteer went away: its leases are abandoned now, not at their deadline; `reason` goes into the tasks' error. */
  disconnect(volunteerId: string, nowMs: number, reason: string): MaybePromise<void>;
  cluster(): MaybePromise<ClusterSummary>;
  /** The tasks of jobs still running, by kind and state, for `GET /metrics`. */
  liveTaskCounts(): MaybePromise<TaskCounts>;

  // ── Tasks ───────────────────────────────────────────────────────────────────────

  /** Leases up to `max` tasks to a volunteer, fairly across running jobs. */
  requestTasks(volunteerId: string, max: number, nowMs: number): MaybePromise<TaskAssignment[]>;
  complete(volunteerId: string, taskId: string, leaseToken: string, output: TaskOutput, nowMs: number): MaybePromise<void>;
  /** Job code failed (threw, timed out, returned garbage) on a volunteer. */
  fail(volunteerId: string, taskId: string, leaseToken: string, error: TaskError, nowMs: number): MaybePromise<void>;
  /**
   * Records many ends of one volunteer's tasks (a `tasks:report`), each alone: a refused
   * one leaves the others recorded. Answers one entry per end, in order: null when it
   * was recorded, or its refusal (an `INTERNAL` one is a bug, for the caller to log).
   * A throw or rejection refuses them all.
   */
  settle(volunteerId: string, ends: readonly TaskEnd[], nowMs: number): MaybePromise<(SettleRefusal | null)[]>;
  /** Takes back tasks a volunteer holds but never started, with no attempt spent; answers the task ids taken back. */
  returnTasks(volunteerId: string, leases: LeaseRef[], nowMs: number): MaybePromise<string[]>;
  /** Renews live leases; answers the task ids renewed and those whose lease is gone. */
  renew(volunteerId: string, leases: LeaseRef[], nowMs: number): MaybePromise<RenewReceipt>;
  /** On a timer: abandons leases past their deadline, wakes volunteers for tasks out of backoff, forgets jobs past retention. */
  tick(nowMs: number): MaybePromise<void>;
}

/**
 * Goes on with `next` at once when the answer is at hand, or once its promise resolves:
 * a synchronous scheduler's answers cost no promise hop on the volunteers' hot path.
 */
export function onceReady<T, U>(value: MaybePromise<T>, next: (ready: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
