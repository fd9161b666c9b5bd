import { describe, expect, test } from 'vitest';
import { findUnencodable } from './json-value.ts';

const cycle: Record<string, unknown> = { name: 'loop' };
cycle.self = cycle;
const shared = { n: 1 };

describe('findUnencodable', () => {
  test.each<[string, unknown]>([
    ['a string', 'text'],
    ['a number', 3.5],
    ['NaN (JSON makes it null, as JSON always has)', Number.NaN],
    ['a boolean', false],
    ['null', null],
    ['nested plain data', { list: [1, 'two', { three: [null, true] }], empty: {} }],
    ['undefined inside an object (JSON drops it)', { maybe: undefined }],
    ['the same object twice, side by side', [shared, shared]],
    ['a Date (it has toJSON)', new Date(0)],
    ['an object with no prototype', Object.assign(Object.create(null) as object, { a: 1 })],
  ])('accepts %s', (_, value) => {
    expect(findUnencodable(value)).toBeUndefined();
  });

  test.each<[string, unknown, string]>([
    ['a function', function handler() {}, 'a function (handler)'],
    ['an anonymous function', [() => 1].map((f) => f)[0], 'a function'],
    ['a BigInt', 10n, 'a BigInt (10n)'],
    ['a symbol', Symbol('s'), 'a symbol'],
    ['a nested function', { on: { click: [1, () => {}] } }, 'a function at .on.click[1]'],
    ['a nested BigInt', [[1n]], 'a BigInt (1n) at [0][0]'],
    ['a cycle', cycle, 'a cycle at .self (the value contains itself)'],
    ['a Map', new Map([['a', 1]]), 'a Map (JSON would turn it into {}; use a plain object or an array of pairs)'],
    ['a nested Set', { tags: new Set(['x']) }, 'a Set at .tags (JSON would turn it into {}; use an array)'],
  ])('refuses %s, saying where', (_, value, problem) => {
    expect(findUnencodable(value)).toBe(problem);
  });

  test('lets a hostile getter throw, for the caller to report as job code failing', () => {
    const hostile = {
      get boom(): never {
        throw new Error('gotcha');
      },
    };
    expect(() => findUnencodable(hostile)).toThrow('gotcha');
  });

  test('a walk that stopped at a problem or at a throwing getter leaves nothing behind for the next', () => {
    expect(findUnencodable({ deep: { inside: [1, () => 1] } })).toBe('a function at .deep.inside[1]');
    expect(findUnencodable([shared, { fn: () => 1 }])).toBe('a function (fn) at [1].fn');
    const hostile = {
      child: shared,
      get boom(): never {
        throw new Error('gotcha');
      },
    };
    expect(() => findUnencodable(hostile)).toThrow('gotcha');
    // shared was on the path when the getter threw: it is not an ancestor any more.
    expect(findUnencodable([shared, shared])).toBeUndefined();
    expect(findUnencodable({ late: 10n })).toBe('a BigInt (10n) at .late');
  });

  test('a getter that starts a walk of its own (job code emitting while a value is read) does not disturb the first', () => {
    const inner = { list: [1, cycle] };
    let innerProblem: string | undefined;
    const outer = {
      first: [shared],
      get second(): number {
        innerProblem = findUnencodable(inner);
        return 2;
      },
      third: { back: undefined as unknown },
    };
    outer.third.back = outer;
    expect(findUnencodable(outer)).toBe('a cycle at .third.back (the value contains itself)');
    expect(innerProblem).toBe('a cycle at .list[1].self (the value contains itself)');
  });
});
