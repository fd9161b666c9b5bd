/**
 * The worker heartbeat against stand-in workers: a stand-in that beats like
 * heartbeat-worker.ts, one that fails to start, and one whose constructor throws.
 * The real worker runs in the Playwright tests.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Heartbeat } from '../../runtime/heartbeat.ts';
import { workerHeartbeat, type HeartbeatWorkerLike } from './worker-heartbeat.ts';

/** Beats like heartbeat-worker.ts once told `{ everyMs }`; `fail()` fires an error event as a worker that cannot load would. */
class StandInHeartbeatWorker extends EventTarget implements HeartbeatWorkerLike {
  terminated = false;
  started: unknown;
  #timer: ReturnType<typeof setInterval> | undefined;

  postMessage(message: unknown): void {
    this.started = message;
    const { everyMs } = message as { everyMs: number };
    this.#timer = setInterval(() => this.dispatchEvent(new MessageEvent('message', { data: 'beat' })), everyMs);
  }

  terminate(): void {
    this.terminated = true;
    clearInterval(this.#timer);
  }

  fail(): void {
    clearInterval(this.#timer);
    this.dispatchEvent(new Event('error'));
  }
}

describe('workerHeartbeat', () => {
  let heartbeat: Heartbeat | undefined;
  // Fake timers drive both the stand-in worker and the fallback timer, so "no more
  // beats after stop" is checked by advancing time, not by sleeping.
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    heartbeat?.stop();
    vi.useRealTimers();
  });

  test('forwards the worker\'s beats until stopped, then ends the worker', () => {
    const worker = new StandInHeartbeatWorker();
    let beats = 0;
    heartbeat = workerHeartbeat(() => worker)(10, () => beats++);
    expect(worker.started).toEqual({ everyMs: 10 });
    vi.advanceTimersByTime(35);
    expect(beats).toBe(3);
    heartbeat.stop();
    expect(worker.terminated).toBe(true);
    const after = beats;
    worker.dispatchEvent(new MessageEvent('message', { data: 'beat' }));
    expect(beats).toBe(after);
    heartbeat.stop(); // twice is fine
  });

  test('ignores messages that are not beats', () => {
    const worker = new StandInHeartbeatWorker();
    let beats = 0;
    heartbeat = workerHeartbeat(() => worker)(60_000, () => beats++);
    worker.dispatchEvent(new MessageEvent('message', { data: 'hello' }));
    worker.dispatchEvent(new MessageEvent('message', { data: 'beat' }));
    expect(beats).toBe(1);
  });

  test('falls back to a timer when the worker fails', () => {
    const worker = new StandInHeartbeatWorker();
    let beats = 0;
    heartbeat = workerHeartbeat(() => worker)(10, () => beats++);
    worker.fail();
    expect(worker.terminated).toBe(true);
    vi.advanceTimersByTime(35);
    expect(beats).toBe(3);
    heartbeat.stop();
    vi.advanceTimersByTime(100);
    expect(beats).toBe(3);
  });

  test('falls back to a timer when no worker can be created', () => {
    let beats = 0;
    heartbeat = workerHeartbeat(() => {
      throw new DOMException('workers are forbidden here', 'SecurityError');
    })(10, () => beats++);
    vi.advanceTimersByTime(25);
    expect(beats).toBe(2);
  });

  test('a worker that fails after stop starts no timer', () => {
    const worker = new StandInHeartbeatWorker();
    let beats = 0;
    heartbeat = workerHeartbeat(() => worker)(10, () => beats++);
    heartbeat.stop();
    worker.fail();
    vi.advanceTimersByTime(100);
    expect(beats).toBe(0);
  });
});
