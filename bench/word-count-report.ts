/**
 * What bench/word-count.ts prints and saves: the table of one input size (every
 * yardstick and every tabreduce run, with their ratios), issue 13's table of tabreduce
 * against the bare workers form by form, one run's details, and the JSON summary that
 * bench/run.ts reads back.
 */
import path from 'node:path';
import type { BareRun, BareYardsticks } from './bare-workers.ts';
import type { Corpus } from './corpus.ts';
import { describeChromium, fixed, MB, mibOf, repoRoot, table, type Durations } from './lib.ts';
import { cpuShareRows } from './thread-cpu.ts';
import type { TabreduceRun } from './word-count.ts';
import { ALL_MODES, JOB_FORMS, YARDSTICK_LABELS, type JobForm, type YardstickMode, type Yardsticks } from './word-count-yardsticks.ts';

/** Issue 13, target 1: tabreduce's wall time at most this many times the bare workers'. */
export const BARE_TARGET = 1.25;

export function describeCorpus(corpus: Corpus): string {
  return `${corpus.source} (Moby-Dick, ${(corpus.bookBytes / MB).toFixed(2)} MB) x ${corpus.copies.toFixed(1)} = ${(corpus.totalBytes / MB).toFixed(1)} MB in ${corpus.files.length} files`;
}

const bareLabel = (run: BareRun) => `bare workers, ${run.form} form: ${run.workers} plain Web Workers in 1 tab`;
const tabreduceLabel = (run: TabreduceRun) => `tabreduce, ${run.form} form, ${run.tabs} tab${run.tabs === 1 ? '' : 's'} (${run.slots} slots), upload to result`;

/** The table of one size: the Node yardsticks, the bare workers, then tabreduce's run(s). */
export function sizeTable(corpus: Corpus, yardsticks: Yardsticks, runs: TabreduceRun[], bare?: BareYardsticks): string {
  const mb = corpus.totalBytes / MB;
  const base = yardsticks.best.matchAll.seconds;
  const threads = yardsticks.best['threads=2']?.seconds;
  const rows: string[][] = [['', 'wall s', 'MB/s', 'x baseline', 'x threads', 'peak RSS MiB', 'runs (s)']];
  const row = (label: string, seconds: number, rss: string, runsSeconds: number[]) => [
    label,
    fixed(seconds, 3),
    fixed(mb / seconds, 1),
    fixed(seconds / base),
    threads !== undefined ? fixed(seconds / threads) : '-',
    rss,
    runsSeconds.map((s) => s.toFixed(2)).join(', '),
  ];
  for (const mode of ALL_MODES) {
    const run = yardsticks.best[mode];
    if (run) rows.push(row(YARDSTICK_LABELS[mode], run.seconds, mibOf(run.peakRssKiB), yardsticks.seconds[mode]));
  }
  for (const form of JOB_FORMS) {
    const run = bare?.best[form];
    if (run) rows.push(row(bareLabel(run), run.seconds, '', bare!.seconds[form] ?? []));
  }
  for (const run of runs) rows.push(row(tabreduceLabel(run), run.seconds, `coord. ${mibOf(run.coordinatorPeakRssKiB)}`, []));
  return table(rows);
}

/**
 * CPU seconds a tabreduce run spent in all: Chromium and the coordinator, each process's
 * own total. Its thread table (`run.cpu`) can come out lower: it loses threads that ended.
 */
export const tabreduceCpuSeconds = (run: TabreduceRun) => run.chromium.cpuSeconds + (run.coordinatorCpuSeconds ?? 0);

/**
 * Issue 13, target 1, form by form: tabreduce against the same module in bare workers, and
 * both against the baseline. The CPU per MB beside them reads the same on a loaded machine,
 * where wall times do not.
 */
export function bareTable(yardsticks: Yardsticks, runs: TabreduceRun[], bare: BareYardsticks, mb: number): string {
  const base = yardsticks.best.matchAll.seconds;
  const perMb = (seconds: number) => fixed((seconds * 1000) / mb, 0);
  const rows: string[][] = [
    ['form', 'tabreduce s', 'bare workers s', `tabreduce / bare (target <= ${BARE_TARGET})`, 'met', 'tabreduce / baseline', 'bare / baseline', 'CPU ms/MB: tabreduce', 'bare'],
  ];
  for (const run of runs) {
    const b = bare.best[run.form];
    rows.push([
      run.form,
      fixed(run.seconds, 3),
      fixed(b?.seconds, 3),
      b ? fixed(run.seconds / b.seconds) : '-',
      b ? (run.problems.length === 0 && run.seconds / b.seconds <= BARE_TARGET ? 'yes' : 'NO') : '',
      fixed(run.seconds / base),
      b ? fixed(b.seconds / base) : '-',
      perMb(tabreduceCpuSeconds(run)),
      b ? perMb(b.chromiumCpuSeconds) : '-',
    ]);
  }
  return table(rows);
}

