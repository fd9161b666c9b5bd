/**
 * How a job moves through its lifecycle (shared/job-lifecycle.ts) and what follows from
 * its end: its result merged and stored, its running tasks revoked, its intermediate data
 * dropped, the jobs awaiting its result (pipeline.ts) planned or failed, and, past its
 * retention, the job forgotten. `move` is the one place a job's state changes; the
 * scheduler calls in here from its task-change step and from cancel.
 */
import { TabreduceError } from '../../shared/errors.ts';
import { isTerminal, transitionJob, type JobEvent, type JobFailure } from '../../shared/job-lifecycle.ts';
import type { KeyValue } from '../../shared/job.ts';
import { mergeReduceOutputs } from '../result-data.ts';
import type { JobStore } from '../store/job-store.ts';
import { expiredJobIds, indexJob, type JobRun } from './job-run.ts';
import type { LeaseTable } from './lease-table.ts';
import { settleAwaited } from './pipeline.ts';
import type { SchedulerListener } from './scheduler-options.ts';

/** What the scheduler shares with its jobs' ends: the state it owns, and how to wake volunteers. */
export interface JobEndsScope {
  store: JobStore;
  runs: Map<string, JobRun>;
  leases: LeaseTable;
  listener: SchedulerListener;
  /** Wakes waiting volunteers, enough of them to take `leasable` new tasks. */
  wake(leasable: number): void;
  /** A succeeded job's result, whole. */
  resultOf(jobId: string): KeyValue[];
  /** The largest volunteer message: a pipeline's next job is planned to fit it. */
  maxMessageBytes: number | undefined;
}

export class JobEnds {
  constructor(private readonly scope: JobEndsScope) {}

  /** Moves a job to its next state and stores it; a job that ends settles the jobs awaiting it. */
  move(run: JobRun, event: JobEvent, nowMs: number): void {
    const next = transitionJob(run.job.state, event, nowMs);
    if (next instanceof Error) throw new TabreduceError('CONFLICT', `job ${run.job.id}: ${next.message}`);
    run.job = { ...run.job, state: next };
    this.scope.store.updateJob(run.job);
    if (!isTerminal(next)) return;
    for (const other of this.scope.runs.values()) if (other.job.awaiting?.jobId === run.job.id) this.settleAwaiting(other, nowMs);
  }

  /** Merges the result and marks the job succeeded, in the turn that stored the last reduce output: one commit holds both. */
  finish(run: JobRun, nowMs: number): void {
    const result = mergeReduceOutputs(this.scope.store.getReduceOutputs(run.job.id));
    this.scope.store.putResult(run.job.id, result);
    this.move(run, { type: 'succeed' }, nowMs);
    this.#dropIntermediate(run);
  }

  fail(run: JobRun, error: JobFailure, nowMs: number): void {
    this.move(run, { type: 'fail', error }, nowMs);
    this.stop(run, `job failed: ${error.taskId ? `task ${error.taskId}: ` : ''}${error.message}`);
  }

  /** A job ended early (failed, cancelled): revoke its running tasks everywhere and drop its queue. */
  stop(run: JobRun, reason: string): void {
    run.queue.clear();
    for (const [volunteerId, taskIds] of this.scope.leases.removeJob(run.job.id)) this.scope.listener.revoke(volunteerId, taskIds, reason);
    this.#dropIntermediate(run);
    this.scope.listener.changed();
  }

  /** A job waiting on another's result: planned once that job succeeded, failed if it did not (pipeline.ts). */
  settleAwaiting(run: JobRun, nowMs: number): void {
    if (!run.job.awaiting || isTerminal(run.job.state)) return;
    const upstream = this.scope.runs.get(run.job.awaiting.jobId)?.job;
    const outcome = settleAwaited(run.job, upstream, this.scope.resultOf, this.scope.maxMessageBytes);
    if (outcome.kind === 'waiting') return;
    if (outcome.kind === 'failed') return this.fail(run, outcome.failure, nowMs);
    this.scope.store.fillJob(outcome.job, outcome.mapInputs);
    this.scope.runs.set(outcome.job.id, indexJob(outcome.job, []));
    this.scope.wake(outcome.job.mapTasks);
    this.scope.listener.changed();
  }

  /** Forgets the jobs past their retention, results and all. */
  dropExpired(retentionMs: number, nowMs: number): void {
    const expired = expiredJobIds(this.scope.runs.values(), retentionMs, nowMs);
    for (const jobId of expired) {
      this.scope.store.deleteJob(jobId);
      this.scope.runs.delete(jobId);
    }
    if (expired.length > 0) this.scope.listener.changed();
  }

  #dropIntermediate(run: JobRun): void {
    this.scope.store.deleteIntermediate(run.job.id);
    this.scope.listener.jobEnded?.(run.job.id);
  }
}
