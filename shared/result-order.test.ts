import { describe, expect, it } from 'vitest';
import type { KeyValue } from './job.ts';
import { cellText, DEFAULT_RESULT_SORT, orderResult } from './result-order.ts';

const counts: KeyValue[] = [
  ['dog', 2],
  ['The', 2],
  ['fox', 5],
  ['a', 1],
];

describe('orderResult', () => {
  it.each([
    ['value descending (the default): top keys first, ties by key', DEFAULT_RESULT_SORT, ['fox', 'The', 'dog', 'a']],
    ['value ascending: ties still by key ascending', { by: 'value', direction: 'ascending' }, ['a', 'The', 'dog', 'fox']],
    ['key ascending: by code unit, capitals first', { by: 'key', direction: 'ascending' }, ['The', 'a', 'dog', 'fox']],
    ['key descending', { by: 'key', direction: 'descending' }, ['fox', 'dog', 'a', 'The']],
  ] as const)('%s', (_name, sort, keys) => {
    expect(orderResult(counts, sort).map(([key]) => key)).toEqual(keys);
  });

  it('leaves its input alone', () => {
    const copy = structuredClone(counts);
    orderResult(counts, DEFAULT_RESULT_SORT);
    expect(counts).toEqual(copy);
  });

  it('orders numeric keys numerically, not as text', () => {
    const pairs: KeyValue[] = [[10, 'x'], [9, 'y'], [100, 'z']];
    expect(orderResult(pairs, { by: 'key', direction: 'ascending' }).map(([key]) => key)).toEqual([9, 10, 100]);
  });

  it('puts values that cannot be keys last in both directions', () => {
    const pairs: KeyValue[] = [['object', { n: 1 }], ['none', null], ['three', 3], ['seven', 7]];
    expect(orderResult(pairs, { by: 'value', direction: 'descending' }).map(([key]) => key)).toEqual([
      'seven', 'three', 'object', 'none',
    ]);
    expect(orderResult(pairs, { by: 'value', direction: 'ascending' }).map(([key]) => key)).toEqual([
      'three', 'seven', 'none', 'object',
    ]);
  });
});

describe('cellText', () => {
  it.each([
    ['word', 'word'],
    [' ', ' '],
    [42, '42'],
    [true, 'true'],
    [['a.txt', 'b.txt'], '["a.txt","b.txt"]'],
    [{ n: 1 }, '{"n":1}'],
    [null, 'null'],
  ])('shows %j as %j', (value, text) => {
    expect(cellText(value)).toBe(text);
  });
});
