import { describe, expect, it } from 'vitest';
import { defaultReducers, defaultRecordsPerTask } from './job.ts';

describe('defaults', () => {
  it('picks R as the square root of the map tasks, within 1..64', () => {
    expect([1, 2, 4, 10, 100, 10_000].map(defaultReducers)).toEqual([1, 2, 2, 4, 10, 64]);
  });
  it('aims for about 1,000 map tasks', () => {
    expect([1, 999, 1000, 100_000, 1e9].map(defaultRecordsPerTask)).toEqual([1, 1, 1, 100, 10_000]);
  });
});
