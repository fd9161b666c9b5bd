/**
 * The tasks a volunteer holds, running or waiting for a slot, each tagged with the
 * connection it was leased on: the one owner of that list, and of what the page derives
 * from it (the jobs running here).
 */
import type { JobSourceReply, LeaseRef, TaskAssignment } from '../shared/protocol.ts';

/** One task held by this volunteer. */
export interface RunningTask {
  readonly assignment: TaskAssignment;
  /** Aborted when the task is dropped: whatever it produces is then never reported. */
  readonly controller: AbortController;
  /** The connection it was leased on (volunteer-lifecycle.ts); a result from an older one is never reported. */
  readonly session: number;
  /** The job's source and identity once fetched: what the page shows and lets people read. */
  job: JobSourceReply | undefined;
  /** Handed to the executor (it may still wait there for a slot: see `TaskExecutor.unstarted`). */
  handedOver: boolean;
}

export class RunningTasks {
  readonly #byTaskId = new Map<string, RunningTask>();

  /** Tasks held. */
  get size(): number {
    return this.#byTaskId.size;
  }

  /** Holds a new task; undefined when one with its id is held already. */
  add(assignment: TaskAssignment, session: number): RunningTask | undefined {
    if (this.#byTaskId.has(assignment.taskId)) return undefined;
    const task: RunningTask = { assignment, controller: new AbortController(), session, job: undefined, handedOver: false };
    this.#byTaskId.set(assignment.taskId, task);
    return task;
  }

  /** Lets go of a task that ended; false when it was let go already (released, or dropped). */
  release(task: RunningTask): boolean {
    if (this.#byTaskId.get(task.assignment.taskId) !== task) return false;
    this.#byTaskId.delete(task.assignment.taskId);
    return true;
  }

  /** Aborts a task and lets go of it; false when no task has this id. */
  drop(taskId: string): boolean {
    const task = this.#byTaskId.get(taskId);
    if (!task) return false;
    this.#byTaskId.delete(taskId);
    task.controller.abort();
    return true;
  }

  /** Ids of every task held. */
  taskIds(): string[] {
    return [...this.#byTaskId.keys()];
  }

  /** The leases of the tasks leased on `session`. */
  leases(session: number): LeaseRef[] {
    const leases: LeaseRef[] = [];
    for (const { assignment, session: leasedOn } of this.#byTaskId.values()) {
      if (leasedOn === session) leases.push({ taskId: assignment.taskId, leaseToken: assignment.leaseToken });
    }
    return leases;
  }

  /** Tasks leased on `session` and not started: not handed to the executor yet, or waiting there (`waiting`, by task id). */
  unstarted(session: number, waiting: ReadonlySet<string>): RunningTask[] {
    return [...this.#byTaskId.values()].filter((task) => task.session === session && (!task.handedOver || waiting.has(task.assignment.taskId)));
  }

  /** The jobs whose tasks are held, in the order their tasks came: names, and sources once fetched. */
  jobs(): { currentJobs: string[]; runningJobs: JobSourceReply[] } {
    const currentJobs: string[] = [];
    const runningJobs: JobSourceReply[] = [];
    for (const { job } of this.#byTaskId.values()) {
      if (!job) continue;
      if (!currentJobs.includes(job.name)) currentJobs.push(job.name);
      if (!runningJobs.some((other) => other.jobId === job.jobId)) runningJobs.push(job);
    }
    return { currentJobs, runningJobs };
  }
}
