// Types for Comlink's Node adapter at its ESM path, whichever tsconfig checks this file.
/// <reference path="./comlink-node-adapter.d.ts" />
/**
 * Job workers for the Node volunteer: worker threads that look to `WorkerPool` like
 * the Web Workers it runs in a tab, so the pool's deadlines, aborts and replace-on-
 * timeout apply unchanged (`new WorkerPool({ createWorker: createNodeJobWorker })`).
 *
 * The pool reads two kinds of events from a worker: `message` (Comlink's traffic,
 * carried by Comlink's Node adapter) and `error`, which it treats as a crash. A worker
 * thread signals a crash two ways, both mapped to `error` here: an uncaught exception
 * (the thread's `error` event) and an exit nobody asked for (job code that calls
 * `process.exit()` ends only its own thread, silently).
 *
 * Not a sandbox. A tab's worker runs job code under the page's Content-Security-
 * Policy, with no access to the machine; a worker thread runs it with the volunteer
 * process's rights (files, network, child processes). The threads get an empty
 * environment, so no secret in the volunteer's env (a TABREDUCE_TOKEN) is handed to
 * job code, but a Node volunteer should only serve coordinators whose jobs it trusts.
 */
import { Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { WorkerLike } from '../runtime/worker-pool.ts';

const ENTRY = new URL('./job-worker-boot.mjs', import.meta.url);

type Listener = Parameters<Endpoint['addEventListener']>[1];

/** Starts one job worker thread, shaped as `WorkerPool`'s `WorkerLike`. */
export function createNodeJobWorker(): WorkerLike {
  const worker = new Worker(ENTRY, { name: 'tabreduce-job', env: {} });
  // An EventEmitter's unheard 'error' is thrown in this thread: never let a worker's
  // crash take the whole volunteer down, even before the pool listens.
  worker.on('error', () => {});
  const messages = nodeEndpoint(worker);
  let terminated = false;
  const crashListeners = new Map<Listener, { onError: (error: Error) => void; onExit: (code: number) => void }>();

  return {
    postMessage: (message: unknown, transfer?: Parameters<Endpoint['postMessage']>[1]) => messages.postMessage(message, transfer),
    addEventListener(type: string, listener: Listener) {
      if (type === 'message') {
        messages.addEventListener(type, listener);
        return;
      }
      if (type !== 'error' || crashListeners.has(listener)) return;
      const notify = (message: string) => {
        const event = { type: 'error', message } as unknown as Event;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      const handlers = {
        onError: (error: Error) => notify(`${error.name}: ${error.message}`),
        onExit: (code: number) => {
          if (!terminated) notify(`the worker thread exited by itself (exit code ${code})`);
        },
      };
      crashListeners.set(listener, handlers);
      worker.on('error', handlers.onError);
      worker.on('exit', handlers.onExit);
    },
    removeEventListener(type: string, listener: Listener) {
      if (type === 'message') {
        messages.removeEventListener(type, listener);
        return;
      }
      const handlers = crashListeners.get(listener);
      if (!handlers) return;
      crashListeners.delete(listener);
      worker.off('error', handlers.onError);
      worker.off('exit', handlers.onExit);
    },
    terminate() {
      terminated = true;
      void worker.terminate();
    },
  };
}
