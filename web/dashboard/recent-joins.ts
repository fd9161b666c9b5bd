import type { VolunteerSummary } from '../../shared/job.ts';

/** The window "joined in the last minute" counts over, in ms. */
export const RECENT_JOIN_WINDOW_MS = 60_000;

export interface RecentJoins {
  /** Volunteers connected now who joined within the window before `nowMs`. */
  count: number;
  /**
   * When the count next drops by itself, as the oldest of those joins leaves the
   * window, in ms since the epoch; undefined while the count is 0.
   */
  nextDropAtMs: number | undefined;
}

/**
 * How many of the connected volunteers joined within `windowMs` before `nowMs`.
 * `connectedAtMs` is the coordinator's clock and `nowMs` the page's: a join stamped in
 * the page's future (its clock runs behind the coordinator's) counts as just now rather
 * than being lost, so a skewed clock can only keep a join counted longer, never hide it.
 */
export function recentJoins(volunteers: readonly Pick<VolunteerSummary, 'connectedAtMs'>[], nowMs: number, windowMs = RECENT_JOIN_WINDOW_MS): RecentJoins {
  let count = 0;
  let oldestAtMs = Infinity;
  for (const { connectedAtMs } of volunteers) {
    if (nowMs - connectedAtMs >= windowMs) continue;
    count++;
    oldestAtMs = Math.min(oldestAtMs, connectedAtMs);
  }
  return { count, nextDropAtMs: count === 0 ? undefined : oldestAtMs + windowMs };
}
