/**
 * `npm run bench`: word count over real prose (Moby-Dick, repeated to --mb MB), once on
 * a plain single-threaded Node loop and once on tabreduce (the real coordinator as a
 * child process, --tabs headless Chromium tabs volunteering), in the same run. The two
 * answers must be identical, or the benchmark fails. Machines here are noisy: read the
 * ratio, not the seconds.
 *
 * Flags: --mb N (default 20), --tabs N (default 2), --files N (default 6),
 * --timeout S (default 600), and, passed to the job when given, --reducers N and
 * --split-bytes N.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_EXECUTABLE, CHROMIUM_LAUNCH } from '../e2e/chromium.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import type { ClusterSummary, JobSummary, TaskSummary } from '../shared/job.ts';
import { buildCorpus, numberFlag, type Corpus } from './corpus.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const JOB_PATH = path.join(repoRoot, 'examples', 'word-count.js');
const MB = 1_000_000;
/** The tokenizer of examples/word-count.js; the baseline must use the very same one. */
const WORD_SOURCE = String.raw`/\p{L}+/gu`;
const POLL_MS = 25;

export interface Options {
  mb: number;
  tabs: number;
  files: number;
  timeoutMs: number;
  reducers?: number;
  splitBytes?: number;
}

function parseOptions(argv: readonly string[]): Options {
  const known = new Set(['--mb', '--tabs', '--files', '--timeout', '--reducers', '--split-bytes']);
  for (const arg of argv) {
    if (arg.startsWith('--') && !known.has(arg.split('=')[0]!)) {
      throw new Error(`unknown flag ${arg}; known: ${[...known].join(', ')}`);
    }
  }
  const integer = (name: string, fallback: number) => {
    const value = numberFlag(argv, name, fallback);
    if (!Number.isInteger(value)) throw new Error(`--${name} must be a whole number, got ${value}`);
    return value;
  };
  const options: Options = {
    mb: numberFlag(argv, 'mb', 20),
    tabs: integer('tabs', 2),
    files: integer('files', 6),
    timeoutMs: numberFlag(argv, 'timeout', 600) * 1000,
  };
  if (argv.some((arg) => arg.startsWith('--reducers'))) options.reducers = integer('reducers', 0);
  if (argv.some((arg) => arg.startsWith('--split-bytes'))) options.splitBytes = integer('split-bytes', 0);
  return options;
}

// ── Baseline ────────────────────────────────────────────────────────────────────────

interface BaselineRun {
  counts: Map<string, number>;
  words: number;
  seconds: number;
}

/** Read + count, single-threaded, in this process: the yardstick. */
export function runBaseline(corpus: Corpus): BaselineRun {
  const started = performance.now();
  const counts = new Map<string, number>();
  let words = 0;
  const word = /\p{L}+/gu;
  for (const file of corpus.files) {
    const text = readFileSync(file.path, 'utf8');
    for (const [match] of text.matchAll(word)) {
      counts.set(match, (counts.get(match) ?? 0) + 1);
      words++;
    }
  }
  return { counts, words, seconds: (performance.now() - started) / 1000 };
}

// ── tabreduce ───────────────────────────────────────────────────────────────────────

interface TabreduceRun {
  result: unknown;
  seconds: number;
  /** From the start of the timed section until the files were read and the body built. */
  preparedSeconds: number;
  /** From the start of the timed section to the 201 of POST /api/jobs. */
  submitSeconds: number;
  /** From the start of the timed section until the job was first seen reducing. */
  mapDoneSeconds?: number;
  /** From the start of the timed section until the job was first seen succeeded. */
  succeededSeconds: number;
  summary: JobSummary;
  cluster: ClusterSummary;
  peakRssKiB?: number;
  /** Lease-to-done time of the accepted attempts, per phase, as the coordinator saw it. */
  taskSeconds: { map: TaskTimes; reduce: TaskTimes };
}

interface TaskTimes {
  count: number;
  sum: number;
  max: number;
}

