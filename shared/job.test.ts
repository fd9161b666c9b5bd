import { describe, expect, it } from 'vitest';
import { DEFAULT_SPLIT_BYTES, defaultReducers, defaultRecordsPerTask, defaultSplitBytes } from './job.ts';

describe('defaults', () => {
  it('picks R as the square root of the map tasks, within 1..64', () => {
    expect([1, 2, 4, 10, 100, 10_000].map(defaultReducers)).toEqual([1, 2, 2, 4, 10, 64]);
  });
  it('aims for about 1,000 map tasks', () => {
    expect([1, 999, 1000, 100_000, 1e9].map(defaultRecordsPerTask)).toEqual([1, 1, 1, 100, 10_000]);
  });
  it('cuts text into about four rounds of the slots connected, at least 16 splits, each 1 to 16 MiB', () => {
    const MiB = 1024 * 1024;
    expect(defaultSplitBytes(0, 0)).toBe(DEFAULT_SPLIT_BYTES.min);
    expect(defaultSplitBytes(10 * MiB, 2)).toBe(MiB);
    expect(defaultSplitBytes(160 * MiB, 2)).toBe(10 * MiB);
    expect(defaultSplitBytes(160 * MiB, 10)).toBe(4 * MiB);
    expect(defaultSplitBytes(160 * MiB, 1000)).toBe(MiB);
    expect(defaultSplitBytes(10_000 * MiB, 4)).toBe(16 * MiB);
  });
});
