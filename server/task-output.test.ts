import { describe, expect, test } from 'vitest';
import { packParts } from '../shared/byte-packing.ts';
import type { Key } from '../shared/keys.ts';
import { partitionOf } from '../shared/partition.ts';
import { checkMapOutput, checkReduceOutput } from './task-output.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const R = 3;
/** Keys that fall in each of R partitions, found with the shared partitioner. */
const keysOf = (partition: number, count = 2): Key[] => {
  const keys: Key[] = [];
  for (let i = 0; keys.length < count; i++) if (partitionOf(`k${i}`, R) === partition) keys.push(`k${i}`);
  return keys;
};
const packed = (blocks: unknown[]) => packParts(blocks.map((block) => (block instanceof Uint8Array ? block : encode(block))));

describe('checkMapOutput', () => {
  const good = [0, 1, 2].map((p) => keysOf(p).map((key) => [key, [1, 2]]));

  test('accepts well-formed blocks and returns one copy per partition', () => {
    const { bytes, offsets } = packed(good);
    const blocks = checkMapOutput(bytes, offsets, R);
    expect(blocks.map((block) => JSON.parse(new TextDecoder().decode(block)))).toEqual(good);
    expect(blocks[0]!.buffer).not.toBe(bytes.buffer);
  });

  test.each([
    ['not an array', { a: 1 }, /partition 0 has the wrong shape: not an array/],
    ['an entry that is not a pair', [['k']], /entry #0 is not a \[key, values\[\]\] pair/],
    ['an object key', [[{ a: 1 }, [1]]], /entry #0 is not a \[key, values\[\]\] pair/],
    ['values that are not an array', [[keysOf(0)[0], 1]], /entry #0 is not a \[key, values\[\]\] pair/],
    ['a key of another partition', [[keysOf(1)[0], [1]]], /does not belong in partition 0/],
    ['a key too long', [['k'.repeat(64 * 1024 + 1), [1]]], /key longer than 65536 characters/],
  ])('refuses %s with BAD_RESULT', (_what, block, message) => {
    const { bytes, offsets } = packed([block, [], []]);
    expect(() => checkMapOutput(bytes, offsets, R)).toThrow(message);
    try {
      checkMapOutput(bytes, offsets, R);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('BAD_RESULT');
    }
  });

  test('refuses bytes that are not UTF-8 JSON, and the wrong number of partitions', () => {
    const { bytes, offsets } = packed([new Uint8Array([0xff, 0xfe]), [], []]);
    expect(() => checkMapOutput(bytes, offsets, R)).toThrow(/partition 0 is not UTF-8 JSON/);
    const two = packed([[], []]);
    expect(() => checkMapOutput(two.bytes, two.offsets, R)).toThrow(/needs 3 partitions/);
  });
});

const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('checkReduceOutput', () => {
  const [a, b] = keysOf(1).sort() as [string, string];

  test('accepts sorted pairs of its partition, null values included', () => {
    expect(decode(checkReduceOutput(encode([[a, 1], [b, null]]), 1, R))).toEqual([[a, 1], [b, null]]);
  });

  test.each([
    ['a pair without a value', [[a]], /entry #0 is not a \[key, value\] pair/],
    ['unsorted keys', [[b, 1], [a, 1]], /not sorted by key, or repeats a key/],
    ['a repeated key', [[a, 1], [a, 2]], /not sorted by key, or repeats a key/],
    ['a key of another partition', [[keysOf(0)[0], 1]], /does not belong in partition 1/],
  ])('refuses %s', (_what, pairs, message) => {
    expect(() => checkReduceOutput(encode(pairs), 1, R)).toThrow(message);
  });

  test.each([
    ['space around the array', ` ${JSON.stringify([[a, 1]])}`],
    ['space inside an empty array', '[ ]'],
  ])('refuses %s: the bytes become the result as they are', (_what, text) => {
    expect(() => checkReduceOutput(new TextEncoder().encode(text), 1, R)).toThrow(/no space around it/);
  });
});
