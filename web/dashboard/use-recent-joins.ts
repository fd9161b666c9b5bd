import { useEffect, useState } from 'react';
import type { VolunteerSummary } from '../../shared/job.ts';
import { recentJoins } from './recent-joins.ts';

/**
 * How many of `volunteers` joined in the last minute, kept current as time passes: the
 * feed only sends a snapshot when something changes, so a quiet cluster would otherwise
 * show its last joins forever. The page wakes exactly when the count next drops, not on
 * a fixed tick, and counts again whenever a new snapshot comes.
 */
export function useRecentJoins(volunteers: readonly VolunteerSummary[]): number {
  // Only its changes matter: each one renders the component, which reads the clock again.
  const [wakes, setWakes] = useState(0);
  const { count, nextDropAtMs } = recentJoins(volunteers, Date.now());

  useEffect(() => {
    if (nextDropAtMs === undefined) return;
    const timer = setTimeout(() => setWakes((n) => n + 1), Math.max(0, nextDropAtMs - Date.now()));
    return () => clearTimeout(timer);
    // `wakes` is a dependency so that a timer that fires a millisecond early (the clock
    // it is measured on is not Date.now's) is set again rather than left spent.
  }, [nextDropAtMs, wakes]);

  return count;
}
