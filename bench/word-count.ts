/**
 * Issue 4, targets 1 and 3 and the scaling curve: word count over real prose (Moby-Dick,
 * repeated to --mb MB, cut into --files files) on plain Node and on tabreduce, in one run.
 *
 * Yardsticks, each in a process of its own (bench/word-count-yardstick.mjs), read + count:
 *   - Node, 1 thread, `matchAll`: the plain program, the baseline the issue's ratio is against;
 *   - Node, 1 thread, the same tokenizer in an `exec` loop (the fastest loop found);
 *   - Node, 2 worker_threads with the exec loop, files balanced by size, Maps merged.
 * Each runs before and after tabreduce; the better of the two times counts (the machine is
 * shared and noisy: a fast yardstick only makes tabreduce's ratio worse).
 *
 * tabreduce: the real coordinator as a child process (`server/main.ts`, default SQLite
 * store), headless Chromium tabs volunteering, the job submitted the way the CLI does it:
 * every file streamed to `POST /api/files`, then `POST /api/jobs` with a `files` input,
 * polled to success and the result fetched. Wall time runs from the first upload byte to
 * the result in hand. The result must equal the baseline's counts exactly.
 * Measured beside it: the coordinator's peak RSS (VmHWM) and CPU time, and each tab's
 * renderer PSS (sampled every second from /proc/PID/smaps_rollup).
 *
 * Flags: --mb N (default 100), --tabs N (default 2), --workers N (per tab; default: the
 * volunteer page's own, one per core), --files N (default 6), --timeout S
 * (default 900), --reducers N, --split-bytes N and --replication Q (passed to the job),
 * --replication-overhead (also the input at replication 1 then 2, for issue 5's ratio), --store sqlite|memory,
 * --cpu-prof (profile the coordinator into bench/.cache/profiles/), --curve (also 1, 2, 4
 * tabs of one browser at 25 MB and 25, 50, 100 MB at 2 tabs; --curve-sizes and --curve-tabs change those), --gb [N] (also an N GB input, default 1;
 * takes minutes), --skip-main (only the --curve / --gb parts).
 *
 * Results: bench/.cache/word-count.json, word-count-curve.json, word-count-gb.json.
 */
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buildCorpus, type Corpus } from './corpus.ts';
import { cpuShareRows, ThreadCpu, type CpuShare } from './thread-cpu.ts';
import {
  apiFor,
  CACHE_DIR,
  checkBrowserSetup,
  ChromiumSampler,
  chromiumRows,
  cpuSeconds,
  describeChromium,
  durations,
  fixed,
  Flags,
  MB,
  mibOf,
  openTabs,
  repoRoot,
  runMain,
  saveResults,
  startCoordinator,
  statusKiB,
  table,
  waitForCluster,
  waitForSuccess,
  type ChromiumMemory,
  type Durations,
} from './lib.ts';

const JOB_PATH = path.join(repoRoot, 'examples', 'word-count.js');
const YARDSTICK = path.join(import.meta.dirname, 'word-count-yardstick.mjs');
/** The tokenizer of examples/word-count.js; the yardsticks use the very same one. */
const WORD_SOURCE = String.raw`/\p{L}+/gu`;

export interface WordCountOptions {
  mb: number;
  tabs: number;
  /** Workers per tab (the volunteer page's worker-count field); default: the page's own choice. */
  workers?: number;
  /** All tabs in one browser profile, sharing its cores (bench/lib.ts openTabs); the curve's tabs are. */
  oneBrowser?: boolean;
  files: number;
  timeoutMs: number;
  reducers?: number;
  splitBytes?: number;
  store?: string;
  cpuProf: boolean;
  curve: boolean;
  /** Input sizes of the curve, MB: all at 2 tabs, the first also at each of `curveTabs`. */
  curveSizes: number[];
  curveTabs: number[];
  /** Replication of the tabreduce jobs (default: the coordinator's, 1 on loopback). */
  replication?: number;
  /** Also run the main input at replication 1 and 2, one after the other, for the cost of verification. */
  replicationOverhead: boolean;
  gb?: number;
  skipMain: boolean;
}

