/**
 * Issue 13, target 1's yardstick: the word count hand-written in N plain Web Workers in
 * one headless Chromium tab, with no framework (bench/bare-workers/: a page and a worker,
 * plain JavaScript). Each worker fetches its share of the files, balanced by size, from a
 * local node:http server, runs the very module tabreduce runs (either form, see
 * word-count-yardsticks.ts), sums the pairs into a Map, and the page merges the Maps.
 * What tabreduce adds on top of this (the coordinator, uploads, Socket.IO, the task
 * runtime's grouping and encoding, the shuffle, the reduce) is what its ratio to this
 * measures; the browser's own cost is in both.
 *
 * Timed in the page, from the first message to the workers to the merged Map. The workers
 * are started and loaded before (a volunteer tab's pool is up before a job arrives), and
 * the module is imported inside the timed section (a tab imports it once per job, timed).
 * Beside the time: the CPU seconds of the tab's worker threads and of all of Chromium
 * over the timed section, from /proc (bench/thread-cpu.ts).
 */
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_LAUNCH } from '../e2e/chromium.ts';
import type { Corpus, CorpusFile } from './corpus.ts';
import { ChromiumSampler } from './lib.ts';
import { ThreadCpu } from './thread-cpu.ts';
import { compare, JOB_PATHS, type JobForm } from './word-count-yardsticks.ts';

const PAGE_DIR = path.join(import.meta.dirname, 'bare-workers');

export interface BareRun {
  form: JobForm;
  workers: number;
  /** In the page: from the first message to the workers to the merged Map. */
  seconds: number;
  /** Of which merging the workers' Maps, after the last one arrived. */
  mergeSeconds: number;
  perWorker: { bytes: number; fetchWaitSeconds: number; mapSeconds: number }[];
  /** CPU seconds of the tab's Web Worker threads during the timed section. */
  workerCpuSeconds: number;
  /**
   * CPU seconds of every Chromium process during the timed section, from each process's
   * own total (lib.ts ChromiumSampler), which keeps the time of threads that have ended.
   */
  chromiumCpuSeconds: number;
  distinctWords: number;
}

export interface BareYardsticks {
  /** The better of the runs, by form. */
  best: Partial<Record<JobForm, BareRun>>;
  /** Every run's seconds, by form, in order. */
  seconds: Partial<Record<JobForm, number[]>>;
}

/** A file as a worker is told of it. */
interface ShareFile {
  name: string;
  bytes: number;
  url: string;
}

/** What bare-workers/index.html puts on `window`. */
interface BarePage {
  bareStart(count: number): Promise<void>;
  bareRun(job: { jobUrl: string; shares: ShareFile[][] }): Promise<{
    ms: number;
    mergeMs: number;
    workers: { fetchWaitMs: number; mapMs: number; bytes: number }[];
    counts: [string, number][];
  }>;
}

/** `count` shares of `files`: the largest file first, each to the share with the fewest bytes so far (as the Node threads yardstick does). */
export function shareBySize<T extends { bytes: number }>(files: readonly T[], count: number): T[][] {
  const shares = Array.from({ length: count }, () => ({ bytes: 0, files: [] as T[] }));
  for (const file of [...files].sort((a, b) => b.bytes - a.bytes)) {
    const least = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    least.bytes += file.bytes;
    least.files.push(file);
  }
  return shares.map((share) => share.files);
}

