/**
 * The beat that drives lease renewal. `VolunteerClient` renews its running tasks'
 * leases on every beat, so what matters is that beats keep coming while the tab is
 * alive, whatever the browser does to the tab's own timers.
 *
 * Why the source of the beat is pluggable: Chromium throttles main-thread timers of
 * hidden tabs. After a few seconds hidden, a page's timers wake at most once a second;
 * after minutes (or 10 s with "quick intensive throttling"), chained timers such as a
 * `setInterval` wake at most once a minute. A renewal interval of leaseMs/3 on the main
 * thread (10 s for the default 30 s lease) would then fire once a minute and a healthy
 * background tab would lose every lease. Timers inside a dedicated Worker are not
 * throttled (Chromium's worker throttling intervention never shipped), and a message
 * from a worker is an ordinary task for the page, not a timer, so it is not throttled
 * either. The browser volunteer therefore takes its beat from a small worker
 * (`startWorkerHeartbeat`); Node, where nothing throttles timers, uses
 * `startTimerHeartbeat`.
 *
 * Not chosen: renewing on job workers' progress messages. A job worker inside a long
 * synchronous `map` or `reduce` cannot post anything until that call returns, so a
 * single slow record would starve renewal, and an idle tab would have no beat at all.
 */

/** A running beat; `stop` ends it for good and is safe to call twice. */
export interface Heartbeat {
  stop(): void;
}

/** Starts calling `onBeat` about every `everyMs` milliseconds until stopped. */
export type StartHeartbeat = (everyMs: number, onBeat: () => void) => Heartbeat;

/** A beat from `setInterval` on the calling thread: for Node, and the fallback when no worker can start. */
export const startTimerHeartbeat: StartHeartbeat = (everyMs, onBeat) => {
  const timer = setInterval(onBeat, everyMs);
  return { stop: () => clearInterval(timer) };
};
