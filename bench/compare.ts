/**
 * `npm run bench -- compare --ref <git-ref>`: did a change make the single-machine default
 * (one coordinator, embedded SQLite) slower? The same benchmarks on two versions in one
 * run, their rounds interleaved, so that the noise of a shared machine falls on both alike.
 *
 *   before: <ref>, checked out into a temporary git worktree (node_modules linked from
 *           this checkout, its own `npx vite build`), removed at the end, also on failure;
 *   after:  this checkout as it is, uncommitted changes included (built again here).
 *
 * Each round runs every benchmark once in each tree, alternately, each in a process of
 * its own and with that tree's own script (bench/<name>.ts, cwd = the tree), then reads
 * the JSON it saved in that tree's bench/.cache/. The order within a pair flips from one
 * round to the next (before/after, then after/before): a position effect (a machine that
 * gets busier, a page cache warmed by the first) then does not always favour one side.
 *
 * Benchmarks (--benches, default all three), with defaults sized to about half a minute
 * each on 2 cores, each one overridden by the same flag given here:
 *   word-count         bench/word-count.ts --mb 100 --forms emit: MB/s upload to result,
 *                      x the 1-thread Node baseline measured in the same run, coordinator CPU ms/MB;
 *   dispatch           bench/dispatch.ts: lone-task latency, one worker saturated, 4 tabs saturated;
 *   coordinator-alone  bench/coordinator-alone.ts: Node volunteers, tasks/s, MB/s and both
 *                      per coordinator CPU second.
 * Other flags go where `npm run bench` sends them (bench/run.ts routeFlags: --tasks to
 * dispatch, --alone-tasks to the coordinator alone, --cpu-prof to all three...).
 *
 * Flags: --ref REF (required), --rounds N (default 2), --benches LIST.
 * Prints, per metric, the median of each side, after / before, and the rounds' values;
 * "apart" says the two sides' ranges do not overlap (with few rounds, the only sign worth
 * trusting on this machine). Results: bench/.cache/compare.json; each run's output and
 * JSON in bench/.cache/compare-runs/ (and the before tree's profiles, with --cpu-prof).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CACHE_DIR, fixed, Flags, repoRoot, saveResults, table } from './lib.ts';

const COMPARED = ['word-count', 'dispatch', 'coordinator-alone'] as const;
type Compared = (typeof COMPARED)[number];
type Side = 'before' | 'after';

/** Flags each benchmark gets unless the command line gives its own: about half a minute per run here. */
const DEFAULT_FLAGS: Record<Compared, string[]> = {
  'word-count': ['--mb', '100', '--forms', 'emit'],
  dispatch: [],
  'coordinator-alone': [],
};

/** One figure of one run; `better` says which way is good, for the verdict. */
interface Metric {
  name: string;
  value: number | undefined;
  better: 'higher' | 'lower';
}

// ── Reading each benchmark's JSON ───────────────────────────────────────────────────
// Only the fields read here; the two trees run the same scripts' own versions, so a
// field missing on one side shows as '-' rather than failing the comparison.

interface WordCountJson {
  corpus: { bytes: number };
  ratioToBaseline: number;
  tabreduce: { form: string; tabs: number; seconds: number; mbPerSecond: number; coordinatorCpuSeconds?: number };
}
interface DispatchRunJson {
  label: string;
  tasks: number;
  reducers: number;
  tabs: number;
  tasksPerSecond: number;
  mapTasksPerSecond?: number;
  mapMs: { median: number };
  coordinatorCpuSeconds?: number;
}
interface DispatchJson {
  latency?: { jobs: number; mapMs: { median: number } };
  runs: DispatchRunJson[];
}
interface CoordinatorAloneJson {
  volunteers: number;
  runs: { job: 'tiny' | 'text'; tasks: number; mb?: number; tasksPerSecond: number; tasksPerCpuSecond: number; mbPerSecond?: number; mbPerCpuSecond?: number }[];
}

const perMb = (cpu: number | undefined, bytes: number) => (cpu === undefined ? undefined : (cpu * 1000) / (bytes / 1e6));

