/**
 * The CLI's exit codes, one meaning each, so scripts can branch on them, and the one
 * place that turns any failure into a code and a one-line message that says what to do.
 */
import { ApiError } from '../client/api-client.ts';
import { InvalidJobError, JobFailedError, LocalTaskError } from '../client/errors.ts';

export const EXIT = {
  /** Done: the job was submitted, succeeded, cancelled as asked, listed... */
  OK: 0,
  /** The job failed (a task's error, after its retries; in a local run, at once) or was cancelled. */
  JOB_FAILED: 1,
  /** The command line is wrong: unknown command or option, a missing or malformed argument. */
  USAGE: 2,
  /** The coordinator cannot be reached, or it failed (5xx). */
  UNREACHABLE: 3,
  /** The coordinator wants a submit token and got none, or the wrong one. */
  AUTH: 4,
  /** Refused: a bad job module, an unreadable input file, input the coordinator rejects, an unknown job id, a port in use. */
  REJECTED: 5,
  /** The job has no result yet: it is still queued or running. */
  NOT_READY: 6,
  /** A bug in tabreduce itself (sysexits' EX_SOFTWARE). */
  INTERNAL: 70,
  /** Stopped with Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The meaning of each code, for `tabreduce --help` and the README. */
export const EXIT_MEANINGS: [ExitCode, string][] = [
  [EXIT.OK, 'success'],
  [EXIT.JOB_FAILED, 'the job failed or was cancelled'],
  [EXIT.USAGE, 'usage error: unknown command or option, missing or malformed argument'],
  [EXIT.UNREACHABLE, 'the coordinator cannot be reached, or failed (5xx)'],
  [EXIT.AUTH, 'the coordinator refused the submit token (missing or wrong)'],
  [EXIT.REJECTED, 'refused: bad job module or input file, input the coordinator rejects, unknown job, port in use'],
  [EXIT.NOT_READY, 'the job has no result yet (still queued or running)'],
  [EXIT.INTERNAL, 'a bug in tabreduce itself: please report it with the message'],
  [EXIT.INTERRUPTED, 'interrupted with Ctrl-C (a submitted job keeps running)'],
];

/** A failure the CLI reports as `tabreduce: <message>` and ends with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Extra lines printed after the message, e.g. the failing task's stack. */
  readonly details: string[];

  constructor(exitCode: ExitCode, message: string, details: string[] = []) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** A wrong command line: the message names the problem, and the help to read. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(EXIT.USAGE, message);
    this.name = 'UsageError';
  }
}

/** What the CLI was talking to, for messages that say what to do. */
export interface Target {
  url: string;
  tokenGiven: boolean;
}

/** Turns anything a command threw into a CliError with its exit code and one-line message. */
export function toCliError(error: unknown, target: Target | undefined): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof JobFailedError || error instanceof LocalTaskError) {
    const stack = error.taskError?.stack?.split('\n').slice(1).map((line) => `  ${line.trim()}`) ?? [];
    return new CliError(EXIT.JOB_FAILED, error.message, stack);
  }
  if (error instanceof InvalidJobError) return new CliError(EXIT.REJECTED, error.message);
  if (error instanceof ApiError) return fromApiError(error, target);
  const { name, message } = error as { name?: string; message?: string };
  if (name === 'AbortError') return new CliError(EXIT.INTERRUPTED, 'interrupted');
  return new CliError(EXIT.INTERNAL, `unexpected failure, a bug in tabreduce: ${name ?? 'Error'}: ${message ?? String(error)}`);
}

function fromApiError(error: ApiError, target: Target | undefined): CliError {
  const where = target ? ` at ${target.url}` : '';
  if (error.status === 0) {
    return new CliError(
      EXIT.UNREACHABLE,
      `${error.message}: is it running? Start one with \`tabreduce serve\`, or point --url (or TABREDUCE_URL) at it`,
    );
  }
  if (error.status === 401) {
    return new CliError(
      EXIT.AUTH,
      target?.tokenGiven
        ? `the coordinator${where} refused the submit token: check --token (or TABREDUCE_TOKEN)`
        : `the coordinator${where} needs a submit token: pass --token or set TABREDUCE_TOKEN`,
    );
  }
  // A full disk is the operator's to fix, and the message already says where: no log to read.
  if (error.code === 'INSUFFICIENT_STORAGE') return new CliError(EXIT.UNREACHABLE, `the coordinator${where} is out of disk space: ${error.message}`);
  if (error.status >= 500) return new CliError(EXIT.UNREACHABLE, `the coordinator${where} failed: ${error.message} (see its log)`);
  if (error.code === 'NOT_FOUND') return new CliError(EXIT.REJECTED, `${error.message}${where}: \`tabreduce list\` shows the jobs there`);
  return new CliError(EXIT.REJECTED, `the coordinator${where} refused: ${error.message}`);
}

/** One line: a message from anywhere (a server, job code) never breaks the "one line" promise. */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();
