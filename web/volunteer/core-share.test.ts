import { describe, expect, test } from 'vitest';
import {
  allocateCores,
  coreLockName,
  coresToRelease,
  coresToWaitFor,
  describeCoreShare,
  parsePresence,
  presenceLockName,
  readLocks,
  shareOf,
  type CoreShareView,
  type TabPresence,
} from './core-share.ts';

const tab = (id: string, wish: number, joinedAtMs = 0, seq = 0): TabPresence => ({ id, joinedAtMs, seq, wish });

describe('allocateCores', () => {
  // [cores, tabs as [id, wish, joinedAtMs], expected shares by id]
  const cases: [string, number, [string, number, number][], Record<string, number>][] = [
    ['one tab gets what it wishes for', 4, [['a', 2, 1]], { a: 2 }],
    ['one tab never gets more than the cores', 2, [['a', 4, 1]], { a: 2 }],
    ['two tabs halve the cores', 4, [['a', 4, 1], ['b', 4, 2]], { a: 2, b: 2 }],
    ['the remainder goes to the oldest tab', 3, [['b', 3, 2], ['a', 3, 1]], { a: 2, b: 1 }],
    ['three tabs on two cores: the newest gets none', 2, [['a', 2, 1], ['b', 2, 2], ['c', 2, 3]], { a: 1, b: 1, c: 0 }],
    ['what a modest tab leaves goes to the others', 4, [['a', 1, 1], ['b', 4, 2]], { a: 1, b: 3 }],
    ['a paused tab (wish 0) gets nothing, the others all of it', 2, [['a', 0, 1], ['b', 2, 2]], { a: 0, b: 2 }],
    ['wishes below the cores leave cores idle', 8, [['a', 2, 1], ['b', 3, 2]], { a: 2, b: 3 }],
    ['a tie in joining time goes by id', 1, [['y', 1, 5], ['x', 1, 5]], { x: 1, y: 0 }],
    ['no cores, no workers', 0, [['a', 2, 1]], { a: 0 }],
    ['four tabs on four cores: one each', 4, [['a', 4, 1], ['b', 4, 2], ['c', 4, 3], ['d', 4, 4]], { a: 1, b: 1, c: 1, d: 1 }],
  ];
  test.each(cases)('%s', (_, cores, tabs, expected) => {
    const shares = allocateCores(cores, tabs.map(([id, wish, joined]) => tab(id, wish, joined)));
    expect(Object.fromEntries(shares)).toEqual(expected);
    const total = [...shares.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(Math.min(cores, tabs.reduce((sum, [, wish]) => sum + wish, 0)));
  });

  test('shares never exceed a wish, sum to what is wanted up to the cores, and differ by at most one among the tabs short of their wish (every mix up to 6 cores and 4 tabs)', () => {
    const wrong: string[] = [];
    for (let cores = 0; cores <= 6; cores++) {
      for (let mix = 0; mix < 7 ** 4; mix++) {
        const wishes = [0, 1, 2, 3].map((i) => Math.floor(mix / 7 ** i) % 7);
        const shares = allocateCores(cores, wishes.map((wish, i) => tab(`t${i}`, wish, i)));
        const got = wishes.map((_, i) => shares.get(`t${i}`)!);
        const short = got.filter((share, i) => share < wishes[i]!);
        const fair =
          got.every((share, i) => share <= wishes[i]!) &&
          got.reduce((a, b) => a + b, 0) === Math.min(cores, wishes.reduce((a, b) => a + b, 0)) &&
          // Whoever is short has at least as much as anyone else, but one.
          (short.length === 0 || Math.max(...got) <= Math.min(...short) + 1);
        if (!fair) wrong.push(`${cores} cores, wishes ${wishes}: ${got}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('shareOf', () => {
  test('counts this tab as it is now, even before the locks show its new wish', () => {
    const seen = [tab('a', 2, 1), tab('me', 2, 2)];
    expect(shareOf(2, seen, tab('me', 2, 2))).toBe(1);
    expect(shareOf(2, seen, tab('me', 0, 2, 1))).toBe(0);
    expect(shareOf(2, [tab('a', 2, 1)], tab('me', 2, 2))).toBe(1);
    expect(shareOf(2, [], tab('me', 2, 2))).toBe(2);
  });
});

describe('lock names', () => {
  test('a presence lock name reads back as its tab', () => {
    const me = tab('k3j9x', 3, 1_700_000_000_123, 7);
    expect(parsePresence(presenceLockName(me))).toEqual(me);
  });

  test.each(['tabreduce-core-0', 'tabreduce-tab:1:a:0', 'tabreduce-tab:1::0:2', 'tabreduce-tab:x:a:0:2', 'tabreduce-tab:1:a:0:-1', 'other'])('%s is no presence', (name) => {
    expect(parsePresence(name)).toBeUndefined();
  });

  test('readLocks: tabs oldest first, the newest lock of a tab changing its wish, the cores held; shared holds (watchers) ignored', () => {
    const a0 = tab('a', 2, 10, 0);
    const a1 = tab('a', 0, 10, 1);
    const b = tab('b', 2, 5);
    const seen = readLocks(
      {
        held: [
          { name: presenceLockName(a1) },
          { name: presenceLockName(a0) },
          { name: presenceLockName(b) },
          { name: coreLockName(1) },
          { name: coreLockName(9) }, // beyond this tab's core count: not one of its cores
          { name: presenceLockName(tab('gone', 2, 1)), mode: 'shared' }, // a watcher's hold after that tab left
          { name: 'something-else' },
          {},
        ],
      },
      4,
    );
    expect(seen.tabs).toEqual([b, a1]);
    expect(seen.lockNames.get('a')).toBe(presenceLockName(a1));
    expect([...seen.heldCores]).toEqual([1]);
  });
});

describe('coresToRelease and coresToWaitFor', () => {
  test('beyond the share, only the cores whose workers are gone', () => {
    expect(coresToRelease(1, [0, 1], 2)).toEqual([]); // both workers still finishing a task
    expect(coresToRelease(1, [0, 1], 1)).toEqual([1]);
    expect(coresToRelease(0, [3, 0, 2], 0)).toEqual([0, 2, 3]);
    expect(coresToRelease(0, [3, 0, 2], 1)).toEqual([2, 3]);
    expect(coresToRelease(2, [0, 1], 0)).toEqual([]);
  });

  test('a tab short of its share waits for every core it lacks', () => {
    expect(coresToWaitFor(2, [1], 4)).toEqual([0, 2, 3]);
    expect(coresToWaitFor(1, [1], 4)).toEqual([]);
    expect(coresToWaitFor(0, [], 2)).toEqual([]);
  });
});

describe('describeCoreShare', () => {
  const base: CoreShareView = { coordinated: true, settled: true, cores: 2, chosen: 2, paused: false, workers: 1, share: 1, otherTabs: 1, othersHold: 1 };
  const cases: [string, Partial<CoreShareView>, string][] = [
    ['alone', { workers: 2, share: 2, otherTabs: 0, othersHold: 0 }, '2 workers, as chosen'],
    ['all it chose, beside other tabs', { cores: 4, workers: 2, share: 2, othersHold: 2 }, "2 workers, as chosen; this browser's other volunteer tab runs 2 of its 4 cores"],
    ['a fair part', {}, "1 worker of the 2 chosen: this browser's other volunteer tab runs 1 of its 2 cores"],
    ['none, with more tabs than cores', { workers: 0, share: 0, otherTabs: 2, othersHold: 2 }, "No workers of the 2 chosen: this browser's 2 other volunteer tabs run 2 of its 2 cores; this tab gets its share when one of them closes or runs fewer"],
    ['handing over', { workers: 2, share: 1 }, '2 workers, 1 once the running task ends: another tab of this browser takes its share of the 2 cores'],
    ['waiting for a core', { workers: 0, share: 1 }, 'No workers, 1 as soon as another tab of this browser hands over a core after its running task'],
    ['paused', { paused: true, workers: 0, share: 0 }, "No workers while paused: this browser's other volunteer tabs may use its cores"],
    ['paused, finishing', { paused: true, workers: 1, share: 0 }, '1 worker until the running task ends, then none while paused'],
    ['not settled', { settled: false, workers: 0 }, "No workers yet: agreeing with this browser's other volunteer tabs on its 2 cores"],
    ['uncoordinated', { coordinated: false, workers: 2 }, '2 workers, as chosen: this browser cannot share its cores among its tabs, so each runs what it is set to'],
  ];
  test.each(cases)('%s', (_, patch, expected) => {
    expect(describeCoreShare({ ...base, ...patch })).toBe(expected);
  });
});
