/**
 * The heartbeat Web Worker: posts `'beat'` every `everyMs` ms after the page sends it
 * `{ everyMs }`. It exists because a worker's timers keep their rate in a hidden tab
 * while the page's own are throttled (see runtime/heartbeat.ts). It runs no job
 * code, so nothing a job does can stall it.
 */

/** What the page sends to start (or re-time) the beat. */
export interface HeartbeatStart {
  everyMs: number;
}

let timer: ReturnType<typeof setInterval> | undefined;

self.addEventListener('message', (event: MessageEvent<HeartbeatStart>) => {
  const everyMs = Number(event.data?.everyMs);
  if (!Number.isFinite(everyMs) || everyMs <= 0) return;
  clearInterval(timer);
  timer = setInterval(() => self.postMessage('beat'), everyMs);
});
