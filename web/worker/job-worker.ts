/**
 * The Web Worker entry: runs job code off the page's main thread. The pool talks to it
 * through Comlink (`JobWorkerApi`); the pool, not this file, enforces deadlines, since a
 * worker stuck in a job's infinite loop cannot answer anything.
 */
import * as Comlink from 'comlink';
import { createJobWorkerApi } from './job-worker-api.ts';

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

Comlink.expose(createJobWorkerApi(importFromBlob));