function metricsOf(bench: Compared, json: unknown): Metric[] {
  switch (bench) {
    case 'word-count': {
      const wc = json as WordCountJson;
      const run = wc.tabreduce;
      const what = `word count ${(wc.corpus.bytes / 1e6).toFixed(0)} MB, ${run.form} form, ${run.tabs} tabs`;
      return [
        { name: `${what}: MB/s, upload to result`, value: run.mbPerSecond, better: 'higher' },
        { name: `${what}: x 1-thread Node baseline (same run)`, value: wc.ratioToBaseline, better: 'lower' },
        { name: `${what}: coordinator CPU ms/MB`, value: perMb(run.coordinatorCpuSeconds, wc.corpus.bytes), better: 'lower' },
      ];
    }
    case 'dispatch': {
      const d = json as DispatchJson;
      const metrics: Metric[] = [];
      if (d.latency) metrics.push({ name: `dispatch ${d.latency.jobs} lone tasks, 1 worker: median assignment to result, ms`, value: d.latency.mapMs.median, better: 'lower' });
      const [quiet, saturated] = d.runs.length > 1 ? [d.runs[0], d.runs.at(-1)] : [undefined, d.runs[0]];
      if (quiet) {
        metrics.push({ name: `dispatch ${quiet.tasks} tasks, 1 worker saturated: tasks/s`, value: quiet.tasksPerSecond, better: 'higher' });
        metrics.push({ name: `dispatch ${quiet.tasks} tasks, 1 worker saturated: median lease to done, ms`, value: quiet.mapMs.median, better: 'lower' });
      }
      if (saturated) {
        const what = `dispatch ${saturated.tasks} tasks, ${saturated.tabs} tabs`;
        metrics.push({ name: `${what}: tasks/s end to end`, value: saturated.tasksPerSecond, better: 'higher' });
        metrics.push({ name: `${what}: map tasks/s`, value: saturated.mapTasksPerSecond, better: 'higher' });
        const cpu = saturated.coordinatorCpuSeconds;
        metrics.push({ name: `${what}: coordinator CPU ms/1000 tasks`, value: cpu === undefined ? undefined : (cpu * 1e6) / (saturated.tasks + saturated.reducers), better: 'lower' });
      }
      return metrics;
    }
    case 'coordinator-alone': {
      const a = json as CoordinatorAloneJson;
      return a.runs.flatMap((run): Metric[] =>
        run.job === 'tiny'
          ? [
              { name: `coordinator alone, ${run.tasks} tiny tasks, ${a.volunteers} Node volunteers: tasks/s`, value: run.tasksPerSecond, better: 'higher' },
              { name: `coordinator alone, ${run.tasks} tiny tasks: tasks per coordinator CPU s`, value: run.tasksPerCpuSecond, better: 'higher' },
            ]
          : [
              { name: `coordinator alone, word count ${fixed(run.mb, 0)} MB: MB/s`, value: run.mbPerSecond, better: 'higher' },
              { name: `coordinator alone, word count ${fixed(run.mb, 0)} MB: MB per coordinator CPU s`, value: run.mbPerCpuSecond, better: 'higher' },
            ],
      );
    }
  }
}

/** The file a benchmark saves its results in: word count and dispatch keep profiled runs apart. */
function resultName(bench: Compared, args: readonly string[]): string {
  const profiled = bench !== 'coordinator-alone' && args.some((arg) => arg === '--cpu-prof' || arg === '--tab-prof');
  return profiled ? `${bench}-profiled` : bench;
}

// ── Trees and processes ─────────────────────────────────────────────────────────────

/** The one child running now, so that a signal can stop it (and its coordinator) before the worktree goes. */
let running: ChildProcess | undefined;
/** Set by SIGINT or SIGTERM: no further run starts. */
let stopping: NodeJS.Signals | undefined;

function git(args: string[], cwd = repoRoot): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.status}`}`);
  return result.stdout.trim();
}

/** Runs `command` in `cwd`, its output into `logFile` (the terminal would drown in twelve runs); resolves to its exit code. */
function runLogged(command: string, args: string[], cwd: string, logFile: string): Promise<number> {
  return new Promise((resolve) => {
    const log = createWriteStream(logFile);
    // A process group of its own, so that a signal here reaches the benchmark's coordinator too.
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running = child;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('error', (error) => log.write(`\n${error.message}\n`));
    child.once('close', (code, signal) => {
      running = undefined;
      log.end(() => resolve(code ?? (signal ? 128 : 1)));
    });
  });
}

const tail = (file: string, lines = 30) => readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');

/** A worktree of `ref` in a fresh temporary directory, with this checkout's node_modules linked in. */
function addWorktree(ref: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-compare-'));
  git(['worktree', 'add', '--detach', dir, ref]);
  // The real directory, not this checkout's link to it: a relative link target would break.
  symlinkSync(realpathSync(path.join(repoRoot, 'node_modules')), path.join(dir, 'node_modules'));
  return dir;
}

