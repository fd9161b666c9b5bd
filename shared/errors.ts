/**
 * The two catalogues of errors, each documented in docs/errors.md (a test holds the two
 * together):
 *
 * - `ERROR_CODES`: why the coordinator refused a request, over HTTP (`HttpErrorBody`)
 *   or in a Socket.IO ack (`WireError`).
 * - `TASK_FAILURES`: the names tabreduce itself gives a task that produced no output.
 *   A task failure's name is otherwise the job code's own (`RangeError`, `TypeError`...).
 */

/**
 * The catalogue of error codes. Every error the coordinator reports over HTTP or in a
 * Socket.IO ack carries one of these codes; the HTTP status lives here too so the API
 * and its documentation cannot drift apart.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, meaning: 'The request body is not valid JSON or does not match the schema.' },
  BAD_JOB_SOURCE: { status: 400, meaning: 'The job module does not parse or does not export map and reduce.' },
  BAD_INPUT: { status: 400, meaning: 'The job input is empty, malformed or too large.' },
  NOT_SUPPORTED: { status: 400, meaning: 'The request asks for a feature this coordinator does not offer.' },
  UNAUTHORIZED: { status: 401, meaning: 'A submit token is configured and the request did not present it.' },
  FORBIDDEN: { status: 403, meaning: 'A volunteer may not do this: it lost too many votes (its results are refused), or asked for code of a job it runs no task of.' },
  NOT_FOUND: { status: 404, meaning: 'No such job or route.' },
  METHOD_NOT_ALLOWED: { status: 405, meaning: 'The route exists but not with this HTTP method.' },
  CONFLICT: { status: 409, meaning: 'The job is not in a state that allows this (e.g. no result yet).' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The request body exceeds the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The request body must be application/json.' },
  LEASE_INVALID: { status: 409, meaning: 'The lease is unknown, expired, or belongs to another volunteer.' },
  BAD_RESULT: { status: 400, meaning: 'A volunteer sent a task result that does not match the schema or the task.' },
  NOT_READY: { status: 409, meaning: 'The volunteer must say hello before asking for work.' },
  RATE_LIMITED: { status: 429, meaning: 'The connection sends events faster than the coordinator allows.' },
  INTERNAL: { status: 500, meaning: 'An unexpected error inside the coordinator.' },
  INSUFFICIENT_STORAGE: { status: 507, meaning: "The coordinator's disk is full, or below its free-space floor: nothing was stored; the message names the directory and what is free." },
} as const;

/** A stable error code: one key of `ERROR_CODES`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` is one of the coordinator's codes, e.g. in a body that may come from a proxy instead. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The error half of every Socket.IO ack (`Ack` in protocol.ts). */
export interface WireError {
  code: ErrorCode;
  /** What is wrong, for a person: one line, no stable wording. */
  message: string;
}

/**
 * The JSON body of every HTTP error the API sends (4xx and 5xx, under /api). The
 * contract (docs/http-api.md) promises `{"error": "..."}`; `code` is tabreduce's
 * addition, so a program can tell refusals apart without reading the message.
 */
export interface HttpErrorBody {
  /** What is wrong, for a person: one line, no stable wording. */
  error: string;
  code: ErrorCode;
}

/** An error with a stable code, thrown inside the coordinator and turned into a WireError at the edge. */
export class TabreduceError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'TabreduceError';
    this.code = code;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
  /** The refusal as a Socket.IO ack carries it. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
  /** The refusal as the body of an HTTP error answer. */
  toHttpBody(): HttpErrorBody {
    return { error: this.message, code: this.code };
  }
}

/** Anything thrown, as an ack carries it: a `TabreduceError` as itself, anything else (a bug) as INTERNAL. */
export function toWireError(error: unknown): WireError {
  if (error instanceof TabreduceError) return error.toWire();
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Why a task produced no output: a throw inside job code (map, reduce, combine or module
 * set-up), or one of `TASK_FAILURES`.
 */
export interface TaskError {
  /** The job code's error name (free-form, e.g. `RangeError`), or a `TaskFailureName`. */
  name: string;
  message: string;
  /** The stack of what the job code threw, when that was an Error. */
  stack?: string;
}

/**
 * The names tabreduce gives a task failure that is not the job code's own throw: a
 * second catalogue beside `ERROR_CODES`, for task failures rather than refusals.
 * `assignedBy` says which side names it: the coordinator (in the task's state) or the
 * volunteer (reported with `task:fail`, so an honest volunteer's word).
 */
export const TASK_FAILURES = {
  LeaseLost: {
    assignedBy: 'coordinator',
    meaning: 'The volunteer running the task disconnected, stopped answering, let its lease expire or was struck out before it answered; the message says which.',
  },
  NoQuorum: {
    assignedBy: 'coordinator',
    meaning: 'A replicated task reached its most answers without enough of them agreeing: the job code may not be deterministic, or volunteers lie. It is not retried.',
  },
  TaskTimeout: {
    assignedBy: 'volunteer',
    meaning: "The task ran longer than its limit (the assignment's timeoutMs) and the volunteer stopped it, ending its worker.",
  },
  TaskRevoked: {
    assignedBy: 'volunteer',
    meaning: 'The volunteer stopped the task before it finished: the coordinator revoked it, the connection dropped, or the volunteer stopped its workers. The volunteer does not report a run it stopped, so the coordinator normally never sees this name.',
  },
  WorkerCrashed: {
    assignedBy: 'volunteer',
    meaning: 'The worker running the task failed to start, crashed, or could not be called (an input it cannot receive); the volunteer replaced it.',
  },
  JobSourceUnavailable: {
    assignedBy: 'volunteer',
    meaning: "The volunteer could not fetch the job's code: job:source was refused or went unanswered.",
  },
  InputUnavailable: {
    assignedBy: 'volunteer',
    meaning: "The volunteer could not fetch the task's input from its `url` (the lease ended, or the coordinator could not read the file).",
  },
} as const satisfies Record<string, { assignedBy: 'coordinator' | 'volunteer'; meaning: string }>;

/** A name tabreduce itself gives a task failure: one key of `TASK_FAILURES`. */
export type TaskFailureName = keyof typeof TASK_FAILURES;

/**
 * A task failure of one of the catalogued kinds, e.g. `taskFailure('TaskTimeout', ...)`.
 * The one way the system names a failure, so a misspelt name fails to compile.
 */
export function taskFailure<Name extends TaskFailureName>(name: Name, message: string): TaskError & { name: Name } {
  return { name, message };
}
