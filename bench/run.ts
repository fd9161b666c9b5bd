/**
 * `npm run bench`: issue 4's measurements, one benchmark after the other (each in a
 * process of its own), then one summary table against the targets.
 *
 *   npm run bench                        all: word count (target 1 and 3), dispatch (2), crowd (4),
 *                                        the coordinator alone (issue 13, target 3), the cluster
 *   npm run bench -- word-count [flags]  bench/word-count.ts alone (flags as it documents)
 *   npm run bench -- dispatch [flags]    bench/dispatch.ts alone
 *   npm run bench -- crowd [flags]       bench/crowd.ts alone
 *   npm run bench -- coordinator-alone   bench/coordinator-alone.ts alone (Node volunteers, no browser)
 *   npm run bench -- cluster [flags]     bench/cluster.ts alone: 1, 2 and 3 coordinators on one PostgreSQL
 *   npm run bench -- curve [flags]       the scaling curve alone (word-count.ts --curve --skip-main)
 *   npm run bench -- result-download     bench/result-download.ts: serving a large result (not in `all`)
 *   npm run bench -- map-runtime [flags] bench/map-runtime.ts: a map task's runtime against a bare loop (not in `all`)
 *   npm run bench -- submit [flags]      bench/submit.ts: the event loop while large jobs are submitted (not in `all`)
 *   npm run bench -- summary             the summary of the last results in bench/.cache/
 *   npm run bench -- compare --ref REF   bench/compare.ts: word count, dispatch and the coordinator alone on
 *                                        REF and on this checkout, rounds interleaved, one table (not in `all`)
 *
 * With no sub-command, flags go to the benchmark they belong to: --mb, --tabs, --files,
 * --workers, --reducers, --split-bytes, --forms, --bare-workers, --curve, --gb [N] to the word count; --tasks,
 * --latency-tasks, --dispatch-tabs (its --tabs) to dispatch; --volunteers, --processes,
 * --tasks-per-volunteer to the crowd; --alone-tasks, --alone-mb (its --tasks, --mb) to the
 * coordinator alone; --cluster-sizes, --cluster-tasks, --cluster-mb, --cluster-crowd (its --sizes,
 * --tasks, --mb, --crowd) to the cluster; --timeout to all five, --cpu-prof to the first four,
 * --store to the first three.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { summaryRows as clusterRows, type ClusterResults } from './cluster-report.ts';
import { compare } from './compare.ts';
import { CACHE_DIR, fixed, runMain, table } from './lib.ts';

const BENCHES = ['word-count', 'dispatch', 'crowd', 'coordinator-alone', 'cluster'] as const;
type Bench = (typeof BENCHES)[number];

const ROUTES: Record<string, Bench[]> = {
  mb: ['word-count'],
  tabs: ['word-count'],
  files: ['word-count'],
  reducers: ['word-count'],
  'split-bytes': ['word-count'],
  curve: ['word-count'],
  'curve-sizes': ['word-count'],
  'curve-tabs': ['word-count'],
  gb: ['word-count'],
  'skip-main': ['word-count'],
  workers: ['word-count'],
  forms: ['word-count'],
  'bare-workers': ['word-count'],
  replication: ['word-count'],
  'replication-overhead': ['word-count'],
  tasks: ['dispatch'],
  'latency-tasks': ['dispatch'],
  'latency-jobs': ['dispatch'],
  'dispatch-tabs': ['dispatch'],
  'tab-prof': ['dispatch'],
  'tab-profiles': ['word-count', 'dispatch'],
  volunteers: ['crowd'],
  processes: ['crowd'],
  'tasks-per-volunteer': ['crowd'],
  'alone-tasks': ['coordinator-alone'],
  'alone-mb': ['coordinator-alone'],
  'cluster-sizes': ['cluster'],
  'cluster-tasks': ['cluster'],
  'cluster-mb': ['cluster'],
  'cluster-crowd': ['cluster'],
  store: ['word-count', 'dispatch', 'crowd'],
  timeout: ['word-count', 'dispatch', 'crowd', 'coordinator-alone', 'cluster'],
  'cpu-prof': ['word-count', 'dispatch', 'crowd', 'coordinator-alone'],
};
/** Flags renamed on their way to the benchmark they belong to. */
const RENAMED: Record<string, string> = { 'dispatch-tabs': 'tabs', 'alone-tasks': 'tasks', 'alone-mb': 'mb', 'cluster-sizes': 'sizes', 'cluster-tasks': 'tasks', 'cluster-mb': 'mb', 'cluster-crowd': 'crowd' };
const SWITCHES = new Set(['curve', 'skip-main', 'cpu-prof', 'tab-prof', 'tab-profiles']);

