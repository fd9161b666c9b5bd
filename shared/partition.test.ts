import { describe, expect, it } from 'vitest';
import type { Key } from './keys.ts';
import { hashString, partitionOf, partitionOfCanonical, partitionOfString } from './partition.ts';
import { canonicalKey } from './keys.ts';

describe('partitionOf', () => {
  const keys: Key[] = ['the', 'The', 'ünïcödé', '😀', 0, 1, -5, 3.25, true, ['a', 1], ''];

  it('is total: every key lands in [0, R)', () => {
    for (const partitions of [1, 2, 3, 7, 64, 1024]) {
      for (const key of keys) {
        const partition = partitionOf(key, partitions);
        expect(Number.isInteger(partition)).toBe(true);
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(partition).toBeLessThan(partitions);
      }
    }
  });

  it('is stable: fixed values that every engine must reproduce', () => {
    // FNV-1a 32 test vectors ("" and "a"), then our keys as they must hash forever.
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
    expect(partitionOf('the', 16)).toBe(partitionOf('the', 16));
    expect(keys.map((key) => partitionOf(key, 7))).toMatchInlineSnapshot(`
      [
        2,
        4,
        2,
        4,
        0,
        2,
        1,
        0,
        2,
        1,
        0,
      ]
    `);
  });

  it('gives a string key the partition of its canonical string, without building it', () => {
    for (const key of ['', 'the', '"', 'ünïcödé', '😀', '\ud800', 'k'.repeat(1000)]) {
      for (const partitions of [1, 7, 64, 1024]) {
        expect(partitionOfString(key, partitions)).toBe(partitionOfCanonical(canonicalKey(key), partitions));
        expect(partitionOf(key, partitions)).toBe(partitionOfCanonical(canonicalKey(key), partitions));
      }
    }
  });

  it('spreads words roughly evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`word${i}`, 8)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});
