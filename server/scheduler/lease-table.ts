/**
 * Every live lease, by token, with the indexes the scheduler asks about: by volunteer
 * and by job. (A task's own leases are in its state; an index by task, kept and never
 * read, cost a Set made and dropped per lease.) This is the one place that knows which leases are live. The
 * lease itself (owner, deadline) lives in its task's state (shared/task.ts); this table
 * maps tokens to tasks so an answer, a renewal or a disconnect finds its task at once.
 *
 * Only the scheduler's task-change step (scheduler.ts, `applyTaskChange`) adds and
 * removes entries, from the leases a transition started and ended (task-effects.ts),
 * so the table and the task states cannot drift apart. The indexes are updated here,
 * in `add` and `remove` alone.
 */
import { TabreduceError } from '../../shared/errors.ts';
import type { TaskRecord } from '../store/job-store.ts';

export interface LeaseEntry {
  token: string;
  volunteerId: string;
  jobId: string;
  task: TaskRecord;
}

export class LeaseTable {
  readonly #byToken = new Map<string, LeaseEntry>();
  readonly #byVolunteer = new Map<string, Set<LeaseEntry>>();
  readonly #byJob = new Map<string, Set<LeaseEntry>>();

  /** Live leases in all. */
  get size(): number {
    return this.#byToken.size;
  }

  add(entry: LeaseEntry): void {
    if (this.#byToken.has(entry.token)) throw new Error(`lease ${entry.token} is live already`);
    this.#byToken.set(entry.token, entry);
    indexAdd(this.#byVolunteer, entry.volunteerId, entry);
    indexAdd(this.#byJob, entry.jobId, entry);
  }

  /** Ends a lease; a token that is not live is ignored. */
  remove(token: string): LeaseEntry | undefined {
    const entry = this.#byToken.get(token);
    if (!entry) return undefined;
    this.#byToken.delete(token);
    indexRemove(this.#byVolunteer, entry.volunteerId, entry);
    indexRemove(this.#byJob, entry.jobId, entry);
    return entry;
  }

  /** Ends every lease on a job's tasks; answers the task ids each volunteer held, to tell them. */
  removeJob(jobId: string): Map<string, string[]> {
    const byVolunteer = new Map<string, string[]>();
    for (const entry of this.ofJob(jobId)) {
      this.remove(entry.token);
      byVolunteer.set(entry.volunteerId, [...(byVolunteer.get(entry.volunteerId) ?? []), entry.task.id]);
    }
    return byVolunteer;
  }

  get(token: string): LeaseEntry | undefined {
    return this.#byToken.get(token);
  }

  /** The live lease `token` if it is on task `taskId` and held by `volunteerId`, else undefined. */
  find(volunteerId: string, taskId: string, token: string): LeaseEntry | undefined {
    const entry = this.#byToken.get(token);
    return entry && entry.volunteerId === volunteerId && entry.task.id === taskId ? entry : undefined;
  }

  /** As `find`, but a missing lease is the volunteer's error: LEASE_INVALID. */
  require(volunteerId: string, taskId: string, token: string): LeaseEntry {
    const entry = this.find(volunteerId, taskId, token);
    if (!entry) throw new TabreduceError('LEASE_INVALID', `no live lease ${token} on task ${taskId} for this volunteer`);
    return entry;
  }

  /** A snapshot of every live lease, safe to iterate while leases end. */
  all(): LeaseEntry[] {
    return [...this.#byToken.values()];
  }

  /** A snapshot of the leases a volunteer holds. */
  ofVolunteer(volunteerId: string): LeaseEntry[] {
    return [...(this.#byVolunteer.get(volunteerId) ?? [])];
  }

  /** A snapshot of the leases on a job's tasks. */
  ofJob(jobId: string): LeaseEntry[] {
    return [...(this.#byJob.get(jobId) ?? [])];
  }

  countOfVolunteer(volunteerId: string): number {
    return this.#byVolunteer.get(volunteerId)?.size ?? 0;
  }

  /** Leases held on a job's tasks, backup copies included: the job's share of the slots. */
  countOfJob(jobId: string): number {
    return this.#byJob.get(jobId)?.size ?? 0;
  }

  /** The distinct tasks of a job that hold at least one live lease. */
  tasksOfJob(jobId: string): Set<TaskRecord> {
    const tasks = new Set<TaskRecord>();
    for (const entry of this.#byJob.get(jobId) ?? []) tasks.add(entry.task);
    return tasks;
  }
}

function indexAdd<K>(index: Map<K, Set<LeaseEntry>>, key: K, entry: LeaseEntry): void {
  let entries = index.get(key);
  if (!entries) index.set(key, (entries = new Set()));
  entries.add(entry);
}

function indexRemove<K>(index: Map<K, Set<LeaseEntry>>, key: K, entry: LeaseEntry): void {
  const entries = index.get(key);
  if (!entries) return;
  entries.delete(entry);
  if (entries.size === 0) index.delete(key);
}