export function parseWordCountOptions(argv: readonly string[]): WordCountOptions {
  const flags = new Flags(argv);
  const options: WordCountOptions = {
    mb: flags.number('mb', 100, { min: 0.01 }),
    tabs: flags.number('tabs', 2, { integer: true, min: 1 }),
    files: flags.number('files', 6, { integer: true, min: 1 }),
    timeoutMs: flags.number('timeout', 900, { min: 1 }) * 1000,
    cpuProf: flags.has('cpu-prof'),
    curve: flags.has('curve'),
    curveSizes: flags.numbers('curve-sizes', [25, 50, 100]),
    curveTabs: flags.numbers('curve-tabs', [1, 2, 4]),
    skipMain: flags.has('skip-main'),
    replicationOverhead: flags.has('replication-overhead'),
  };
  if (flags.has('replication')) options.replication = flags.number('replication', 1, { integer: true, min: 1 });
  if (flags.has('workers')) options.workers = flags.number('workers', 1, { integer: true, min: 1 });
  if (flags.has('reducers')) options.reducers = flags.number('reducers', 0, { integer: true, min: 1 });
  if (flags.has('split-bytes')) options.splitBytes = flags.number('split-bytes', 0, { integer: true, min: 1 });
  if (flags.has('store')) options.store = flags.string('store', 'sqlite');
  const gb = flags.optionalNumber('gb', 1);
  if (gb !== undefined) options.gb = gb;
  flags.rejectUnknown();
  return options;
}

// ── Yardsticks ──────────────────────────────────────────────────────────────────────

export type YardstickMode = 'matchAll' | 'exec' | 'threads=2';

export interface YardstickRun {
  mode: YardstickMode;
  seconds: number;
  words: number;
  peakRssKiB: number;
  counts: Map<string, number>;
}

/** Runs one yardstick in a fresh Node process over the corpus's files. */
export function runYardstick(mode: YardstickMode, corpus: Corpus): Promise<YardstickRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [YARDSTICK, mode, ...corpus.files.map((file) => file.path)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`yardstick ${mode} exited with ${code}: ${Buffer.concat(err).toString()}`));
      const parsed = JSON.parse(Buffer.concat(out).toString()) as Omit<YardstickRun, 'counts' | 'mode'> & { counts: [string, number][] };
      resolve({ ...parsed, mode, counts: new Map(parsed.counts) });
    });
  });
}

const YARDSTICK_LABELS: Record<YardstickMode, string> = {
  matchAll: 'Node, 1 thread, matchAll (the baseline)',
  exec: 'Node, 1 thread, exec loop',
  'threads=2': 'Node, 2 worker_threads, exec loop',
};

export interface Yardsticks {
  /** The better of the runs, by mode. */
  best: Record<YardstickMode, YardstickRun>;
  /** Every run's seconds, by mode, in order. */
  seconds: Record<YardstickMode, number[]>;
}

/** Runs each of `modes` once and folds the runs into `into` (keeping the fastest). */
export async function measureYardsticks(corpus: Corpus, modes: readonly YardstickMode[], into?: Yardsticks): Promise<Yardsticks> {
  const result: Yardsticks = into ?? { best: {} as Record<YardstickMode, YardstickRun>, seconds: {} as Record<YardstickMode, number[]> };
  for (const mode of modes) {
    const run = await runYardstick(mode, corpus);
    (result.seconds[mode] ??= []).push(run.seconds);
    const best = result.best[mode];
    const baseline = result.best.matchAll as YardstickRun | undefined;
    if (mode !== 'matchAll' && baseline) {
      const problems = compare([...run.counts], baseline.counts);
      if (problems.length > 0) throw new Error(`the ${mode} yardstick disagrees with the baseline: ${problems.join('; ')}`);
    }
    if (!best || run.seconds < best.seconds) result.best[mode] = run;
  }
  return result;
}

