import { describe, expect, it } from 'vitest';
import { canonicalKey, compareKeys, isKey, MAX_KEY_DEPTH, type Key } from './keys.ts';

describe('isKey depth', () => {
  it('refuses arrays nested deeper than MAX_KEY_DEPTH instead of overflowing the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(isKey(deep)).toBe(false);
    let ok: unknown = 'x';
    for (let i = 0; i < MAX_KEY_DEPTH; i++) ok = [ok];
    expect(isKey(ok)).toBe(true);
    expect(isKey([ok])).toBe(false);
  });
});

describe('isKey', () => {
  it.each([
    ['a string', 'word', true],
    ['an empty string', '', true],
    ['a number', 42, true],
    ['a boolean', false, true],
    ['an array of keys', ['a', 1, [true]], true],
    ['NaN', Number.NaN, false],
    ['Infinity', Number.POSITIVE_INFINITY, false],
    ['null', null, false],
    ['undefined', undefined, false],
    ['an object', { a: 1 }, false],
    ['an array holding an object', ['a', {}], false],
  ])('%s -> %s', (_name, value, expected) => {
    expect(isKey(value)).toBe(expected);
  });
});

describe('canonicalKey', () => {
  it('tells apart keys that print alike', () => {
    const keys: Key[] = ['1', 1, 'true', true, '["a"]', ['a'], '"a', 'a'];
    expect(new Set(keys.map(canonicalKey)).size).toBe(keys.length);
  });
  it('folds -0 into 0, as equal keys must be', () => {
    expect(canonicalKey(-0)).toBe(canonicalKey(0));
  });
});

describe('compareKeys', () => {
  it('orders booleans, numbers, strings, then arrays', () => {
    const keys: Key[] = [['a'], 'b', 10, true, 'a', 2, false, ['a', 1], []];
    expect([...keys].sort(compareKeys)).toEqual([false, true, 2, 10, 'a', 'b', [], ['a'], ['a', 1]]);
  });
  it('orders strings by UTF-16 code units, not locale', () => {
    expect(['b', 'B', 'a', 'é', ' '].sort(compareKeys)).toEqual([' ', 'B', 'a', 'b', 'é']);
  });
  it('is zero only for equal keys', () => {
    expect(compareKeys(['x', 1], ['x', 1])).toBe(0);
    expect(compareKeys(1, 1)).toBe(0);
    expect(compareKeys('1', 1)).not.toBe(0);
  });
});
