/**
 * The browser's heartbeat: beats come from a dedicated Worker's `setInterval`, which
 * Chromium does not throttle in hidden tabs, and reach the page as messages (see
 * heartbeat.ts for why). If the worker cannot run (a CSP that forbids workers, a
 * browser without module workers), it falls back to the page's own timer: throttled in
 * the background, but better than no renewal at all.
 */
import type { HeartbeatStart } from '../worker/heartbeat-worker.ts';
import { startTimerHeartbeat, type Heartbeat, type StartHeartbeat } from '../../runtime/heartbeat.ts';

/** What the heartbeat needs of a Worker; a real `Worker` fits, and tests pass a stand-in. */
export type HeartbeatWorkerLike = Pick<Worker, 'postMessage' | 'terminate' | 'addEventListener'>;

/**
 * A `StartHeartbeat` backed by a worker from `createWorker` (default: a module Web
 * Worker running heartbeat-worker.ts), one worker per started beat.
 */
export function workerHeartbeat(createWorker: () => HeartbeatWorkerLike = createHeartbeatWorker): StartHeartbeat {
  return (everyMs, onBeat) => {
    let stopped = false;
    let worker: HeartbeatWorkerLike | undefined;
    let fallback: Heartbeat | undefined;
    const useTimerInstead = () => {
      worker?.terminate();
      worker = undefined;
      if (!stopped) fallback ??= startTimerHeartbeat(everyMs, onBeat);
    };
    try {
      worker = createWorker();
      worker.addEventListener('message', (event) => {
        if (!stopped && (event as MessageEvent).data === 'beat') onBeat();
      });
      worker.addEventListener('error', useTimerInstead);
      worker.postMessage({ everyMs } satisfies HeartbeatStart);
    } catch {
      useTimerInstead();
    }
    return {
      stop() {
        stopped = true;
        worker?.terminate();
        worker = undefined;
        fallback?.stop();
      },
    };
  };
}

/** Vite spots this exact `new Worker(new URL(...))` form and bundles the worker. */
function createHeartbeatWorker(): HeartbeatWorkerLike {
  return new Worker(new URL('../worker/heartbeat-worker.ts', import.meta.url), { type: 'module', name: 'tabreduce-heartbeat' });
}