// ── tabreduce ───────────────────────────────────────────────────────────────────────

export interface TabreduceRun {
  tabs: number;
  slots: number;
  mb: number;
  /** From the first upload byte to the result in hand. */
  seconds: number;
  uploadedSeconds: number;
  submittedSeconds: number;
  mapsDoneSeconds?: number;
  succeededSeconds: number;
  mapTasks: number;
  reducers: number;
  retries: number;
  volunteersUsed: number;
  taskMs: { map: Durations; reduce: Durations };
  coordinatorPeakRssKiB?: number;
  /** CPU seconds the coordinator used during the timed section. */
  coordinatorCpuSeconds?: number;
  chromium: ChromiumMemory;
  /** CPU seconds by kind of thread (bench/thread-cpu.ts), from upload to result. */
  cpu: CpuShare[];
  /** Differences from the baseline; empty when the result is exactly right. */
  problems: string[];
  pageErrors: string[];
  profile?: string;
  longestPollMs: number;
  pollErrors: number;
}

/** Starts a coordinator and `tabs` tabs, runs the word count over `corpus` through the upload path, and stops them. */
export async function runTabreduce(corpus: Corpus, expected: Map<string, number>, tabs: number, options: WordCountOptions): Promise<TabreduceRun> {
  const source = readFileSync(JOB_PATH, 'utf8');
  const profileDir = options.cpuProf ? path.join(CACHE_DIR, 'profiles', `word-count-${corpus.totalBytes}b-${tabs}tabs-${Date.now()}`) : undefined;
  const coordinator = await startCoordinator({ ...(options.store ? { store: options.store } : {}), ...(profileDir ? { cpuProfileDir: profileDir } : {}) });
  let browser: Awaited<ReturnType<typeof openTabs>> | undefined;
  try {
    const api = apiFor(coordinator);
    browser = await openTabs(coordinator.url, tabs, options.workers, { oneBrowser: options.oneBrowser === true });
    // Tabs of one browser hold at most one slot per core between them.
    const cores = options.oneBrowser ? await browser.pages[0]!.evaluate(() => navigator.hardwareConcurrency || 2) : Infinity;
    const cluster = await waitForCluster(api, tabs, 30_000, Math.min(cores, tabs * (options.workers ?? 1)), options.workers !== undefined && !options.oneBrowser);
    const sampler = new ChromiumSampler(tabs);
    sampler.start(1000);
    const pid = coordinator.child.pid;
    const cpuBefore = cpuSeconds(pid);
    const threadCpu = new ThreadCpu(pid);
    threadCpu.start();

    const started = performance.now();
    const since = () => (performance.now() - started) / 1000;
    // As the CLI does (client/input-upload.ts): each file streamed to POST /api/files, one after the other.
    const files: { fileId: string; name: string }[] = [];
    for (const file of corpus.files) {
      const stream = Readable.toWeb(createReadStream(file.path, { highWaterMark: 1024 * 1024 })) as ReadableStream<Uint8Array>;
      const uploaded = await api.uploadFile(file.name, stream);
      files.push({ fileId: uploaded.id, name: file.name });
    }
    const uploadedSeconds = since();
    const { id } = await api.submitJob({
      name: `bench word-count ${(corpus.totalBytes / MB).toFixed(0)} MB, ${tabs} tabs`,
      source,
      input: { kind: 'files', files },
      ...(options.reducers !== undefined ? { reducers: options.reducers } : {}),
      ...(options.splitBytes !== undefined ? { splitBytes: options.splitBytes } : {}),
      ...(options.replication !== undefined ? { replication: options.replication } : {}),
    });
    const submittedSeconds = since();
    const finished = await waitForSuccess(api, id, since, options.timeoutMs);
    const result = await api.getResult(id);
    const seconds = since();

    const cpuAfter = cpuSeconds(pid);
    const cpu = threadCpu.stop();
    const chromium = sampler.stop();
    const peak = statusKiB(pid, 'VmHWM');
    const tasks = await api.listTasks(id);
    return {
      tabs,
      slots: cluster.slots,
      mb: corpus.totalBytes / MB,
      seconds,
      uploadedSeconds,
      submittedSeconds,
      ...(finished.mapsDoneSeconds !== undefined ? { mapsDoneSeconds: finished.mapsDoneSeconds } : {}),
      succeededSeconds: finished.succeededSeconds,
      mapTasks: finished.summary.progress.map.total,
      reducers: finished.summary.progress.reduce.total,
      retries: finished.summary.retries,
      volunteersUsed: finished.summary.volunteersUsed,
      taskMs: { map: durations(tasks, 'map'), reduce: durations(tasks, 'reduce') },
      ...(peak !== undefined ? { coordinatorPeakRssKiB: peak } : {}),
      ...(cpuBefore !== undefined && cpuAfter !== undefined ? { coordinatorCpuSeconds: cpuAfter - cpuBefore } : {}),
      chromium,
      cpu,
      problems: compare(result, expected),
      pageErrors: browser.errors.slice(0, 20),
      longestPollMs: finished.longestPollMs,
      pollErrors: finished.pollErrors,
      ...(profileDir ? { profile: profileDir } : {}),
    };
  } catch (error) {
    const lines = coordinator.output().trimEnd().split('\n');
    if (browser && browser.errors.length > 0) console.error(`page errors:\n  ${browser.errors.slice(0, 20).join('\n  ')}`);
    console.error(`coordinator output (last ${Math.min(lines.length, 40)} lines):\n${lines.slice(-40).join('\n')}`);
    throw error;
  } finally {
    await browser?.close().catch(() => {});
    await coordinator.stop().catch(() => {});
  }
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
    else if (value !== want) note(`key ${JSON.stringify(key)}: got ${JSON.stringify(value)}, baseline ${want}`);
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

function describeCorpus(corpus: Corpus): string {
  return `${corpus.source} (Moby-Dick, ${(corpus.bookBytes / MB).toFixed(2)} MB) x ${corpus.copies.toFixed(1)} = ${(corpus.totalBytes / MB).toFixed(1)} MB in ${corpus.files.length} files`;
}

/** The table of one size: the yardsticks, then tabreduce's run(s). */
function sizeTable(corpus: Corpus, yardsticks: Yardsticks, runs: TabreduceRun[]): string {
  const mb = corpus.totalBytes / MB;
  const base = yardsticks.best.matchAll.seconds;
  const threads = yardsticks.best['threads=2']?.seconds;
  const rows: string[][] = [['', 'wall s', 'MB/s', 'x baseline', 'x threads', 'peak RSS MiB', 'runs (s)']];
  for (const mode of ['matchAll', 'exec', 'threads=2'] as const) {
    const run = yardsticks.best[mode];
    if (!run) continue;
    rows.push([
      YARDSTICK_LABELS[mode],
      fixed(run.seconds, 3),
      fixed(mb / run.seconds, 1),
      fixed(run.seconds / base),
      threads !== undefined ? fixed(run.seconds / threads) : '-',
      mibOf(run.peakRssKiB),
      yardsticks.seconds[mode].map((s) => s.toFixed(2)).join(', '),
    ]);
  }
  for (const run of runs) {
    rows.push([
      `tabreduce, ${run.tabs} tab${run.tabs === 1 ? '' : 's'} (${run.slots} slots), upload to result`,
      fixed(run.seconds, 3),
      fixed(mb / run.seconds, 1),
      fixed(run.seconds / base),
      threads !== undefined ? fixed(run.seconds / threads) : '-',
      `coord. ${mibOf(run.coordinatorPeakRssKiB)}`,
      '',
    ]);
  }
  return table(rows);
}

function describeRun(run: TabreduceRun): string[] {
  const t = (d: Durations) => (d.count > 0 ? `median ${d.median} ms, p90 ${d.p90} ms, max ${d.max} ms, sum ${(d.sum / 1000).toFixed(1)} s` : 'n/a');
  return [
    `tabreduce phases: uploaded ${fixed(run.uploadedSeconds, 3)} s, submitted (201) ${fixed(run.submittedSeconds, 3)} s, maps done ${fixed(run.mapsDoneSeconds, 3)} s, ` +
      `succeeded ${fixed(run.succeededSeconds, 3)} s, result in hand ${fixed(run.seconds, 3)} s`,
    `job:              ${run.mapTasks} map tasks, ${run.reducers} reducers, ${run.retries} retries, ${run.volunteersUsed} volunteers used; longest poll of the job ${fixed(run.longestPollMs, 0)} ms${run.pollErrors > 0 ? ` (${run.pollErrors} reset)` : ''}`,
    `task times:       map ${t(run.taskMs.map)}; reduce ${t(run.taskMs.reduce)} (lease to done)`,
    `coordinator:      peak RSS ${mibOf(run.coordinatorPeakRssKiB)} MiB (VmHWM), ${fixed(run.coordinatorCpuSeconds)} CPU s during the run` +
      (run.coordinatorCpuSeconds !== undefined ? ` (${((run.coordinatorCpuSeconds / run.seconds) * 100).toFixed(0)}% of one core)` : ''),
    `chromium:         ${describeChromium(run.chromium)}; ${fixed(run.chromium.cpuSeconds, 1)} CPU s`,
    ...(run.profile ? [`profile:          ${path.relative(repoRoot, run.profile)} (npx tsx bench/profile-summary.ts ${path.relative(repoRoot, run.profile)})`] : []),
    ...(run.pageErrors.length > 0 ? [`page errors:      ${run.pageErrors.length}, first: ${run.pageErrors[0]}`] : []),
    run.problems.length === 0 ? 'verified:         the result equals the baseline exactly' : `WRONG RESULT:     ${run.problems.join('; ')}`,
    '',
    table(cpuShareRows(run.cpu, run.mb, 'MB')),
  ];
}

function summarize(corpus: Corpus, yardsticks: Yardsticks, run: TabreduceRun) {
  const base = yardsticks.best.matchAll;
  const threads = yardsticks.best['threads=2'];
  return {
    corpus: { source: corpus.source, files: corpus.files.length, bytes: corpus.totalBytes },
    words: base.words,
    distinctWords: base.counts.size,
    yardsticks: Object.fromEntries(
      Object.entries(yardsticks.best).map(([mode, r]) => [mode, { seconds: r.seconds, runs: yardsticks.seconds[mode as YardstickMode], mbPerSecond: corpus.totalBytes / MB / r.seconds, peakRssKiB: r.peakRssKiB }]),
    ),
    tabreduce: { ...run, mbPerSecond: corpus.totalBytes / MB / run.seconds },
    ratioToBaseline: run.seconds / base.seconds,
    ratioToThreads: threads ? run.seconds / threads.seconds : undefined,
    verified: run.problems.length === 0,
  };
}

function failIfWrong(runs: TabreduceRun[]): void {
  const wrong = runs.filter((run) => run.problems.length > 0);
  if (wrong.length > 0) {
    console.error(`\nFAILED: ${wrong.length} tabreduce run(s) differ from the baseline`);
    process.exitCode = 1;
  }
}

// ── Main ────────────────────────────────────────────────────────────────────────────

const ALL_MODES: YardstickMode[] = ['matchAll', 'exec', 'threads=2'];

/** Yardsticks, then tabreduce, then the yardsticks again: the ratios of one run. */
async function measureSize(corpus: Corpus, tabsList: number[], options: WordCountOptions, modes = ALL_MODES): Promise<{ yardsticks: Yardsticks; runs: TabreduceRun[] }> {
  console.log(`\ncorpus: ${describeCorpus(corpus)}`);
  console.log(`yardsticks: ${modes.join(', ')}...`);
  const yardsticks = await measureYardsticks(corpus, modes);
  const runs: TabreduceRun[] = [];
  for (const tabs of tabsList) {
    console.log(`tabreduce: ${tabs} tab(s)...`);
    const run = await runTabreduce(corpus, yardsticks.best.matchAll.counts, tabs, options);
    console.log(`  ${fixed(run.seconds, 3)} s${run.problems.length > 0 ? ' WRONG RESULT' : ', verified'}`);
    runs.push(run);
  }
  console.log('yardsticks again...');
  await measureYardsticks(corpus, modes, yardsticks);
  return { yardsticks, runs };
}

async function main(): Promise<void> {
  const options = parseWordCountOptions(process.argv.slice(2));
  checkBrowserSetup();
  if (!readFileSync(JOB_PATH, 'utf8').includes(WORD_SOURCE)) {
    console.warn(`warning: ${path.relative(repoRoot, JOB_PATH)} no longer tokenizes with ${WORD_SOURCE}; the yardsticks still do, so the answers may differ`);
  }
  const allRuns: TabreduceRun[] = [];
  let mainPoint: { mb: number; tabs: number; run: TabreduceRun; yardsticks: Yardsticks } | undefined;

  if (!options.skipMain) {
    const corpus = buildCorpus({ mb: options.mb, files: options.files });
    const { yardsticks, runs } = await measureSize(corpus, [options.tabs], options);
    const run = runs[0]!;
    allRuns.push(run);
    mainPoint = { mb: options.mb, tabs: options.tabs, run, yardsticks };
    console.log(`\n── Target 1: end-to-end word count, ${(corpus.totalBytes / MB).toFixed(1)} MB, ${options.tabs} tabs (target: x baseline <= 1.0, stretch 0.7) ──`);
    console.log(sizeTable(corpus, yardsticks, runs));
    console.log('');
    console.log(`input:            ${yardsticks.best.matchAll.words} words, ${yardsticks.best.matchAll.counts.size} distinct`);
    for (const line of describeRun(run)) console.log(line);
    console.log(`\n── Target 3: memory, ${(corpus.totalBytes / MB).toFixed(0)} MB job (target: coordinator peak RSS <= 300 MB) ──`);
    console.log(
      table([
        ['process', 'peak MiB', 'measure'],
        ['coordinator', mibOf(run.coordinatorPeakRssKiB), 'RSS (VmHWM)'],
        ...chromiumRows(run.chromium),
        ...(['matchAll', 'threads=2'] as const).map((mode) => [YARDSTICK_LABELS[mode], mibOf(yardsticks.best[mode].peakRssKiB), 'RSS (VmHWM)']),
      ]),
    );
    const file = saveResults(`word-count${options.cpuProf ? '-profiled' : ''}`, { options, ...summarize(corpus, yardsticks, run) });
    console.log(`\nsaved ${path.relative(repoRoot, file)}`);
  }

  if (options.curve) {
    const points: { mb: number; tabs: number; run: TabreduceRun; baseline: number; threads: number }[] = [];
    const [first, ...others] = options.curveSizes;
    const plan: [number, number[]][] = [[first!, [...new Set([...options.curveTabs, 2])].sort((a, b) => a - b)], ...others.map((mb): [number, number[]] => [mb, [2]])];
    for (const [mb, tabsList] of plan) {
      const corpus = buildCorpus({ mb, files: options.files });
      const reuse = mainPoint && mainPoint.mb === mb && options.files === 6;
      const todo = tabsList.filter((tabs) => !(reuse && mainPoint!.tabs === tabs));
      const { yardsticks, runs } = todo.length > 0 ? await measureSize(corpus, todo, { ...options, oneBrowser: true }, ['matchAll', 'threads=2']) : { yardsticks: mainPoint!.yardsticks, runs: [] };
      const all = [...runs, ...(reuse && todo.length < tabsList.length ? [mainPoint!.run] : [])];
      for (const run of all) {
        allRuns.push(run);
        points.push({ mb, tabs: run.tabs, run, baseline: yardsticks.best.matchAll.seconds, threads: yardsticks.best['threads=2'].seconds });
      }
    }
    points.sort((a, b) => a.mb - b.mb || a.tabs - b.tabs);
    console.log('\n── Scaling curve: end-to-end word count (upload to result), tabs of one browser sharing its cores ──');
    console.log(
      table([
        ['input', 'tabs', 'slots', 'wall s', 'MB/s', 'x baseline', 'x threads', 'coord. peak MiB', 'tab PSS MiB (each)', 'verified'],
        ...points.map((p) => [
          `${p.mb} MB`,
          String(p.tabs),
          String(p.run.slots),
          fixed(p.run.seconds, 3),
          fixed(p.run.mb / p.run.seconds, 1),
          fixed(p.run.seconds / p.baseline),
          fixed(p.run.seconds / p.threads),
          mibOf(p.run.coordinatorPeakRssKiB),
          p.run.chromium.tabRenderers.map((r) => mibOf(r.peakPssKiB)).join('/'),
          p.run.problems.length === 0 ? 'yes' : 'NO',
        ]),
      ]),
    );
    const file = saveResults(`word-count-curve${options.cpuProf ? '-profiled' : ''}`, {
      options,
      points: points.map((p) => ({ mb: p.mb, tabs: p.tabs, baselineSeconds: p.baseline, threadsSeconds: p.threads, ratioToBaseline: p.run.seconds / p.baseline, ratioToThreads: p.run.seconds / p.threads, run: p.run })),
    });
    console.log(`saved ${path.relative(repoRoot, file)}`);
  }

  if (options.replicationOverhead) {
    const corpus = buildCorpus({ mb: options.mb, files: options.files });
    const { yardsticks, runs } = await measureSize(corpus, [options.tabs], { ...options, replication: 1 }, ['matchAll']);
    console.log(`tabreduce: ${options.tabs} tab(s), replication 2...`);
    const verified = await runTabreduce(corpus, yardsticks.best.matchAll.counts, options.tabs, { ...options, replication: 2 });
    const [single] = runs;
    allRuns.push(single!, verified);
    console.log(`\n── Issue 5: the cost of verification, word count ${(corpus.totalBytes / MB).toFixed(0)} MB on ${options.tabs} tabs, one run ──`);
    console.log(
      table([
        ['replication', 'wall s', 'x replication 1', 'map tasks', 'CPU s (all)', 'verified'],
        ...[single!, verified].map((run, i) => [
          String(i + 1),
          fixed(run.seconds, 3),
          fixed(run.seconds / single!.seconds),
          String(run.mapTasks),
          fixed(run.cpu.reduce((sum, share) => sum + share.seconds, 0), 1),
          run.problems.length === 0 ? 'yes' : 'NO',
        ]),
      ]),
    );
    const file = saveResults('word-count-replication', { options, mb: corpus.totalBytes / MB, single, verified, ratio: verified.seconds / single!.seconds });
    console.log(`saved ${path.relative(repoRoot, file)}`);
  }

  if (options.gb !== undefined) {
    const corpus = buildCorpus({ mb: options.gb * 1000, files: Math.max(options.files, Math.ceil(options.gb * 10)) });
    const { yardsticks, runs } = await measureSize(corpus, [options.tabs], options, ['matchAll', 'threads=2']);
    const run = runs[0]!;
    allRuns.push(run);
    console.log(`\n── Target 3: memory, ${options.gb} GB input (target: coordinator peak RSS <= 400 MB) ──`);
    console.log(sizeTable(corpus, yardsticks, runs));
    console.log('');
    for (const line of describeRun(run)) console.log(line);
    const file = saveResults(`word-count-gb${options.cpuProf ? '-profiled' : ''}`, { options, ...summarize(corpus, yardsticks, run) });
    console.log(`saved ${path.relative(repoRoot, file)}`);
  }
  failIfWrong(allRuns);
}

await runMain(import.meta, main);
