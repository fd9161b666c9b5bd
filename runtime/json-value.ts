/**
 * Finds what in a job's value JSON would lose without a word. Values cross the wire as
 * JSON, and `JSON.stringify` throws on a BigInt or a cycle but silently turns a
 * function or a symbol into `null` (in an array) or nothing (in an object), and a Map
 * or a Set into `{}`: a job returning one would "succeed" with a wrong answer. The
 * contract says values are structured-cloneable and JSON-representable; these are the
 * values that break it.
 *
 * The walk costs one `typeof` for a primitive, the common case (counts, strings); only
 * objects are walked, which costs about a quarter of stringifying them (measured on
 * Node 20: 82 ms to stringify 100k small objects, 21 ms more to walk them). A
 * `JSON.stringify` replacer would catch the same things at 3.5 times the cost of a
 * plain stringify, on every value.
 */

/** What to tell the author of a job whose value JSON cannot carry. */
export const JSON_VALUE_RULE =
  'values must be plain JSON data: strings, numbers, booleans, null, arrays and plain objects ' +
  '(no functions, symbols, BigInts, Maps, Sets or cycles)';

/**
 * Describes the first part of `value` that JSON cannot carry faithfully, e.g.
 * `"a function (f) at .handler"` or `"a cycle at [2].parent"`; undefined when there
 * is none. Objects with a `toJSON` method (a Date) are taken at their word and not
 * walked. Reads properties, so a hostile getter may throw: callers treat that as job
 * code failing. `undefined` inside objects and arrays is let through, as JSON drops it.
 */
export function findUnencodable(value: unknown): string | undefined {
  return check(value, new Set(), '');
}

function check(value: unknown, ancestors: Set<object>, path: string): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'object':
      return value === null ? undefined : walk(value, ancestors, path);
    case 'function':
      return spaced('a function', value.name ? `(${value.name})` : '', at(path));
    case 'bigint':
      return spaced('a BigInt', `(${value}n)`, at(path));
    default:
      return spaced(`a ${typeof value}`, at(path));
  }
}

function walk(object: object, ancestors: Set<object>, path: string): string | undefined {
  if (ancestors.has(object)) return spaced('a cycle', at(path), '(the value contains itself)');
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (object instanceof Map) return spaced('a Map', at(path), '(JSON would turn it into {}; use a plain object or an array of pairs)');
  if (object instanceof Set) return spaced('a Set', at(path), '(JSON would turn it into {}; use an array)');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const found = check(object[i], ancestors, `${path}[${i}]`);
        if (found) return found;
      }
    } else {
      for (const key of Object.keys(object)) {
        const found = check((object as Record<string, unknown>)[key], ancestors, `${path}.${key}`);
        if (found) return found;
      }
    }
    return undefined;
  } finally {
    // Only the current path counts: the same object twice side by side is no cycle.
    ancestors.delete(object);
  }
}

const at = (path: string): string => (path ? `at ${path}` : '');
const spaced = (...parts: string[]): string => parts.filter(Boolean).join(' ');
