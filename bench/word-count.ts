/**
 * Issue 4, targets 1 and 3 and the scaling curve, and issue 13, target 1: word count over
 * real prose (Moby-Dick, repeated to --mb MB, cut into --files files) on plain Node, in
 * bare Web Workers and on tabreduce, in one run.
 *
 * The job, in two forms (bench/word-count-yardsticks.ts): the generator form, whose map
 * yields [word, 1] (bench/jobs/word-count-generator.js), and the emit form, whose map calls
 * emit(word, 1) (examples/word-count.js). Both combine with their reduce.
 *
 * Yardsticks:
 *   - Node, each in a process of its own (bench/word-count-yardstick.mjs), read + count:
 *     1 thread with `matchAll`, the plain program, the baseline of issue 4's ratio; 1 thread
 *     with the same tokenizer in an `exec` loop (the fastest loop found); 2 worker_threads
 *     with the exec loop, files balanced by size, Maps merged;
 *   - bare workers (bench/bare-workers.ts), issue 13's: the same job module, in each form,
 *     in N plain Web Workers in one headless Chromium tab (N = --bare-workers, default
 *     --tabs), each fetching its share of the files from a local server and summing into a
 *     Map; the page merges the Maps.
 * Each runs before and after tabreduce; the better of the two times counts (the machine is
 * shared and noisy: a fast yardstick only makes tabreduce's ratio worse).
 *
 * tabreduce: the real coordinator as a child process (`server/main.ts`, default SQLite
 * store), headless Chromium tabs volunteering, the job submitted the way the CLI does it:
 * every file streamed to `POST /api/files` by the client's own upload (a few at once),
 * then `POST /api/jobs` with a `files` input,
 * polled to success and the result fetched. Wall time runs from the first upload byte to
 * the result in hand. The result must equal the baseline's counts exactly, and so must the
 * bare workers'. Measured beside it: the coordinator's peak RSS (VmHWM) and CPU time, and
 * each tab's renderer PSS (sampled every second from /proc/PID/smaps_rollup).
 *
 * Flags: --mb N (default 100), --tabs N (default 2; tabs of one browser, which share its
 * cores as a volunteer's tabs do: 2 tabs run 2 workers here, like the 2 bare workers),
 * --tab-profiles (a browser profile per tab instead, each running its own workers),
 * --workers N (per tab; default: the volunteer page's own, one per core), --files N (default 6), --forms LIST (the main input's
 * forms, default generator,emit), --bare-workers N (default: --tabs), --timeout S
 * (default 900), --reducers N, --split-bytes N and --replication Q (passed to the job),
 * --replication-overhead (also the input at replication 1 then 2, for issue 5's ratio), --store sqlite|memory,
 * --cpu-prof (profile the coordinator into bench/.cache/profiles/), --curve (also 1, 2, 4
 * tabs of one browser at 25 MB and 25, 50, 100 MB at 2 tabs; --curve-sizes and --curve-tabs change those), --gb [N] (also an N GB input, default 1;
 * takes minutes), --skip-main (only the --curve / --gb parts). The curve, the GB input and
 * the replication overhead run the emit form against the Node yardsticks only.
 *
 * Results: bench/.cache/word-count.json, word-count-curve.json, word-count-gb.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskSummary } from '../shared/job.ts';
import { uploadInput } from '../client/input-upload.ts';
import { measureBare, type BareYardsticks } from './bare-workers.ts';
import { buildCorpus, type Corpus } from './corpus.ts';
import { ThreadCpu, type CpuShare } from './thread-cpu.ts';
import {
  apiFor,
  CACHE_DIR,
  checkBrowserSetup,
  ChromiumSampler,
  chromiumRows,
  cpuSeconds,
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
import { bareTable, describeBare, describeCorpus, describeRun, failIfWrong, primaryRun, sizeTable, summarize, BARE_TARGET } from './word-count-report.ts';
import {
  ALL_MODES,
  compare,
  JOB_FORMS,
  JOB_PATHS,
  measureYardsticks,
  parseForms,
  WORD_SOURCE,
  YARDSTICK_LABELS,
  type JobForm,
  type YardstickMode,
  type Yardsticks,
} from './word-count-yardsticks.ts';

export interface WordCountOptions {
  mb: number;
  tabs: number;
  /** Workers per tab (the volunteer page's worker-count field); default: the page's own choice. */
  workers?: number;
  /** All tabs in one browser profile, sharing its cores (bench/lib.ts openTabs): the default, and always the curve's. */
  oneBrowser?: boolean;
  files: number;
  /** The job's forms the main input runs in, tabreduce and bare workers alike. Default both. */
  forms: JobForm[];
  /** Workers of the bare-worker yardstick, all in one tab. Default: `tabs`. */
  bareWorkers: number;
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
  const tabs = flags.number('tabs', 2, { integer: true, min: 1 });
  const options: WordCountOptions = {
    mb: flags.number('mb', 100, { min: 0.01 }),
    tabs,
    oneBrowser: !flags.has('tab-profiles'),
    files: flags.number('files', 6, { integer: true, min: 1 }),
    forms: parseForms(flags.string('forms', JOB_FORMS.join(','))),
    bareWorkers: flags.number('bare-workers', tabs, { integer: true, min: 1 }),
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

// ── tabreduce ───────────────────────────────────────────────────────────────────────

export interface TabreduceRun {
  form: JobForm;
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
  /** Backup copies started, and those whose answer won. */
  backups?: { started: number; won: number };
  volunteersUsed: number;
  taskMs: { map: Durations; reduce: Durations };
  /** Per volunteer: the map tasks whose answer was accepted from it, and when its last one was done (s since the start): the phase's balance. */
  mapsByVolunteer: { maps: number; lastDoneSeconds: number }[];
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

/** Starts a coordinator and `tabs` tabs, runs the word count in `form` over `corpus` through the upload path, and stops them. */
export async function runTabreduce(corpus: Corpus, expected: Map<string, number>, tabs: number, options: WordCountOptions, form: JobForm = 'emit'): Promise<TabreduceRun> {
  const source = readFileSync(JOB_PATHS[form], 'utf8');
  const profileDir = options.cpuProf ? path.join(CACHE_DIR, 'profiles', `word-count-${form}-${corpus.totalBytes}b-${tabs}tabs-${Date.now()}`) : undefined;
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
    const startedAtMs = Date.now();
    const since = () => (performance.now() - started) / 1000;
    // As the CLI does: the client's own upload (client/input-upload.ts), each file streamed to POST /api/files.
    const input = await uploadInput(api, { kind: 'paths', paths: corpus.files.map((file) => file.path) });
    const uploadedSeconds = since();
    const { id } = await api.submitJob({
      name: `bench word-count (${form} form) ${(corpus.totalBytes / MB).toFixed(0)} MB, ${tabs} tabs`,
      source,
      input,
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
      form,
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
      backups: finished.summary.backups,
      volunteersUsed: finished.summary.volunteersUsed,
      taskMs: { map: durations(tasks, 'map'), reduce: durations(tasks, 'reduce') },
      mapsByVolunteer: mapsByVolunteer(tasks, startedAtMs),
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

// ── Main ────────────────────────────────────────────────────────────────────────────

interface SizeMeasurement {
  yardsticks: Yardsticks;
  /** Only when `bareForms` asked for it. */
  bare?: BareYardsticks;
  runs: TabreduceRun[];
}

/**
 * Yardsticks (Node's `modes`, then bare workers in each of `bareForms`), then tabreduce at
 * each point, then the yardsticks again: the ratios of one run.
 */
async function measureSize(
  corpus: Corpus,
  points: { tabs: number; form: JobForm }[],
  options: WordCountOptions,
  modes: YardstickMode[] = ALL_MODES,
  bareForms: readonly JobForm[] = [],
): Promise<SizeMeasurement> {
  console.log(`\ncorpus: ${describeCorpus(corpus)}`);
  console.log(`yardsticks: ${modes.join(', ')}...`);
  const yardsticks = await measureYardsticks(corpus, modes);
  const expected = yardsticks.best.matchAll.counts;
  const bareAgain = async (into?: BareYardsticks) => {
    if (bareForms.length === 0) return undefined;
    console.log(`bare workers (${options.bareWorkers} in 1 tab): ${bareForms.join(', ')}...`);
    return measureBare(corpus, bareForms, options.bareWorkers, expected, into);
  };
  const bare = await bareAgain();
  const runs: TabreduceRun[] = [];
  for (const { tabs, form } of points) {
    console.log(`tabreduce: ${tabs} tab(s), ${form} form...`);
    const run = await runTabreduce(corpus, expected, tabs, options, form);
    console.log(`  ${fixed(run.seconds, 3)} s${run.problems.length > 0 ? ' WRONG RESULT' : ', verified'}`);
    runs.push(run);
  }
  console.log('yardsticks again...');
  await bareAgain(bare);
  await measureYardsticks(corpus, modes, yardsticks);
  return { yardsticks, ...(bare ? { bare } : {}), runs };
}

async function main(): Promise<void> {
  const options = parseWordCountOptions(process.argv.slice(2));
  checkBrowserSetup();
  for (const file of Object.values(JOB_PATHS)) {
    if (!readFileSync(file, 'utf8').includes(WORD_SOURCE)) {
      console.warn(`warning: ${path.relative(repoRoot, file)} no longer tokenizes with ${WORD_SOURCE}; the Node yardsticks still do, so the answers may differ`);
    }
  }
  const allRuns: TabreduceRun[] = [];

  if (!options.skipMain) {
    const corpus = buildCorpus({ mb: options.mb, files: options.files });
    const points = options.forms.map((form) => ({ tabs: options.tabs, form }));
    const { yardsticks, bare, runs } = await measureSize(corpus, points, options, ALL_MODES, options.forms);
    const run = primaryRun(runs);
    allRuns.push(...runs);
    const mb = corpus.totalBytes / MB;
    console.log(`\n── Issue 4, target 1: end-to-end word count, ${mb.toFixed(1)} MB, ${options.tabs} tabs (target: x baseline <= 1.0, stretch 0.7) ──`);
    console.log(sizeTable(corpus, yardsticks, runs, bare));
    console.log(`\n── Issue 13, target 1: tabreduce against the same module in ${options.bareWorkers} bare workers, ${mb.toFixed(1)} MB, ${options.tabs} tabs (target: <= ${BARE_TARGET}) ──`);
    console.log(bareTable(yardsticks, runs, bare!, mb));
    console.log('');
    console.log(`input:            ${yardsticks.best.matchAll.words} words, ${yardsticks.best.matchAll.counts.size} distinct`);
    for (const line of describeBare(bare!, mb)) console.log(line);
    for (const each of runs) {
      console.log('');
      for (const line of describeRun(each)) console.log(line);
    }
    console.log(`\n── Issue 4, target 3: memory, ${mb.toFixed(0)} MB job, ${run.form} form (target: coordinator peak RSS <= 300 MB) ──`);
    console.log(
      table([
        ['process', 'peak MiB', 'measure'],
        ['coordinator', mibOf(run.coordinatorPeakRssKiB), 'RSS (VmHWM)'],
        ...chromiumRows(run.chromium),
        ...(['matchAll', 'threads=2'] as const).map((mode) => [YARDSTICK_LABELS[mode], mibOf(yardsticks.best[mode].peakRssKiB), 'RSS (VmHWM)']),
      ]),
    );
    const file = saveResults(`word-count${options.cpuProf ? '-profiled' : ''}`, { options, ...summarize(corpus, yardsticks, runs, bare) });
    console.log(`\nsaved ${path.relative(repoRoot, file)}`);
  }

  if (options.curve) {
    const points: { mb: number; tabs: number; run: TabreduceRun; baseline: number; threads: number }[] = [];
    const [first, ...others] = options.curveSizes;
    const plan: [number, number[]][] = [[first!, [...new Set([...options.curveTabs, 2])].sort((a, b) => a - b)], ...others.map((mb): [number, number[]] => [mb, [2]])];
    for (const [mb, tabsList] of plan) {
      const corpus = buildCorpus({ mb, files: options.files });
      // Never the main run's result: its tabs have a browser profile each, the curve's share one.
      const { yardsticks, runs } = await measureSize(corpus, tabsList.map((tabs) => ({ tabs, form: 'emit' as const })), { ...options, oneBrowser: true }, ['matchAll', 'threads=2']);
      for (const run of runs) {
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
    const { yardsticks, runs } = await measureSize(corpus, [{ tabs: options.tabs, form: 'emit' }], { ...options, replication: 1 }, ['matchAll']);
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
    const { yardsticks, runs } = await measureSize(corpus, [{ tabs: options.tabs, form: 'emit' }], options, ['matchAll', 'threads=2']);
    const run = runs[0]!;
    allRuns.push(run);
    console.log(`\n── Issue 4, target 3: memory, ${options.gb} GB input (target: coordinator peak RSS <= 400 MB) ──`);
    console.log(sizeTable(corpus, yardsticks, runs));
    console.log('');
    for (const line of describeRun(run)) console.log(line);
    const file = saveResults(`word-count-gb${options.cpuProf ? '-profiled' : ''}`, { options, ...summarize(corpus, yardsticks, runs) });
    console.log(`saved ${path.relative(repoRoot, file)}`);
  }
  failIfWrong(allRuns);
}

await runMain(import.meta, main);

function mapsByVolunteer(tasks: readonly TaskSummary[], startedAtMs: number): TabreduceRun['mapsByVolunteer'] {
  const by = new Map<string, { maps: number; lastDoneSeconds: number }>();
  for (const task of tasks) {
    if (task.kind !== 'map' || task.volunteerId === undefined || task.finishedAtMs === undefined) continue;
    const entry = by.get(task.volunteerId) ?? { maps: 0, lastDoneSeconds: 0 };
    entry.maps++;
    entry.lastDoneSeconds = Math.max(entry.lastDoneSeconds, (task.finishedAtMs - startedAtMs) / 1000);
    by.set(task.volunteerId, entry);
  }
  return [...by.values()].sort((a, b) => b.maps - a.maps);
}
