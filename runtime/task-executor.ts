/**
 * Where a volunteer runs its tasks. The client only needs this interface, so the same
 * `VolunteerClient` drives a pool of Web Workers in a tab (`WorkerPool`) and plain
 * in-process calls in Node (`InProcessExecutor`).
 */
import { taskFailure } from '../shared/errors.ts';
import type { TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import type { JobModuleSource } from './job-sources.ts';
import { TaskRunError } from './task-error.ts';

export interface TaskExecutor {
  /** How many tasks it runs at once: the slots the volunteer announces. */
  readonly slots: number;
  /**
   * Runs one task of `job` (whose source is loaded once per digest). Resolves with the
   * task's output; rejects with a `TaskRunError` (name, message, stack of a `TaskError`):
   * the job code's failure, or `TaskTimeout` past `assignment.timeoutMs`, or
   * `TaskRevoked` when `signal` aborts (shared/errors.ts, TASK_FAILURES). Never leaves
   * the executor unusable. May move (detach) the assignment's input buffers rather than
   * copy them.
   */
  run(assignment: TaskAssignment, job: JobModuleSource, signal: AbortSignal): Promise<TaskOutput>;
  /**
   * Tasks handed to `run` that wait for a free slot and have not started: what a pausing
   * volunteer can give back untouched. Absent: every task starts when handed over.
   */
  unstarted?(): string[];
  /**
   * Recent mean time a task takes on a worker, in ms, its wait for a worker left out;
   * undefined before the first answer, or when the executor does not measure it. The
   * client holds more tasks per slot the shorter they are (work-demand.ts).
   */
  readonly taskMs?: number;
  /** Changes the slot count (0..LIMITS.slotsPerVolunteer); running tasks finish first. */
  resize(slots: number): void;
  /** Stops everything: running tasks reject, workers end. The executor is unusable after. */
  dispose(): void;
}

/** Weight of the newest measure in an executor's running mean of a task's time (`taskMs`). */
const TASK_MS_WEIGHT = 0.2;

/** The running mean of a task's time after one more measure of `ms`: what an executor reports as `taskMs`. */
export function nextTaskMs(mean: number | undefined, ms: number): number {
  return mean === undefined ? ms : mean + TASK_MS_WEIGHT * (ms - mean);
}

/** The rejection of a task stopped because its signal aborted (revoked, disconnected). */
export const taskRevoked = (): TaskRunError =>
  new TaskRunError(taskFailure('TaskRevoked', 'the task was stopped before it finished (revoked, or the connection dropped)'));

/** The rejection of a task that ran past its deadline. */
export const taskTimedOut = (timeoutMs: number): TaskRunError =>
  new TaskRunError(taskFailure('TaskTimeout', `the task ran longer than its limit of ${timeoutMs} ms and was stopped`));

/** The rejection of tasks still running or waiting when their executor is disposed. */
export const executorDisposed = (): TaskRunError =>
  new TaskRunError(taskFailure('TaskRevoked', 'the volunteer stopped its workers'));

/** A slot count clamped to what a volunteer may announce. */
export function clampSlots(slots: number, max: number): number {
  return Number.isFinite(slots) ? Math.min(max, Math.max(0, Math.floor(slots))) : 0;
}
