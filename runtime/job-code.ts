/**
 * What the task runtime does around every call into job code and every value job code
 * hands back: failures relabelled with where they happened, values JSON would mangle
 * refused where they were produced. Shared by the map side (map-groups.ts) and the
 * task entry points (task-runtime.ts).
 */
import { findUnencodable, JSON_VALUE_RULE } from './json-value.ts';
import { TaskRunError, toTaskError } from './task-error.ts';

/** Re-throws a failure of job code with its name and stack, the message saying where it happened. */
export function inJobCode(thrown: unknown, where: string): TaskRunError {
  const error = toTaskError(thrown);
  return new TaskRunError({ ...error, message: `${error.message} (in ${where})` });
}

/** A string, number, boolean or null: JSON carries it as is (NaN as null, as JSON always has). */
export const isJsonPrimitive = (value: unknown): boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null;

/**
 * Refuses a value JSON would mangle or refuse (json-value.ts) where the job produced it,
 * so the error names the record or key. `source` says where and how, e.g.
 * `['reduce of key "k"', 'returned a value']`; it is built only on failure. A getter
 * that throws while the value is read is job code failing, and labelled as such.
 */
export function checkEncodable(value: unknown, source: () => [where: string, produced: string]): void {
  let problem: string | undefined;
  try {
    problem = findUnencodable(value);
  } catch (error) {
    const [where, produced] = source();
    throw inJobCode(error, `${where}, in a getter of the value it ${produced.replace(/^(\w+) a value/, '$1')}`);
  }
  if (problem !== undefined) {
    const [where, produced] = source();
    throw new TypeError(`${where} ${produced} that JSON cannot carry: ${problem}; ${JSON_VALUE_RULE}`);
  }
}