/** Splits `argv` (flags only) into each benchmark's own. */
export function routeFlags(argv: readonly string[]): Record<Bench, string[]> {
  const routed: Record<Bench, string[]> = { 'word-count': [], dispatch: [], crowd: [], 'coordinator-alone': [], cluster: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}": give a sub-command first (word-count, dispatch, crowd, coordinator-alone, cluster, curve, compare, summary) or flags only`);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const targets = ROUTES[rawName];
    if (!targets) throw new Error(`unknown flag ${arg}; known: ${Object.keys(ROUTES).map((name) => `--${name}`).join(', ')}`);
    const name = RENAMED[rawName] ?? rawName;
    const args = [`--${name}`];
    if (inline !== undefined) args[0] = `--${name}=${inline}`;
    else if (!SWITCHES.has(rawName) && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) args.push(argv[++i]!);
    for (const bench of targets) routed[bench].push(...args);
  }
  return routed;
}

function runScript(script: string, args: string[]): Promise<number> {
  console.log(`\n════ npx tsx bench/${script}.ts ${args.join(' ')} ════`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, `${script}.ts`), ...args], { stdio: 'inherit' });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

// ── Summary ─────────────────────────────────────────────────────────────────────────

function load<T>(name: string): (T & { at: string }) | undefined {
  const file = path.join(CACHE_DIR, `${name}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T & { at: string };
  } catch {
    return undefined;
  }
}

interface ChromiumJson {
  tabRenderers: { peakPssKiB: number }[];
  peakRendererPssKiB: number;
  peakTotalPssKiB: number;
}
interface WordCountFormJson {
  tabreduceSeconds: number;
  ratioToBaseline: number;
  bare?: { seconds: number; workers: number };
  bareRatioToBaseline?: number;
  ratioToBare?: number;
  bareTargetMet?: boolean;
  verified: boolean;
}
interface WordCountJson {
  corpus: { bytes: number };
  tabreduce: { tabs: number; seconds: number; coordinatorPeakRssKiB?: number; chromium: ChromiumJson };
  ratioToBaseline: number;
  ratioToThreads?: number;
  yardsticks: Record<string, { seconds: number }>;
  verified: boolean;
  /** By job form (generator, emit); absent in results saved before issue 13. */
  forms?: Record<string, WordCountFormJson>;
}
interface DispatchJson {
  /** Lone tasks, one after another (absent in results saved before issue 13). */
  latency?: { jobs: number; mapMs: { median: number } };
  runs: { label: string; tasks: number; tabs: number; tasksPerSecond: number; mapTasksPerSecond?: number; mapMs: { median: number }; submitLongestBlockMs?: number; coordinatorPeakRssKiB?: number; problems: string[] }[];
}
interface SubmitJson {
  runs: { kind: string; tasks: number; longestBlockMs: number }[];
}
interface CrowdJson {
  points: { volunteers: number; ok: boolean; failure?: string; rssPerConnectionKiB?: number; rssPerConnectionSecondHalfKiB?: number; tasksPerSecond?: number; volunteersWithTasks?: number; coordinatorPeakRssKiB?: number }[];
}
interface CoordinatorAloneJson {
  volunteers: number;
  runs: { job: 'tiny' | 'text'; tasks: number; mb?: number; tasksPerSecond: number; tasksPerCpuSecond: number; mbPerSecond?: number; mbPerCpuSecond?: number; problems: string[] }[];
}
interface CurveJson {
  points: { mb: number; tabs: number; ratioToBaseline: number; ratioToThreads: number; run: { seconds: number } }[];
}

interface MapRuntimeJson {
  splitBytes: number;
  node: { name: string; msPerMb: number; overBareLoop?: number }[];
  chromium?: { name: string; msPerMb: number; overBareLoop?: number }[];
}

const MBof = (kib: number | undefined) => (kib === undefined ? '-' : `${((kib * 1024) / 1e6).toFixed(0)} MB`);
const met = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'yes' : 'NO');
const when = (at: string | undefined) => (at ? at.slice(0, 16).replace('T', ' ') : '');

export function printSummary(): void {
  const wc = load<WordCountJson>('word-count');
  const gb = load<WordCountJson>('word-count-gb');
  const dispatch = load<DispatchJson>('dispatch');
  const crowd = load<CrowdJson>('crowd');
  const submit = load<SubmitJson>('submit');
  const curve = load<CurveJson>('word-count-curve');
  const alone = load<CoordinatorAloneJson>('coordinator-alone');
  const mapRuntime = load<MapRuntimeJson>('map-runtime');
  const cluster = load<ClusterResults>('cluster');
  const rows: string[][] = [['target', 'measured', 'goal', 'met', 'measured at (UTC)']];
  if (wc) {
    const size = `word count ${(wc.corpus.bytes / 1e6).toFixed(0)} MB, ${wc.tabreduce.tabs} tabs`;
    const label = `1 ${size}`;
    rows.push([`${label}: tabreduce / 1-thread baseline`, `${fixed(wc.ratioToBaseline)} (${fixed(wc.tabreduce.seconds, 2)} s vs ${fixed(wc.yardsticks.matchAll?.seconds, 2)} s)${wc.verified ? '' : ' WRONG RESULT'}`, '<= 1.0 (stretch 0.7)', met(wc.verified && wc.ratioToBaseline <= 1), when(wc.at)]);
    rows.push([`${label}: tabreduce / 2 worker_threads`, `${fixed(wc.ratioToThreads)} (threads ${fixed(wc.yardsticks['threads=2']?.seconds, 2)} s)`, 'report', '', when(wc.at)]);
    for (const [form, f] of Object.entries(wc.forms ?? {})) {
      if (!f.bare || f.ratioToBare === undefined) continue;
      rows.push([
        `13.1 ${size}, ${form} form: tabreduce / ${f.bare.workers} bare workers`,
        `${fixed(f.ratioToBare)} (${fixed(f.tabreduceSeconds, 2)} s vs ${fixed(f.bare.seconds, 2)} s); x baseline: tabreduce ${fixed(f.ratioToBaseline)}, bare ${fixed(f.bareRatioToBaseline)}${f.verified ? '' : ' WRONG RESULT'}`,
        '<= 1.25',
        met(f.bareTargetMet),
        when(wc.at),
      ]);
    }
  }
  if (mapRuntime) {
    for (const [engine, results] of [['Node', mapRuntime.node], ['Chromium', mapRuntime.chromium]] as const) {
      const result = (name: string) => results?.find((r) => r.name === name);
      const forms = ['emit', 'generator'].flatMap((form) => {
        const [runtime, bare] = [result(`${form}-runtime`), result(`${form}-bare`)];
        return runtime && bare ? [`${form} ${fixed(runtime.msPerMb, 0)} vs ${fixed(bare.msPerMb, 0)} (x${fixed(runtime.overBareLoop)})`] : [];
      });
      if (forms.length > 0) rows.push([`1 map task in ${engine}: task runtime vs bare loop, ms/MB`, forms.join(', '), 'report', '', when(mapRuntime.at)]);
    }
  }
  if (dispatch) {
    const saturated = dispatch.runs.at(-1);
    const quiet = dispatch.runs.length > 1 ? dispatch.runs[0] : undefined;
    if (saturated) {
      rows.push([`13.2 dispatch ${saturated.tasks} tasks, ${saturated.tabs} tabs: tasks/s end to end`, `${fixed(saturated.tasksPerSecond, 0)} (map phase ${fixed(saturated.mapTasksPerSecond, 0)})`, '>= 10,000', met(saturated.problems.length === 0 && saturated.tasksPerSecond >= 10_000), when(dispatch.at)]);
    }
    if (dispatch.latency) rows.push([`13.2 median assignment to result, ${dispatch.latency.jobs} lone tasks, 1 tab 1 worker`, `${fixed(dispatch.latency.mapMs.median, 1)} ms`, '< 5 ms', met(dispatch.latency.mapMs.median < 5), when(dispatch.at)]);
    if (quiet) rows.push(['2 median assignment to result, 1 tab 1 worker saturated', `${fixed(quiet.mapMs.median, 0)} ms`, 'report', '', when(dispatch.at)]);
    if (saturated?.submitLongestBlockMs !== undefined) {
      rows.push([`13.2 longest event-loop block submitting ${saturated.tasks} tasks`, `${fixed(saturated.submitLongestBlockMs, 1)} ms`, '< 50 ms', met(saturated.submitLongestBlockMs < 50), when(dispatch.at)]);
    }
  }
  if (alone) {
    for (const run of alone.runs) {
      const ok = run.problems.length === 0 ? '' : ' WRONG RESULT';
      if (run.job === 'tiny') {
        rows.push([`13.3 coordinator alone, ${run.tasks} tiny tasks, ${alone.volunteers} Node volunteers`, `${fixed(run.tasksPerCpuSecond, 0)} tasks per coordinator CPU s (${fixed(run.tasksPerSecond, 0)} tasks/s)${ok}`, 'aim 20,000', met(run.problems.length === 0 && run.tasksPerCpuSecond >= 20_000), when(alone.at)]);
      } else {
        rows.push([`13.3 coordinator alone, word count ${fixed(run.mb, 0)} MB`, `${fixed(run.mbPerCpuSecond, 1)} MB per coordinator CPU s (${fixed(run.mbPerSecond, 1)} MB/s)${ok}`, 'report', '', when(alone.at)]);
      }
    }
  }
  // bench/submit.ts, the worst of its tries for each range size.
  for (const tasks of new Set(submit?.runs.filter((run) => run.kind === 'range').map((run) => run.tasks))) {
    const worst = Math.max(...submit!.runs.filter((run) => run.kind === 'range' && run.tasks === tasks).map((run) => run.longestBlockMs));
    rows.push([`13.2 longest event-loop block submitting a ${tasks}-task range (bench submit)`, `${fixed(worst, 1)} ms`, '< 50 ms', met(worst < 50), when(submit!.at)]);
  }
  if (wc) {
    rows.push([`3 coordinator peak RSS, ${(wc.corpus.bytes / 1e6).toFixed(0)} MB job`, MBof(wc.tabreduce.coordinatorPeakRssKiB), '<= 300 MB', met(wc.tabreduce.coordinatorPeakRssKiB !== undefined ? (wc.tabreduce.coordinatorPeakRssKiB * 1024) / 1e6 <= 300 : undefined), when(wc.at)]);
  }
  if (gb) {
    rows.push([`3 coordinator peak RSS, ${(gb.corpus.bytes / 1e9).toFixed(1)} GB job`, `${MBof(gb.tabreduce.coordinatorPeakRssKiB)} (ratio ${fixed(gb.ratioToBaseline)} vs baseline)${gb.verified ? '' : ' WRONG RESULT'}`, '<= 400 MB', met(gb.tabreduce.coordinatorPeakRssKiB !== undefined ? (gb.tabreduce.coordinatorPeakRssKiB * 1024) / 1e6 <= 400 : undefined), when(gb.at)]);
  } else {
    rows.push(['3 coordinator peak RSS, 1 GB job', 'not run (npm run bench -- word-count --gb --skip-main)', '<= 400 MB', '', '']);
  }
  if (wc) {
    const c = wc.tabreduce.chromium;
    rows.push([
      '3 Chromium per tab (PSS)',
      `working renderer ${c.tabRenderers.map((r) => MBof(r.peakPssKiB)).join(' / ')}; all renderers ÷ tabs ${MBof(c.peakRendererPssKiB / Math.max(1, c.tabRenderers.length))}; all Chromium ${MBof(c.peakTotalPssKiB)}`,
      'report',
      '',
      when(wc.at),
    ]);
  }
  if (crowd) {
    for (const p of crowd.points) {
      rows.push([
        `4 crowd of ${p.volunteers}`,
        p.ok
          ? `${fixed(p.rssPerConnectionKiB, 0)} KiB/conn (2nd half ${fixed(p.rssPerConnectionSecondHalfKiB, 0)}), ${fixed(p.tasksPerSecond, 0)} tasks/s, ${p.volunteersWithTasks} got work, peak ${MBof(p.coordinatorPeakRssKiB)}`
          : `failed: ${(p.failure ?? '').slice(0, 120)}`,
        p.volunteers === 1000 ? 'holds 1,000 and finishes' : 'report',
        p.volunteers === 1000 ? met(p.ok) : '',
        when(crowd.at),
      ]);
    }
  }
  if (curve) {
    for (const p of curve.points) rows.push([`curve ${p.mb} MB, ${p.tabs} tab${p.tabs === 1 ? '' : 's'}`, `${fixed(p.run.seconds, 2)} s, x baseline ${fixed(p.ratioToBaseline)}, x threads ${fixed(p.ratioToThreads)}`, 'report', '', when(curve.at)]);
  }
  if (cluster) rows.push(...clusterRows(cluster, when(cluster.at)));
  console.log('\n══ Issues 4 and 13: summary of the last results in bench/.cache/ ══');
  console.log(table(rows, 'left'));
}

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  const sub = first && !first.startsWith('--') ? first : undefined;
  const flags = sub ? rest : process.argv.slice(2);
  const failed: string[] = [];
  const run = async (script: string, args: string[]) => {
    const code = await runScript(script, args);
    if (code !== 0) failed.push(`${script} (exit ${code})`);
  };
  switch (sub) {
    case undefined:
    case 'all': {
      const routed = routeFlags(flags);
      for (const bench of BENCHES) await run(bench, routed[bench]);
      break;
    }
    case 'word-count':
    case 'dispatch':
    case 'crowd':
    case 'coordinator-alone':
    case 'cluster':
    case 'result-download':
    case 'map-runtime':
    case 'submit':
      await run(sub, flags);
      break;
    case 'curve':
      await run('word-count', ['--curve', '--skip-main', ...flags]);
      break;
    case 'summary':
      break;
    case 'compare':
      // Its own table: the summary would show this checkout's last results, which compare overwrote.
      await compare(flags, routeFlags);
      return;
    default:
      throw new Error(`unknown sub-command "${sub}": all, word-count, dispatch, crowd, coordinator-alone, cluster, curve, result-download, map-runtime, submit, compare or summary`);
  }
  printSummary();
  if (failed.length > 0) {
    console.error(`\nFAILED: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

await runMain(import.meta, main);
