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
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The error half of every ack and the body of every HTTP error. */
export interface WireError {
  code: ErrorCode;
  message: string;
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
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

/** How a failure inside job code (map, reduce, combine or module set-up) is reported. */
export interface TaskError {
  name: string;
  message: string;
  stack?: string;
}
