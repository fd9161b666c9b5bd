/**
 * The order a job's result is shown in, top keys first: the dashboard's result table and
 * the CLI's "top 20" both use it, so the two agree.
 */
import type { KeyValue } from './job.ts';
import { compareKeys, isKey } from './keys.ts';

/** How the result table is ordered; the direction names match `aria-sort`. */
export interface ResultSort {
  by: 'key' | 'value';
  direction: 'ascending' | 'descending';
}

/** Highest values first: for counts, the top keys. */
export const DEFAULT_RESULT_SORT: ResultSort = { by: 'value', direction: 'descending' };

/**
 * Orders key-like values (numbers, strings, booleans and arrays of them: counts, words,
 * lists of names) by the key order, and anything else by its JSON text, so that every
 * result gets a stable order.
 */
function compareValues(a: unknown, b: unknown): number {
  if (isKey(a) && isKey(b)) return compareKeys(a, b);
  const textA = JSON.stringify(a) ?? '';
  const textB = JSON.stringify(b) ?? '';
  return textA < textB ? -1 : textA > textB ? 1 : 0;
}

/**
 * A sorted copy of `pairs`. By value, values that cannot be keys (objects, null) come
 * after the others in either direction, so "top values first" starts with numbers;
 * equal values fall back to key order, ascending, whatever the direction.
 */
export function orderResult(pairs: readonly KeyValue[], sort: ResultSort): KeyValue[] {
  const sign = sort.direction === 'ascending' ? 1 : -1;
  if (sort.by === 'key') return pairs.toSorted(([keyA], [keyB]) => sign * compareKeys(keyA, keyB));
  return pairs.toSorted(([keyA, valueA], [keyB, valueB]) => {
    const aIsKey = isKey(valueA);
    if (aIsKey !== isKey(valueB)) return aIsKey ? -1 : 1;
    return sign * compareValues(valueA, valueB) || compareKeys(keyA, keyB);
  });
}

/** What a cell shows: strings and numbers as they are, anything else as JSON. */
export function cellText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}
