/**
 * Failures of job code as they travel: a `TaskError` (plain data, crosses Comlink and
 * Socket.IO) and `TaskRunError` (a real Error built from one, what executors reject with).
 */
import type { TaskError } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';

/** Longest error name a volunteer may report, in characters (the coordinator's schema limit). */
const NAME_CHARS = 200;

/** Cuts `text` to at most `limit` characters, marking the cut. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const marker = '… (truncated)';
  return text.slice(0, Math.max(0, limit - marker.length)) + marker;
}

/** A short, single-line rendering of any value for error messages. Never throws. */
export function preview(value: unknown, limit = 80): string {
  let text: string;
  try {
    if (typeof value === 'bigint') text = `${value}n`;
    else if (typeof value === 'function') text = `a function (${value.name || 'anonymous'})`;
    else if (value === undefined) text = 'undefined';
    else if (typeof value === 'number') text = String(value); // JSON.stringify(NaN) would say null
    else if (typeof value === 'symbol') text = value.toString();
    else text = JSON.stringify(value) ?? String(value);
  } catch {
    // Cycles and BigInts nested in objects land here.
    text = Object.prototype.toString.call(value);
  }
  return truncate(text, limit);
}

/**
 * Turns anything that was thrown into a `TaskError` that fits the coordinator's limits:
 * name, message and stack of an Error (or of any object that looks like one), else the
 * thrown value rendered as the message. Never throws, even for hostile getters.
 */
export function toTaskError(thrown: unknown): TaskError {
  try {
    if (typeof thrown === 'object' && thrown !== null && 'message' in thrown) {
      // Duck-typed rather than `instanceof Error`: errors from another realm (a job
      // module, a worker) are Errors without sharing this realm's Error.prototype.
      const { name, message, stack } = thrown as { name?: unknown; message?: unknown; stack?: unknown };
      const error: TaskError = {
        name: truncate(typeof name === 'string' && name ? name : 'Error', NAME_CHARS),
        message: truncate(typeof message === 'string' ? message : preview(message), LIMITS.errorMessageChars),
      };
      if (typeof stack === 'string' && stack) error.stack = truncate(stack, LIMITS.errorStackChars);
      return error;
    }
    const message = typeof thrown === 'string' ? thrown : `a non-error value was thrown: ${preview(thrown)}`;
    return { name: 'Error', message: truncate(message, LIMITS.errorMessageChars) };
  } catch {
    return { name: 'Error', message: 'an error was thrown that could not be read' };
  }
}

/**
 * An Error carrying a `TaskError`'s name, message and stack: what a `TaskExecutor`
 * rejects with, so `toTaskError(rejection)` gives back exactly what the task reported.
 */
export class TaskRunError extends Error {
  constructor(error: TaskError) {
    super(error.message);
    // Assigned after super so the remote name wins over 'Error'.
    this.name = error.name;
    // The local stack would point at the executor, not at the job code that failed;
    // an empty stack is dropped by toTaskError.
    this.stack = error.stack ?? '';
  }

  /** The plain-data form, as reported to the coordinator. */
  toTaskError(): TaskError {
    return toTaskError(this);
  }
}
