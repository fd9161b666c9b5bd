// Types for Comlink's Node adapter at its ESM path, whichever tsconfig checks this file.
/// <reference path="./comlink-node-adapter.d.ts" />
/**
 * A job worker on a Node worker thread: the very `JobWorkerApi` a tab's Web Worker
 * exposes (web/worker/job-worker.ts), over Comlink's Node adapter instead of a
 * MessagePort of the page. Job modules are imported from data: URLs, since Node has
 * no blob: URLs.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { importFromDataUrl } from './data-url-import.ts';
import { createJobWorkerApi } from '../runtime/job-worker-api.ts';

if (!parentPort) throw new Error('node-job-worker.ts must run on a worker thread (see node-worker.ts)');
Comlink.expose(createJobWorkerApi(importFromDataUrl), nodeEndpoint(parentPort));