function removeWorktree(dir: string): void {
  const result = spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) console.error(`git worktree remove ${dir}: ${result.stderr.trim()}`);
  rmSync(dir, { recursive: true, force: true });
  spawnSync('git', ['worktree', 'prune'], { cwd: repoRoot });
}

async function build(tree: string, side: Side, logDir: string): Promise<void> {
  const log = path.join(logDir, `build-${side}.log`);
  const code = await runLogged('npx', ['vite', 'build'], tree, log);
  if (code !== 0) throw new Error(`npx vite build in the ${side} tree (${tree}) failed (exit ${code}):\n${tail(log)}`);
}

// ── Statistics and the table ────────────────────────────────────────────────────────

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface ComparedMetric {
  name: string;
  better: 'higher' | 'lower';
  before: number[];
  after: number[];
  beforeMedian?: number;
  afterMedian?: number;
  /** after median / before median. */
  ratio?: number;
  /** Which side's median is the better one, by how much; undefined when a side is missing. */
  change?: string;
  /** The two sides' ranges do not overlap. */
  apart: boolean;
}

function compareMetric(name: string, better: 'higher' | 'lower', before: number[], after: number[]): ComparedMetric {
  const [b, a] = [median(before), median(after)];
  const ratio = a !== undefined && b !== undefined && b !== 0 ? a / b : undefined;
  const apart = before.length > 0 && after.length > 0 && (Math.max(...before) < Math.min(...after) || Math.max(...after) < Math.min(...before));
  let change: string | undefined;
  if (ratio !== undefined) {
    const worse = better === 'higher' ? ratio < 1 : ratio > 1;
    change = ratio === 1 ? 'same' : `${(Math.abs(ratio - 1) * 100).toFixed(1)}% ${worse ? 'worse' : 'better'}`;
  }
  return { name, better, before, after, ...(b !== undefined ? { beforeMedian: b } : {}), ...(a !== undefined ? { afterMedian: a } : {}), ...(ratio !== undefined ? { ratio } : {}), ...(change ? { change } : {}), apart };
}

/** Enough digits for a figure of this size to show a few per cent. */
const show = (value: number | undefined) => (value === undefined ? '-' : value >= 100 ? fixed(value, 0) : value >= 10 ? fixed(value, 1) : fixed(value, 2));

function compareTable(metrics: readonly ComparedMetric[]): string {
  return table([
    ['metric', 'better', 'before', 'after', 'after/before', 'after is', 'apart', 'before rounds', 'after rounds'],
    ...metrics.map((m) => [m.name, m.better, show(m.beforeMedian), show(m.afterMedian), fixed(m.ratio, 3), m.change ?? '-', m.apart ? 'yes' : '', m.before.map(show).join(' / '), m.after.map(show).join(' / ')]),
  ]);
}

// ── Main ────────────────────────────────────────────────────────────────────────────

/**
 * The `compare` sub-command of bench/run.ts. `route` is run.ts's own flag router, passed
 * in rather than imported: run.ts imports this file, and a cycle between the two entry
 * points would run one of them half-initialised.
 */