/** The bare workers' own figures: where each worker's time went, and their CPU per MB. */
export function describeBare(bare: BareYardsticks, mb: number): string[] {
  return JOB_FORMS.flatMap((form) => {
    const run = bare.best[form];
    if (!run) return [];
    const workers = run.perWorker.map((w) => `${(w.bytes / MB).toFixed(1)} MB: map ${w.mapSeconds.toFixed(2)} s, waiting on fetch ${w.fetchWaitSeconds.toFixed(2)} s`).join('; ');
    return [
      `bare, ${form.padEnd(9)}  ${workers}; merge ${fixed(run.mergeSeconds, 3)} s; ` +
        `CPU: workers ${run.workerCpuSeconds.toFixed(2)} s (${((run.workerCpuSeconds * 1000) / mb).toFixed(0)} ms/MB), all Chromium ${run.chromiumCpuSeconds.toFixed(2)} s (${((run.chromiumCpuSeconds * 1000) / mb).toFixed(0)} ms/MB)`,
    ];
  });
}

export function describeRun(run: TabreduceRun): string[] {
  const t = (d: Durations) => (d.count > 0 ? `median ${d.median} ms, p90 ${d.p90} ms, max ${d.max} ms, sum ${(d.sum / 1000).toFixed(1)} s` : 'n/a');
  return [
    `── tabreduce, ${run.form} form ──`,
    `tabreduce phases: uploaded ${fixed(run.uploadedSeconds, 3)} s, submitted (201) ${fixed(run.submittedSeconds, 3)} s, maps done ${fixed(run.mapsDoneSeconds, 3)} s, ` +
      `succeeded ${fixed(run.succeededSeconds, 3)} s, result in hand ${fixed(run.seconds, 3)} s`,
    `job:              ${run.mapTasks} map tasks, ${run.reducers} reducers, ${run.retries} retries, ${run.backups ? `${run.backups.started} backup copies (${run.backups.won} won)` : 'backups n/a'}, ${run.volunteersUsed} volunteers used; longest poll of the job ${fixed(run.longestPollMs, 0)} ms${run.pollErrors > 0 ? ` (${run.pollErrors} reset)` : ''}`,
    `task times:       map ${t(run.taskMs.map)}; reduce ${t(run.taskMs.reduce)} (lease to done)`,
    `map balance:      ${(run.mapsByVolunteer ?? []).map((v) => `${v.maps} maps, last done at ${fixed(v.lastDoneSeconds, 2)} s`).join('; ')}`,
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

/** The run a one-run summary reports: the emit form's (the gallery's example) when there is one. */
export function primaryRun(runs: TabreduceRun[]): TabreduceRun {
  return runs.find((run) => run.form === 'emit') ?? runs[0]!;
}

/**
 * The JSON saved for one size. `tabreduce`, `ratioToBaseline` and `ratioToThreads` are the
 * primary run's, as before there were two forms; `forms` holds each form's runs and ratios.
 */
export function summarize(corpus: Corpus, yardsticks: Yardsticks, runs: TabreduceRun[], bare?: BareYardsticks) {
  const base = yardsticks.best.matchAll;
  const threads = yardsticks.best['threads=2'];
  const run = primaryRun(runs);
  const mb = corpus.totalBytes / MB;
  const forms: Partial<Record<JobForm, object>> = {};
  for (const each of runs) {
    const b = bare?.best[each.form];
    forms[each.form] = {
      tabreduceSeconds: each.seconds,
      tabreduceCpuMsPerMb: (tabreduceCpuSeconds(each) * 1000) / mb,
      ratioToBaseline: each.seconds / base.seconds,
      ...(b
        ? {
            bare: { ...b, runs: bare!.seconds[each.form], workerCpuMsPerMb: (b.workerCpuSeconds * 1000) / mb, chromiumCpuMsPerMb: (b.chromiumCpuSeconds * 1000) / mb },
            bareRatioToBaseline: b.seconds / base.seconds,
            ratioToBare: each.seconds / b.seconds,
            bareTargetMet: each.problems.length === 0 && each.seconds / b.seconds <= BARE_TARGET,
          }
        : {}),
      verified: each.problems.length === 0,
      tabreduce: { ...each, mbPerSecond: mb / each.seconds },
    };
  }
  return {
    corpus: { source: corpus.source, files: corpus.files.length, bytes: corpus.totalBytes },
    words: base.words,
    distinctWords: base.counts.size,
    yardsticks: Object.fromEntries(
      Object.entries(yardsticks.best).map(([mode, r]) => [mode, { seconds: r.seconds, runs: yardsticks.seconds[mode as YardstickMode], mbPerSecond: mb / r.seconds, peakRssKiB: r.peakRssKiB }]),
    ),
    tabreduce: { ...run, mbPerSecond: mb / run.seconds },
    ratioToBaseline: run.seconds / base.seconds,
    ratioToThreads: threads ? run.seconds / threads.seconds : undefined,
    verified: runs.every((each) => each.problems.length === 0),
    forms,
  };
}

export function failIfWrong(runs: TabreduceRun[]): void {
  const wrong = runs.filter((run) => run.problems.length > 0);
  if (wrong.length > 0) {
    console.error(`\nFAILED: ${wrong.length} tabreduce run(s) differ from the baseline`);
    process.exitCode = 1;
  }
}
