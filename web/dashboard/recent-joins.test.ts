import { describe, expect, test } from 'vitest';
import { recentJoins } from './recent-joins.ts';

const joinedAt = (...times: number[]) => times.map((connectedAtMs) => ({ connectedAtMs }));

describe('recentJoins', () => {
  // [what, joins at, now, expected count, expected next drop]
  const cases: [string, number[], number, number, number | undefined][] = [
    ['no volunteers', [], 100_000, 0, undefined],
    ['one who just joined', [100_000], 100_000, 1, 160_000],
    ['one who joined 59.999 s ago is still counted', [40_001], 100_000, 1, 100_001],
    ['one who joined exactly a minute ago is not', [40_000], 100_000, 0, undefined],
    ['only the recent ones count; the oldest of them drops first', [10_000, 70_000, 50_000, 95_000], 100_000, 3, 110_000],
    ['a join stamped ahead of this clock counts as just now', [103_000], 100_000, 1, 163_000],
  ];
  test.each(cases)('%s', (_, times, nowMs, count, nextDropAtMs) => {
    expect(recentJoins(joinedAt(...times), nowMs)).toEqual({ count, nextDropAtMs });
  });

  test('the count decays as time passes, each join leaving at its own minute', () => {
    const volunteers = joinedAt(0, 20_000, 40_000);
    expect([40_000, 59_999, 60_000, 80_000, 99_999, 100_000].map((nowMs) => recentJoins(volunteers, nowMs).count)).toEqual([3, 3, 2, 1, 1, 0]);
  });

  test('takes another window', () => {
    expect(recentJoins(joinedAt(0, 5_000), 8_000, 5_000)).toEqual({ count: 1, nextDropAtMs: 10_000 });
  });
});
