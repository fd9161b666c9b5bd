/**
 * Finds what in a job's value JSON would lose without a word. Values cross the wire as
 * JSON, and `JSON.stringify` throws on a BigInt or a cycle but silently turns a
 * function or a symbol into `null` (in an array) or nothing (in an object), and a Map
 * or a Set into `{}`: a job returning one would "succeed" with a wrong answer. The
 * contract says values are structured-cloneable and JSON-representable; these are the
 * values that break it.
 *
 * The walk costs one `typeof` for a primitive, the common case (counts, strings); only
 * objects are walked, which costs less than stringifying them (Node 20, 100k values:
 * `{ count, sum, name }` 20 ms to walk, 33 ms to stringify; 20-number arrays 35 ms and
 * 32 ms). A `JSON.stringify` replacer would catch the same things at 3.5 times the cost
 * of a plain stringify, on every value. The walk allocates nothing per value: the path to a part
 * (`[2].parent`) is a stack of steps written out only for the part at fault, and the
 * objects above the current one are a short array, not a Set per value (building the
 * path as a string at every step, and that Set, made the 20-number arrays take 66 ms).
 */

/** What to tell the author of a job whose value JSON cannot carry. */
export const JSON_VALUE_RULE =
  'values must be plain JSON data: strings, numbers, booleans, null, arrays and plain objects ' +
  '(no functions, symbols, BigInts, Maps, Sets or cycles)';

/** One walk's state: the objects on the current path (a cycle is one of them again) and the steps to it. */
interface Walk {
  ancestors: object[];
  path: (string | number)[];
}

/** Kept between walks so that checking a value allocates nothing; a walk entered during another (from a getter) makes its own. */
let idle: Walk | undefined = { ancestors: [], path: [] };

/**
 * Describes the first part of `value` that JSON cannot carry faithfully, e.g.
 * `"a function (f) at .handler"` or `"a cycle at [2].parent"`; undefined when there
 * is none. Objects with a `toJSON` method (a Date) are taken at their word and not
 * walked. Reads properties, so a hostile getter may throw: callers treat that as job
 * code failing. `undefined` inside objects and arrays is let through, as JSON drops it.
 */
export function findUnencodable(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return check(value, undefined);
  const walk = idle ?? { ancestors: [], path: [] };
  idle = undefined;
  try {
    return check(value, walk);
  } finally {
    // A walk that found something, or met a throwing getter, leaves its state mid-path.
    walk.ancestors.length = 0;
    walk.path.length = 0;
    idle = walk;
  }
}

function check(value: unknown, walk: Walk | undefined): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'object':
      return value === null ? undefined : visit(value, walk!);
    case 'function':
      return spaced('a function', value.name ? `(${value.name})` : '', at(walk));
    case 'bigint':
      return spaced('a BigInt', `(${value}n)`, at(walk));
    default:
      return spaced(`a ${typeof value}`, at(walk));
  }
}

function visit(object: object, walk: Walk): string | undefined {
  const { ancestors, path } = walk;
  if (ancestors.includes(object)) return spaced('a cycle', at(walk), '(the value contains itself)');
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (object instanceof Map) return spaced('a Map', at(walk), '(JSON would turn it into {}; use a plain object or an array of pairs)');
  if (object instanceof Set) return spaced('a Set', at(walk), '(JSON would turn it into {}; use an array)');
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      path.push(i);
      const found = check(object[i], walk);
      if (found) return found;
      path.pop();
    }
  } else {
    for (const key of Object.keys(object)) {
      path.push(key);
      const found = check((object as Record<string, unknown>)[key], walk);
      if (found) return found;
      path.pop();
    }
  }
  // Only the current path counts: the same object twice side by side is no cycle.
  ancestors.pop();
  return undefined;
}

/** Where the walk is, as `at [2].parent`; '' at the top. */
function at(walk: Walk | undefined): string {
  if (walk === undefined || walk.path.length === 0) return '';
  return `at ${walk.path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('')}`;
}

const spaced = (...parts: string[]): string => parts.filter(Boolean).join(' ');