/** The page, the worker, both job modules and the corpus's files (`/corpus/<index>`), on 127.0.0.1 at a free port. */
async function serve(corpus: Corpus): Promise<{ url: string; close(): Promise<void> }> {
  const js = 'text/javascript; charset=utf-8';
  const statics: Record<string, { file: string; type: string }> = {
    '/': { file: path.join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
    '/worker.js': { file: path.join(PAGE_DIR, 'worker.js'), type: js },
    '/jobs/generator.js': { file: JOB_PATHS.generator, type: js },
    '/jobs/emit.js': { file: JOB_PATHS.emit, type: js },
  };
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1');
    const index = /^\/corpus\/(\d+)$/.exec(pathname)?.[1];
    const corpusFile: CorpusFile | undefined = index !== undefined ? corpus.files[Number(index)] : undefined;
    const target = corpusFile ? { file: corpusFile.path, type: 'text/plain; charset=utf-8' } : statics[pathname];
    if (!target) {
      response.writeHead(404).end();
      return;
    }
    // no-store: every run fetches its bytes from here, as a tab gets every split anew.
    response.writeHead(200, { 'content-type': target.type, 'cache-control': 'no-store', ...(corpusFile ? { 'content-length': corpusFile.bytes } : {}) });
    createReadStream(target.file, { highWaterMark: 1024 * 1024 })
      .once('error', (error) => response.destroy(error))
      .pipe(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One timed run of `form` in a fresh browser context. Throws if the merged counts differ from `expected`. */
async function runBare(browser: Browser, url: string, corpus: Corpus, form: JobForm, workers: number, expected: Map<string, number>): Promise<BareRun> {
  const context = await browser.newContext();
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    await page.waitForFunction(() => typeof (window as unknown as Partial<BarePage>).bareRun === 'function');
    await page.evaluate((count) => (window as unknown as BarePage).bareStart(count), workers);
    const shares = shareBySize(
      corpus.files.map((file, index) => ({ name: file.name, bytes: file.bytes, url: `/corpus/${index}` })),
      workers,
    );
    const threadCpu = new ThreadCpu(undefined);
    // Sampled at the start and the end only: reading every process's PSS costs CPU too.
    const sampler = new ChromiumSampler(1);
    sampler.start(3_600_000);
    threadCpu.start();
    const answer = await page.evaluate((job) => (window as unknown as BarePage).bareRun(job), { jobUrl: `/jobs/${form}.js`, shares });
    const cpu = threadCpu.stop();
    const chromium = sampler.stop();
    const problems = compare(answer.counts, expected);
    if (problems.length > 0) throw new Error(`the bare workers (${form} form) disagree with the baseline: ${problems.join('; ')}`);
    return {
      form,
      workers,
      seconds: answer.ms / 1000,
      mergeSeconds: answer.mergeMs / 1000,
      perWorker: answer.workers.map((w) => ({ bytes: w.bytes, fetchWaitSeconds: w.fetchWaitMs / 1000, mapSeconds: w.mapMs / 1000 })),
      workerCpuSeconds: cpu.filter((share) => share.group.startsWith('tabs: Web Workers')).reduce((sum, share) => sum + share.seconds, 0),
      chromiumCpuSeconds: chromium.cpuSeconds,
      distinctWords: answer.counts.length,
    };
  } catch (error) {
    if (errors.length > 0) console.error(`bare-workers page errors:\n  ${errors.slice(0, 10).join('\n  ')}`);
    throw error;
  } finally {
    await context.close().catch(() => {});
  }
}

/**
 * Runs the bare-worker yardstick once per form in `forms`, with `workers` workers, and
 * folds the runs into `into` (keeping the fastest of each form). One browser for all, a
 * fresh context (so a fresh renderer and fresh workers) per run.
 */
export async function measureBare(corpus: Corpus, forms: readonly JobForm[], workers: number, expected: Map<string, number>, into?: BareYardsticks): Promise<BareYardsticks> {
  const result: BareYardsticks = into ?? { best: {}, seconds: {} };
  const server = await serve(corpus);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch(CHROMIUM_LAUNCH);
    for (const form of forms) {
      const run = await runBare(browser, server.url, corpus, form, workers, expected);
      (result.seconds[form] ??= []).push(run.seconds);
      const best = result.best[form];
      if (!best || run.seconds < best.seconds) result.best[form] = run;
    }
  } finally {
    await browser?.close().catch(() => {});
    await server.close();
  }
  return result;
}