export async function compare(argv: readonly string[], route: (argv: readonly string[]) => Record<Compared, string[]>): Promise<void> {
  // Our own flags out first; what is left goes to the benchmarks.
  const own = new Set(['ref', 'rounds', 'benches']);
  const rest: string[] = [];
  const mine: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '').split('=')[0]!;
    const into = own.has(name) && argv[i]!.startsWith('--') ? mine : rest;
    into.push(argv[i]!);
    if (into === mine && !argv[i]!.includes('=') && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) into.push(argv[++i]!);
  }
  const flags = new Flags(mine);
  const ref = flags.string('ref', '');
  const rounds = flags.number('rounds', 2, { integer: true, min: 1 });
  const benches = flags.string('benches', COMPARED.join(',')).split(',').map((name) => name.trim()) as Compared[];
  flags.rejectUnknown();
  if (!ref) throw new Error('compare needs --ref <git-ref>: the version to measure this checkout against');
  for (const bench of benches) if (!COMPARED.includes(bench)) throw new Error(`--benches: unknown "${bench}"; known: ${COMPARED.join(', ')}`);
  const routed = route(rest);
  const argsOf = (bench: Compared): string[] => {
    const given = routed[bench];
    const defaults: string[] = [];
    const defaultFlags = DEFAULT_FLAGS[bench];
    for (let i = 0; i < defaultFlags.length; i += 2) {
      if (!given.some((arg) => arg === defaultFlags[i] || arg.startsWith(`${defaultFlags[i]}=`))) defaults.push(defaultFlags[i]!, defaultFlags[i + 1]!);
    }
    return [...given, ...defaults];
  };

  const beforeCommit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const afterCommit = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const logDir = path.join(CACHE_DIR, 'compare-runs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  console.log(`compare: before ${ref} (${beforeCommit.slice(0, 9)}), after this checkout (${afterCommit.slice(0, 9)}${dirty ? ' + uncommitted changes' : ''}); ${rounds} round(s) of ${benches.join(', ')}`);
  const worktree = addWorktree(beforeCommit);
  const trees: Record<Side, string> = { before: worktree, after: repoRoot };
  // A signal would otherwise leave the worktree (and a coordinator) behind.
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the run in progress, then removing ${worktree}`);
    stopping = signal;
    if (running?.pid !== undefined) {
      try {
        process.kill(-running.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const values = new Map<string, { better: 'higher' | 'lower'; before: number[]; after: number[] }>();
  const failures: string[] = [];
  try {
    console.log(`worktree ${worktree}; building both trees...`);
    await build(trees.before, 'before', logDir);
    await build(trees.after, 'after', logDir);
    for (let round = 1; round <= rounds; round++) {
      for (const bench of benches) {
        const order: Side[] = round % 2 === 1 ? ['before', 'after'] : ['after', 'before'];
        for (const side of order) {
          if (stopping) throw new Error(`stopped by ${stopping}`);
          const tree = trees[side];
          const args = argsOf(bench);
          const resultFile = path.join(tree, 'bench', '.cache', `${resultName(bench, args)}.json`);
          const log = path.join(logDir, `${round}-${side}-${bench}.log`);
          const started = Date.now();
          const code = await runLogged(process.execPath, ['--import', 'tsx', path.join('bench', `${bench}.ts`), ...args], tree, log);
          const seconds = (Date.now() - started) / 1000;
          // A stale file from an earlier run must not pass for this one's.
          const fresh = existsSync(resultFile) && statSync(resultFile).mtimeMs >= started;
          if (code !== 0 || !fresh) {
            failures.push(`round ${round} ${side} ${bench}: ${code !== 0 ? `exit ${code}` : 'no fresh results'} (${path.relative(repoRoot, log)})`);
            console.log(`round ${round}/${rounds} ${side.padEnd(6)} ${bench}: FAILED (${code !== 0 ? `exit ${code}` : 'no fresh results'}) after ${seconds.toFixed(0)} s\n${tail(log)}`);
            continue;
          }
          cpSync(resultFile, path.join(logDir, `${round}-${side}-${bench}.json`));
          const metrics = metricsOf(bench, JSON.parse(readFileSync(resultFile, 'utf8')));
          for (const metric of metrics) {
            const entry = values.get(metric.name) ?? { better: metric.better, before: [], after: [] };
            if (metric.value !== undefined && Number.isFinite(metric.value)) entry[side].push(metric.value);
            values.set(metric.name, entry);
          }
          console.log(`round ${round}/${rounds} ${side.padEnd(6)} ${bench}: ${seconds.toFixed(0)} s; ${metrics.map((m) => `${m.name.split(': ').at(-1)} ${show(m.value)}`).join(', ')}`);
        }
      }
    }
  } finally {
    const profiles = path.join(worktree, 'bench', '.cache', 'profiles');
    if (existsSync(profiles)) cpSync(profiles, path.join(logDir, 'profiles-before'), { recursive: true });
    removeWorktree(worktree);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const metrics = [...values].map(([name, v]) => compareMetric(name, v.better, v.before, v.after));
  console.log(`\n══ compare: before ${ref} (${beforeCommit.slice(0, 9)}) vs after ${afterCommit.slice(0, 9)}${dirty ? '+dirty' : ''}, medians of ${rounds} round(s) ══`);
  console.log(compareTable(metrics));
  console.log(`flags: ${benches.map((bench) => `${bench} ${argsOf(bench).join(' ') || '(defaults)'}`).join('; ')}`);
  const file = saveResults('compare', {
    before: { ref, commit: beforeCommit },
    after: { commit: afterCommit, uncommittedChanges: dirty },
    rounds,
    flags: Object.fromEntries(benches.map((bench) => [bench, argsOf(bench)])),
    metrics,
    failures,
  });
  console.log(`saved ${path.relative(repoRoot, file)}; each run's output and results in ${path.relative(repoRoot, logDir)}/`);
  if (failures.length > 0) throw new Error(`${failures.length} run(s) failed:\n  ${failures.join('\n  ')}`);
}
