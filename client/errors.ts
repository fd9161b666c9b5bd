/**
 * The errors the Node client rejects with, besides `ApiError` (the coordinator refused
 * a request or could not be reached, see api-client.ts).
 */
import type { TaskError } from '../shared/errors.ts';
import type { JobSummary } from '../shared/job.ts';

/**
 * A job that ended without a result: `failed` (a task's job code threw, timed out or
 * crashed its worker on every attempt) or `cancelled`.
 *
 * For a failed job, `taskError` is what the volunteer reported (name, message and the
 * stack of the job code's throw), and `stack` is that stack too: the client's own
 * frames would only show the polling loop.
 */
export class JobFailedError extends Error {
  readonly jobId: string;
  readonly state: 'failed' | 'cancelled';
  /** The task whose last attempt failed, when the coordinator names one (e.g. `job-…/map/3`). */
  readonly taskId: string | undefined;
  /** The job code's failure as reported by the volunteer; undefined for a cancelled job. */
  readonly taskError: TaskError | undefined;
  /** The job as it ended. */
  readonly job: JobSummary;

  /** `hint`, when given, ends the message: what the caller can do about this failure. */
  constructor(job: JobSummary, hint?: string) {
    const failure = job.error;
    const state = job.state === 'cancelled' ? 'cancelled' : 'failed';
    const what =
      state === 'cancelled'
        ? `job ${job.id} was cancelled`
        : `job ${job.id} failed${failure?.taskId ? ` in task ${failure.taskId}` : ''}: ${
            failure ? `${failure.name}: ${failure.message}` : 'the coordinator gave no reason'
          }`;
    super(hint ? `${what} (${hint})` : what);
    this.name = 'JobFailedError';
    this.jobId = job.id;
    this.state = state;
    this.job = job;
    this.taskId = failure?.taskId;
    this.taskError = failure ? { name: failure.name, message: failure.message, ...(failure.stack ? { stack: failure.stack } : {}) } : undefined;
    if (failure?.stack) this.stack = failure.stack;
  }
}

/** What `InvalidJobError.code` says is wrong, before anything was sent. */
export type InvalidJobCode =
  /** The job module file cannot be read. */
  | 'JOB_FILE'
  /** The job module does not parse, or does not export `map` and `reduce`. */
  | 'BAD_JOB_SOURCE'
  /** A function passed as `map`, `reduce` or `combine` cannot be sent as source text. */
  | 'BAD_JOB_FUNCTION'
  /** An input file cannot be read (missing, a directory, no permission). */
  | 'INPUT_FILE';

/**
 * A job the client refuses before sending it, or whose input could not be read while
 * it was being sent. The message says what is wrong and what to do.
 */
export class InvalidJobError extends Error {
  readonly code: InvalidJobCode;

  constructor(code: InvalidJobCode, message: string) {
    super(message);
    this.name = 'InvalidJobError';
    this.code = code;
  }
}

/**
 * A task of a local run (`runLocal`, `tabreduce run`) whose job code failed: threw,
 * timed out or crashed its worker thread. `taskError` has the job code's name, message
 * and stack; the stack is this error's stack too.
 */
export class LocalTaskError extends Error {
  readonly taskId: string;
  readonly taskError: TaskError;

  constructor(taskId: string, taskError: TaskError) {
    super(`task ${taskId} failed: ${taskError.name}: ${taskError.message}`);
    this.name = 'LocalTaskError';
    this.taskId = taskId;
    this.taskError = taskError;
    if (taskError.stack) this.stack = taskError.stack;
  }
}