function taskSeconds(tasks: TaskSummary[], kind: 'map' | 'reduce'): TaskTimes {
  const durations = tasks.filter((task) => task.kind === kind && task.durationMs !== undefined).map((task) => task.durationMs! / 1000);
  return { count: durations.length, sum: durations.reduce((a, b) => a + b, 0), max: Math.max(0, ...durations) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 2000)}`);
  return JSON.parse(text) as T;
}

/** `VmHWM` (peak resident set) of a process, in KiB, from /proc; undefined where unreadable. */
export function peakRssKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function waitForVolunteers(url: string, tabs: number, timeoutMs: number): Promise<ClusterSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cluster = await api<ClusterSummary>(`${url}/api/volunteers`);
    if (cluster.volunteers >= tabs && cluster.slots > 0) return cluster;
    if (Date.now() > deadline) {
      throw new Error(`only ${cluster.volunteers} of ${tabs} volunteers (${cluster.slots} slots) registered with the coordinator after ${timeoutMs / 1000} s`);
    }
    await sleep(100);
  }
}

export async function runTabreduce(
  coordinator: CoordinatorProcess,
  corpus: Corpus,
  source: string,
  options: Options,
  cluster: ClusterSummary,
): Promise<TabreduceRun> {
  const { url } = coordinator;
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;

  // Read the same files the baseline read, inside the timed section, as the baseline does.
  const files = corpus.files.map((file) => ({ name: file.name, text: readFileSync(file.path, 'utf8') }));
  const body = JSON.stringify({
    name: `bench word-count ${options.mb} MB`,
    source,
    input: { kind: 'texts', files },
    ...(options.reducers !== undefined ? { reducers: options.reducers } : {}),
    ...(options.splitBytes !== undefined ? { splitBytes: options.splitBytes } : {}),
  });
  const preparedSeconds = since();
  const { id } = await api<{ id: string }>(`${url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const submitSeconds = since();

  let mapDoneSeconds: number | undefined;
  let summary: JobSummary;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    summary = await api<JobSummary>(`${url}/api/jobs/${encodeURIComponent(id)}`);
    if (mapDoneSeconds === undefined && (summary.state === 'reducing' || summary.state === 'succeeded')) mapDoneSeconds = since();
    if (summary.state === 'succeeded') break;
    if (summary.state === 'failed' || summary.state === 'cancelled') {
      throw new Error(`job ${id} ${summary.state}: ${JSON.stringify(summary.error ?? null)}\n${JSON.stringify(summary.progress)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} did not finish in ${options.timeoutMs / 1000} s (--timeout): state ${summary.state}, progress ${JSON.stringify(summary.progress)}`);
    }
    await sleep(POLL_MS);
  }
  const succeededSeconds = since();
  const result = await api<unknown>(`${url}/api/jobs/${encodeURIComponent(id)}/result`);
  const seconds = since();

  const after = await api<ClusterSummary>(`${url}/api/volunteers`).catch(() => cluster);
  const tasks = await api<TaskSummary[]>(`${url}/api/jobs/${encodeURIComponent(id)}/tasks`).catch(() => []);
  const peak = peakRssKiB(coordinator.child.pid);
  return {
    result,
    seconds,
    preparedSeconds,
    submitSeconds,
    ...(mapDoneSeconds !== undefined ? { mapDoneSeconds } : {}),
    succeededSeconds,
    summary,
    cluster: after,
    taskSeconds: {
      map: taskSeconds(tasks, 'map'),
      reduce: taskSeconds(tasks, 'reduce'),
    },
    ...(peak !== undefined ? { peakRssKiB: peak } : {}),
  };
}

// ── Verification ────────────────────────────────────────────────────────────────────

/** Every difference between the job's result and the baseline's counts, up to a few. */
export function compare(result: unknown, expected: Map<string, number>): string[] {
  if (!Array.isArray(result)) return [`the result is not a JSON array but ${typeof result}`];
  const problems: string[] = [];
  const note = (problem: string) => {
    if (problems.length < 10) problems.push(problem);
  };
  const seen = new Set<string>();
  for (const entry of result as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      note(`not a [key, value] pair: ${JSON.stringify(entry).slice(0, 100)}`);
      continue;
    }
    const [key, value] = entry as [unknown, unknown];
    if (typeof key !== 'string') {
      note(`key ${JSON.stringify(key)} is a ${typeof key}, not a string`);
      continue;
    }
    if (seen.has(key)) note(`key ${JSON.stringify(key)} appears more than once`);
    seen.add(key);
    const want = expected.get(key);
    if (want === undefined) note(`key ${JSON.stringify(key)} = ${JSON.stringify(value)} is not in the baseline`);
    else if (value !== want) note(`key ${JSON.stringify(key)}: tabreduce ${JSON.stringify(value)}, baseline ${want}`);
  }
  let missing = 0;
  for (const [key, count] of expected) {
    if (!seen.has(key)) {
      if (missing === 0) note(`key ${JSON.stringify(key)} (baseline ${count}) is missing from the result`);
      missing++;
    }
  }
  if (missing > 1) problems.push(`${missing} baseline keys in all are missing from the result`);
  if (result.length !== expected.size) problems.push(`the result has ${result.length} keys, the baseline ${expected.size}`);
  return problems;
}

