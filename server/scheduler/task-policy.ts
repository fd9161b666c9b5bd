/**
 * Each task's policy (shared/task.ts `TaskPolicy`): its job's attempts, the retry
 * backoff, and its replication: the job's, or 2 for a task a spot-checked job verifies.
 * Policies are shared between tasks that agree on them, and the spot-check hash is
 * computed once per task: both sit on the hot path of every lease and answer.
 */
import { defaultMaxAnswers } from '../../shared/quorum.ts';
import { defaultBackoffMs, type TaskPolicy } from '../../shared/task.ts';
import type { JobRecord, TaskRecord } from '../store/job-store.ts';
import { isSpotChecked } from '../verification.ts';

export class TaskPolicies {
  readonly #byKey = new Map<string, TaskPolicy>();
  readonly #spotChecked = new WeakMap<TaskRecord, boolean>();

  constructor(private readonly backoffMs: (attemptsStarted: number) => number = defaultBackoffMs) {}

  of(job: JobRecord, task: TaskRecord): TaskPolicy {
    const replication = job.replication > 1 ? job.replication : job.spotCheck ? this.#spotCheckReplication(job, task) : 1;
    const key = `${job.maxAttempts}/${replication}`;
    let policy = this.#byKey.get(key);
    if (!policy) {
      policy = { maxAttempts: job.maxAttempts, backoffMs: this.backoffMs, replication, maxAnswers: defaultMaxAnswers(replication) };
      this.#byKey.set(key, policy);
    }
    return policy;
  }

  /** 2 for the tasks a spot-checked job verifies, else 1. */
  #spotCheckReplication(job: JobRecord, task: TaskRecord): number {
    let checked = this.#spotChecked.get(task);
    if (checked === undefined) {
      checked = isSpotChecked(job, task.id);
      this.#spotChecked.set(task, checked);
    }
    return checked ? 2 : 1;
  }
}
