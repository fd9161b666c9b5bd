import { describe, expect, it } from 'vitest';
import { ConnectionGuard } from './connection-guard.ts';

const limits = { eventsPerSecond: 10, burst: 5, maxAbuse: 3, abuseWindowMs: 1000 };

describe('ConnectionGuard', () => {
  it('lets a burst through, then the refill rate', () => {
    const guard = new ConnectionGuard(limits, 0);
    expect(Array.from({ length: 7 }, () => guard.allow(0))).toEqual([true, true, true, true, true, false, false]);
    expect(guard.allow(100)).toBe(true); // 100 ms at 10/s: one more
    expect(guard.allow(100)).toBe(false);
    expect(Array.from({ length: 6 }, () => guard.allow(10_000)).filter(Boolean).length).toBe(5); // refills to the burst, no more
  });

  it('drops a connection after maxAbuse abusive events within the window, not spread beyond it', () => {
    const spread = new ConnectionGuard(limits, 0);
    expect([spread.abused(0), spread.abused(600), spread.abused(1200), spread.abused(1800)]).toEqual([false, false, false, false]);
    const dense = new ConnectionGuard(limits, 0);
    expect([dense.abused(0), dense.abused(10), dense.abused(20)]).toEqual([false, false, true]);
  });
});