// ── Report ──────────────────────────────────────────────────────────────────────────

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   '))
    .join('\n');
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

// ── Main ────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(CHROMIUM_EXECUTABLE)) {
    throw new Error(`${CHROMIUM_EXECUTABLE} is missing: run \`node e2e/ensure-chromium.mjs\` (or set TABREDUCE_CHROMIUM)`);
  }
  if (!existsSync(path.join(repoRoot, 'dist', 'web'))) throw new Error('dist/web is missing: run `npx vite build` first (npm run bench does)');
  const source = readFileSync(JOB_PATH, 'utf8');
  if (!source.includes(WORD_SOURCE)) {
    console.warn(`warning: ${path.relative(repoRoot, JOB_PATH)} no longer tokenizes with ${WORD_SOURCE}; the baseline still does, so the answers may differ`);
  }

  const corpus = buildCorpus({ mb: options.mb, files: options.files });
  const inputMb = corpus.totalBytes / MB;
  console.log(
    `corpus: ${corpus.source} (Moby-Dick, ${(corpus.bookBytes / MB).toFixed(2)} MB) x ${corpus.copies.toFixed(2)} = ` +
      `${inputMb.toFixed(2)} MB in ${corpus.files.length} files under ${path.relative(repoRoot, path.dirname(corpus.files[0]!.path))}/`,
  );

  const dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-bench-'));
  let coordinator: CoordinatorProcess | undefined;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  const stopOnSignal = () => {
    // Best effort on Ctrl-C: Playwright closes its browser itself; the coordinator is ours.
    coordinator?.child.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  try {
    console.log('baseline: counting in this process...');
    const baseline = runBaseline(corpus);

    console.log(`tabreduce: starting the coordinator and ${options.tabs} Chromium tab(s)...`);
    coordinator = await startCoordinatorProcess({ TABREDUCE_DATA_DIR: dataDir });
    browser = await chromium.launch(CHROMIUM_LAUNCH);
    const context = await browser.newContext();
    const pages: Page[] = [];
    for (let i = 0; i < options.tabs; i++) {
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`tab ${i + 1}: ${error.message}`));
      page.on('console', (message) => {
        // A missing favicon is not the page's fault.
        if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) pageErrors.push(`tab ${i + 1} console: ${message.text()} (${message.location().url || 'no url'})`);
      });
      await page.goto(`${coordinator.url}/volunteer`);
      pages.push(page);
    }
    await Promise.all(
      pages.map((page, i) =>
        page
          .waitForFunction(
            () => {
              const text = document.querySelector('[data-testid="connection-status"]')?.textContent?.trim().toLowerCase() ?? '';
              return /(^|[^a-z])connected\b/.test(text) && !/disconnected|not connected/.test(text);
            },
            undefined,
            { timeout: 30_000, polling: 100 },
          )
          .catch(async (error: unknown) => {
            const shown = await page
              .locator('[data-testid="connection-status"]')
              .first()
              .textContent({ timeout: 1000 })
              .catch(() => '(no [data-testid="connection-status"] element)');
            throw new Error(`tab ${i + 1} never showed "connected" in 30 s; its status reads ${JSON.stringify(shown)}: ${(error as Error).message}`);
          }),
      ),
    );
    const cluster = await waitForVolunteers(coordinator.url, options.tabs, 15_000);

    console.log(`tabreduce: ${cluster.volunteers} volunteers with ${cluster.slots} worker slots; running the job...`);
    const run = await runTabreduce(coordinator, corpus, source, options, cluster);

    const problems = compare(run.result, baseline.counts);
    const ratio = run.seconds / baseline.seconds;
    const mapTasks = run.summary.progress.map.total;
    const reducers = run.summary.progress.reduce.total;
    const serverSeconds =
      run.summary.finishedAtMs !== undefined && run.summary.submittedAtMs !== undefined
        ? (run.summary.finishedAtMs - run.summary.submittedAtMs) / 1000
        : undefined;

    console.log('');
    console.log(
      table([
        ['', 'seconds', 'MB/s', 'x baseline'],
        ['baseline (Node, 1 thread, read + count)', baseline.seconds.toFixed(3), (inputMb / baseline.seconds).toFixed(2), '1.00'],
        [`tabreduce (${options.tabs} tab${options.tabs === 1 ? '' : 's'}, ${cluster.slots} slots, POST to result)`, run.seconds.toFixed(3), (inputMb / run.seconds).toFixed(2), ratio.toFixed(2)],
      ]),
    );
    console.log('');
    console.log(`input:            ${inputMb.toFixed(2)} MB in ${corpus.files.length} files; ${baseline.words} words, ${baseline.counts.size} distinct`);
    console.log(`ratio:            tabreduce / baseline = ${ratio.toFixed(2)} (${ratio >= 1 ? `${ratio.toFixed(2)}x slower` : `${(1 / ratio).toFixed(2)}x faster`})`);
    console.log(`job:              ${mapTasks} map tasks, ${reducers} reducers, ${run.summary.retries} retries, ${run.summary.volunteersUsed} volunteers used`);
    console.log(
      `tabreduce phases: body built ${run.preparedSeconds.toFixed(3)} s, submitted (201) ${run.submitSeconds.toFixed(3)} s, maps done by ${run.mapDoneSeconds?.toFixed(3) ?? '?'} s, ` +
        `succeeded by ${run.succeededSeconds.toFixed(3)} s, result in hand ${run.seconds.toFixed(3)} s` +
        (serverSeconds !== undefined ? ` (coordinator's own submit-to-finish: ${serverSeconds.toFixed(3)} s)` : ''),
    );
    const times = (t: TaskTimes) => (t.count > 0 ? `mean ${(t.sum / t.count).toFixed(3)} s, max ${t.max.toFixed(3)} s, sum ${t.sum.toFixed(2)} s` : 'n/a');
    console.log(`task times:       map ${times(run.taskSeconds.map)}; reduce ${times(run.taskSeconds.reduce)} (lease to done)`);
    console.log(`tasks per tab:    ${run.cluster.volunteerList.map((v) => `${v.tasksDone} done/${v.tasksFailed} failed (${v.slots} slots)`).join(', ')}`);
    console.log(`coordinator RSS:  ${run.peakRssKiB !== undefined ? `peak ${(run.peakRssKiB / 1024).toFixed(0)} MiB (VmHWM of pid ${coordinator.child.pid})` : 'not measurable here'}`);
    if (pageErrors.length > 0) console.log(`page errors:      ${pageErrors.length}, first: ${pageErrors[0]}`);

    const report = {
      at: new Date().toISOString(),
      corpus: { source: corpus.source, files: corpus.files.length, bytes: corpus.totalBytes },
      words: baseline.words,
      distinctWords: baseline.counts.size,
      baseline: { seconds: baseline.seconds, mbPerSecond: inputMb / baseline.seconds },
      tabreduce: {
        tabs: options.tabs,
        slots: cluster.slots,
        seconds: run.seconds,
        mbPerSecond: inputMb / run.seconds,
        preparedSeconds: run.preparedSeconds,
        submitSeconds: run.submitSeconds,
        mapDoneSeconds: run.mapDoneSeconds,
        succeededSeconds: run.succeededSeconds,
        mapTasks,
        reducers,
        retries: run.summary.retries,
        taskSeconds: run.taskSeconds,
        coordinatorPeakRssKiB: run.peakRssKiB,
      },
      ratio,
      verified: problems.length === 0,
    };
    writeFileSync(path.join(import.meta.dirname, '.cache', 'word-count-last.json'), `${JSON.stringify(report, null, 2)}\n`);

    if (problems.length > 0) {
      console.error(`\nFAILED: tabreduce's result differs from the baseline:\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log(`verified:         tabreduce's result equals the baseline's counts (${baseline.counts.size} keys)`);
    }
  } catch (error) {
    console.error(`\nFAILED: ${describeError(error)}`);
    if (pageErrors.length > 0) console.error(`\npage errors:\n  ${pageErrors.slice(0, 20).join('\n  ')}`);
    if (coordinator) {
      const lines = coordinator.output().trimEnd().split('\n');
      console.error(`\ncoordinator output (last ${Math.min(lines.length, 40)} lines):\n${lines.slice(-40).join('\n')}`);
    }
    process.exitCode = 1;
  } finally {
    await browser?.close().catch((error: unknown) => console.error(`closing the browser failed: ${describeError(error)}`));
    await coordinator?.stop().catch((error: unknown) => console.error(`stopping the coordinator failed: ${describeError(error)}`));
    rmSync(dataDir, { recursive: true, force: true });
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  try {
    await main();
  } catch (error) {
    console.error(`FAILED: ${describeError(error)}`);
    process.exitCode = 1;
  }
}
