/**
 * What the volunteer runtime needs of the browser: the device's core count and a way to
 * start a job worker. The runtime itself (runtime/) knows no DOM, so the page hands it these.
 */
import type { WorkerLike } from '../../runtime/worker-pool.ts';

/** Logical cores of this device as the browser reports them; 2 when it does not say. */
export function logicalCores(): number {
  return navigator.hardwareConcurrency || 2;
}

/** Sensible default pool size: the core count, at most 4, so a tab never hogs a machine. */
export function defaultWorkerCount(): number {
  return Math.min(logicalCores(), 4);
}

/** One module Web Worker running job-worker.ts; Vite spots this exact `new Worker(new URL(...))` form and bundles the worker. */
export function createJobWorker(): WorkerLike {
  return new Worker(new URL('../worker/job-worker.ts', import.meta.url), { type: 'module', name: 'tabreduce-job' });
}
