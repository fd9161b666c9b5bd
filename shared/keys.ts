/**
 * Intermediate and output keys: what a job's `map` may emit as the first element of a
 * pair. Keys must group and sort identically in every tab and on the coordinator, so
 * equality is defined on a canonical string form and order on the structured value.
 */

/** A key: a string, a finite number, a boolean, or an array of those (nested arrays too). */
export type Key = string | number | boolean | readonly Key[];

/**
 * How deeply arrays may nest in a key. Far beyond any real key; it keeps the recursive
 * helpers here from overflowing the stack on a hostile one (JSON.parse takes any depth).
 */
export const MAX_KEY_DEPTH = 32;

/** True when `value` is a valid key. NaN, infinities, null, objects and arrays nested too deep are not keys. */
export function isKey(value: unknown, depth = 0): value is Key {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return Array.isArray(value) && depth < MAX_KEY_DEPTH && value.every((item) => isKey(item, depth + 1));
    default:
      return false;
  }
}

/**
 * The canonical string of a key: equal keys give equal strings, different keys give
 * different strings. JSON is unambiguous for these types; -0 is folded into 0 because
 * JSON.stringify(-0) is "0" anyway.
 */
export function canonicalKey(key: Key): string {
  return typeof key === 'string' ? `"${key}` : JSON.stringify(key);
}

const typeRank = (key: Key): number =>
  typeof key === 'boolean' ? 0 : typeof key === 'number' ? 1 : typeof key === 'string' ? 2 : 3;

/**
 * Total order on keys: booleans (false < true), then numbers (numerically), then strings
 * (by UTF-16 code units, so the order is the same in every engine and locale), then
 * arrays (element-wise, shorter first on a common prefix).
 */
export function compareKeys(a: Key, b: Key): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') {
    return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
  }
  const listA = a as readonly Key[];
  const listB = b as readonly Key[];
  const common = Math.min(listA.length, listB.length);
  for (let i = 0; i < common; i++) {
    const order = compareKeys(listA[i]!, listB[i]!);
    if (order !== 0) return order;
  }
  return listA.length - listB.length;
}
