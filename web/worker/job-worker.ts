/**
 * The Web Worker entry: runs job code off the page's main thread. The pool talks to it
 * through Comlink (`JobWorkerApi`); the pool, not this file, enforces deadlines, since a
 * worker stuck in a job's infinite loop cannot answer anything.
 */
import * as Comlink from 'comlink';
import { createJobWorkerApi } from '../../runtime/job-worker-api.ts';

/**
 * Imports job source through a blob: URL, so job code needs no `unsafe-eval` in the
 * Content-Security-Policy (`script-src 'self' blob:` is enough). The URL is revoked once
 * the import settled: the module stays in the engine's module map.
 */
async function importFromBlob(source: string): Promise<unknown> {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try {
    return (await import(/* @vite-ignore */ url)) as unknown;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * The last Content-Security-Policy violation in this worker: job code that reaches for
 * another origin gets only a bare NetworkError from the browser, so the failed task's
 * error is told what was blocked and why.
 */
let lastViolation: string | undefined;
self.addEventListener('securitypolicyviolation', (event) => {
  lastViolation = `blocked by the page's Content-Security-Policy (${event.effectiveDirective}): job code may not reach ${event.blockedURI || 'that address'}; a job gets its data from its input only`;
});

Comlink.expose(
  createJobWorkerApi(importFromBlob, () => {
    const violation = lastViolation;
    lastViolation = undefined;
    return violation;
  }),
);
