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
});
