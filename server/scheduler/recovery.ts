/**
 * Restart recovery: a job found in the store at start-up, indexed again. Leases did
 * not survive the restart (no volunteer holds them now), so leased tasks go back to
 * pending, with the attempts of those leases given back (`requeue` in shared/task.ts):
 * otherwise every restart would bring a job nearer to failing. A task the store never
 * saved is pending, never started (indexJob). Nothing else needs repair: a job's phase
 * is derived from its task counts, a job's last reduce output, its result and its
 * success are stored in one synchronous turn, so one commit holds all three or none,
 * and a job whose submission a crash cut short is not in the store at all (beginJob).
 * A job whose writes a failed commit rolled back is brought back the same way (resyncRuns).
 */
import { isTerminal, upgradeJobState } from '../../shared/job-lifecycle.ts';
import { transitionTask, TaskTransitionError } from '../../shared/task.ts';
import type { JobRecord, JobStore } from '../store/job-store.ts';
import { indexJob, type JobRun } from './job-run.ts';
import type { LeaseTable } from './lease-table.ts';
import type { TaskPolicies } from './task-policy.ts';

export function recoverRun(store: JobStore, policies: TaskPolicies, stored: JobRecord, nowMs: number): JobRun {
  const job = { ...stored, state: upgradeJobState(stored.state) };
  const tasks = store.listTasks(job.id);
  if (!isTerminal(job.state)) {
    for (const task of tasks) {
      if (task.state.status !== 'leased') continue;
      const next = transitionTask(task.state, { type: 'requeue' }, nowMs, policies.of(job, task));
      if (next instanceof TaskTransitionError) throw next;
      task.state = next;
      store.saveTask(task);
    }
  }
  return indexJob(job, tasks);
}

/** What a resync changes: the scheduler's runs and leases, from the store. */
export interface ResyncScope {
  store: JobStore;
  policies: TaskPolicies;
  runs: Map<string, JobRun>;
  leases: LeaseTable;
}

/**
 * A failed commit rolled back the store's writes to these jobs: each goes back to what
 * the store holds, as a restart would bring it back, so memory never runs ahead of the
 * disk. Their leases end, since what their holders were told may be gone, and each
 * holder hears of it through `revoke`; a job the store never held (its submission was
 * rolled back) is dropped.
 */
export function resyncRuns(scope: ResyncScope, jobIds: ReadonlySet<string>, revoke: (volunteerId: string, taskIds: string[]) => void, nowMs: number): void {
  for (const jobId of jobIds) {
    for (const [volunteerId, taskIds] of scope.leases.removeJob(jobId)) revoke(volunteerId, taskIds);
    const stored = scope.store.getJob(jobId);
    if (stored) scope.runs.set(jobId, recoverRun(scope.store, scope.policies, stored, nowMs));
    else scope.runs.delete(jobId);
  }
}
