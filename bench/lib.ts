/**
 * What the benchmarks share: flags, HTTP polling, the coordinator child process, volunteer
 * tabs, and measuring processes from /proc (peak RSS, PSS, CPU time) on Linux.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { CHROMIUM_EXECUTABLE, CHROMIUM_LAUNCH } from '../e2e/chromium.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import type { ClusterSummary, JobSummary, TaskSummary } from '../shared/job.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const CACHE_DIR = path.join(import.meta.dirname, '.cache');
export const MB = 1_000_000;
export const MiB = 1024 * 1024;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ── Flags ───────────────────────────────────────────────────────────────────────────

/** A small argv reader: `--name value`, `--name=value`, and bare `--switch`. */
export class Flags {
  readonly #argv: readonly string[];
  readonly #known = new Set<string>();

  constructor(argv: readonly string[]) {
    this.#argv = argv;
  }

  #raw(name: string): { present: boolean; value: string | undefined } {
    this.#known.add(name);
    const inline = this.#argv.find((arg) => arg.startsWith(`--${name}=`));
    if (inline !== undefined) return { present: true, value: inline.slice(name.length + 3) };
    const index = this.#argv.indexOf(`--${name}`);
    if (index < 0) return { present: false, value: undefined };
    const next = this.#argv[index + 1];
    return { present: true, value: next !== undefined && !next.startsWith('--') ? next : undefined };
  }

  has(name: string): boolean {
    return this.#raw(name).present;
  }

  number(name: string, fallback: number, { integer = false, min = 0 } = {}): number {
    const { present, value } = this.#raw(name);
    if (!present) return fallback;
    if (value === undefined) throw new Error(`--${name} needs a value`);
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
      throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}, got "${value}"`);
    }
    return parsed;
  }

  /** A number whose flag may stand alone (`--gb` means `--gb 1`); undefined when absent. */
  optionalNumber(name: string, whenBare: number): number | undefined {
    const { present, value } = this.#raw(name);
    if (!present) return undefined;
    if (value === undefined) return whenBare;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
    return parsed;
  }

  numbers(name: string, fallback: number[]): number[] {
    const { present, value } = this.#raw(name);
    if (!present) return fallback;
    if (value === undefined) throw new Error(`--${name} needs a value`);
    const list = value.split(',').map((part) => Number(part.trim()));
    if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--${name} takes whole numbers separated by commas, got "${value}"`);
    return list;
  }

  string(name: string, fallback: string): string {
    const { present, value } = this.#raw(name);
    if (!present) return fallback;
    if (value === undefined) throw new Error(`--${name} needs a value`);
    return value;
  }

  /** Throws on any flag no accessor asked about: call after reading them all. */
  rejectUnknown(): void {
    for (const arg of this.#argv) {
      if (!arg.startsWith('--')) continue;
      const name = arg.slice(2).split('=')[0]!;
      if (!this.#known.has(name)) throw new Error(`unknown flag ${arg}; known: ${[...this.#known].map((known) => `--${known}`).join(', ')}`);
    }
  }
}

// ── Coordinator ─────────────────────────────────────────────────────────────────────

export interface CoordinatorSettings {
  /** 'sqlite' (the default, as `npm start`) or 'memory'. */
  store?: string;
  /** Write a V8 CPU profile of the coordinator into this directory when it stops. */
  cpuProfileDir?: string;
}

/**
 * The real coordinator (`server/main.ts`) as a child process, the way `npm start` runs
 * it, on a free port and a fresh data directory (e2e/coordinator-process.ts), plus Node
 * flags of our own (V8's --cpu-prof is not allowed in NODE_OPTIONS).
 */
export async function startCoordinator(settings: CoordinatorSettings = {}): Promise<CoordinatorProcess> {
  const nodeArgs: string[] = [];
  if (settings.cpuProfileDir) {
    mkdirSync(settings.cpuProfileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`);
  }
  return startCoordinatorProcess(settings.store ? { TABREDUCE_STORE: settings.store } : {}, nodeArgs);
}

export function apiFor(coordinator: { url: string }): ApiClient {
  return new ApiClient({ baseUrl: coordinator.url });
}

export interface FinishedJob {
  summary: JobSummary;
  /** Seconds from `since`'s zero until the job was first seen reducing (all maps done). */
  mapsDoneSeconds?: number;
  /** Seconds from `since`'s zero until the job was first seen succeeded. */
  succeededSeconds: number;
  /** Longest wait for one answer to GET /api/jobs/:id, ms: how long the coordinator stalled at worst. */
  longestPollMs: number;
  /** Polls that failed on the network (reset, refused) and were retried. */
  pollErrors: number;
}

/**
 * Polls job `id` until it succeeds; throws if it fails, is cancelled or times out. The
 * interval starts at `pollMs` and grows with the time waited (a fiftieth of it) up to
 * `maxPollMs`: every GET of a job makes the SQLite store commit its pending writes, so a
 * tight poll of a long job taxes the coordinator it measures. A poll that fails on the
 * network is retried (up to 10 in a row): a coordinator that stalls past its keep-alive
 * timeout resets the connection under a waiting request.
 */
export async function waitForSuccess(api: ApiClient, id: string, since: () => number, timeoutMs: number, pollMs = 25, maxPollMs = pollMs): Promise<FinishedJob> {
  const waitStarted = performance.now();
  const deadline = Date.now() + timeoutMs;
  let mapsDoneSeconds: number | undefined;
  let longestPollMs = 0;
  let pollErrors = 0;
  let failuresInARow = 0;
  for (;;) {
    const asked = performance.now();
    let summary: JobSummary;
    try {
      summary = await api.getJob(id);
      failuresInARow = 0;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'NETWORK') || ++failuresInARow > 10) throw error;
      pollErrors++;
      await sleep(100);
      continue;
    } finally {
      longestPollMs = Math.max(longestPollMs, performance.now() - asked);
    }
    if (mapsDoneSeconds === undefined && (summary.state === 'reducing' || summary.state === 'succeeded')) mapsDoneSeconds = since();
    if (summary.state === 'succeeded') return { summary, succeededSeconds: since(), longestPollMs, pollErrors, ...(mapsDoneSeconds !== undefined ? { mapsDoneSeconds } : {}) };
    if (summary.state === 'failed' || summary.state === 'cancelled') {
      throw new Error(`job ${id} ${summary.state}: ${JSON.stringify(summary.error ?? null)}; progress ${JSON.stringify(summary.progress)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} did not finish in ${timeoutMs / 1000} s (--timeout): state ${summary.state}, progress ${JSON.stringify(summary.progress)}`);
    }
    await sleep(Math.min(maxPollMs, Math.max(pollMs, (performance.now() - waitStarted) / 50)));
  }
}

/** Waits until the coordinator counts `volunteers` volunteers with `slots` slots in all (at least). */
export async function waitForCluster(api: ApiClient, volunteers: number, timeoutMs: number, slots = 1, exact = false): Promise<ClusterSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cluster = await api.getCluster();
    const enough = exact ? cluster.volunteers === volunteers && cluster.slots === slots : cluster.volunteers >= volunteers && cluster.slots >= slots;
    if (enough) return cluster;
    if (Date.now() > deadline) {
      throw new Error(`${cluster.volunteers} volunteers with ${cluster.slots} slots registered after ${timeoutMs / 1000} s; wanted ${volunteers} with ${slots}`);
    }
    await sleep(100);
  }
}

export interface Durations {
  count: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  sum: number;
}

/** Lease-to-done times (ms) of the done tasks of one kind. */
export function durations(tasks: readonly TaskSummary[], kind: 'map' | 'reduce'): Durations {
  const values = tasks
    .filter((task) => task.kind === kind && task.durationMs !== undefined)
    .map((task) => task.durationMs!)
    .sort((a, b) => a - b);
  const at = (q: number) => (values.length === 0 ? NaN : values[Math.min(values.length - 1, Math.floor(q * values.length))]!);
  const sum = values.reduce((a, b) => a + b, 0);
  return { count: values.length, median: at(0.5), p90: at(0.9), p99: at(0.99), max: values.at(-1) ?? NaN, mean: values.length ? sum / values.length : NaN, sum };
}

// ── Volunteer tabs ──────────────────────────────────────────────────────────────────

export interface Tabs {
  browser: Browser;
  pages: Page[];
  /** Errors the pages reported (uncaught exceptions, console errors). */
  errors: string[];
  /** Opens one more tab; `workers` sets its worker count (default: the page's own, whatever `openTabs` was given). */
  open(workers?: number): Promise<Page>;
  close(): Promise<void>;
}

export function checkBrowserSetup(): void {
  if (!existsSync(CHROMIUM_EXECUTABLE)) {
    throw new Error(`${CHROMIUM_EXECUTABLE} is missing: run \`node testing/ensure-system-packages.mjs\` (or set TABREDUCE_CHROMIUM)`);
  }
  if (!existsSync(path.join(repoRoot, 'dist', 'web'))) throw new Error('dist/web is missing: run `npx vite build` first (npm run bench does)');
}

export interface OpenTabsOptions {
  /**
   * All tabs in one browser context, one profile, as a volunteer opening several tabs
   * has them: they share the device's cores (web/volunteer/core-share.ts), at most one
   * worker per core between them. Default: each tab in a context of its own, separate
   * profiles that share nothing, each running its own worker count.
   */
  oneBrowser?: boolean;
}

/** Launches headless Chromium with `count` volunteer tabs on `url`, all connected; each in its own browser context unless `oneBrowser`. */
export async function openTabs(url: string, count: number, workers?: number, { oneBrowser = false }: OpenTabsOptions = {}): Promise<Tabs> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  const pages: Page[] = [];
  const errors: string[] = [];
  let shared: BrowserContext | undefined;
  const open = async (tabWorkers?: number): Promise<Page> => {
    const index = pages.length + 1;
    const context = oneBrowser ? (shared ??= await browser.newContext()) : await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(`tab ${index}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`tab ${index} console: ${message.text()}`);
    });
    await page.goto(`${url}/volunteer`);
    await page
      .waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'connected', undefined, {
        timeout: 30_000,
        polling: 100,
      })
      .catch(async (error: unknown) => {
        const shown = await page.getByTestId('connection-status').textContent({ timeout: 1000 }).catch(() => '(none)');
        throw new Error(`tab ${index} never showed "connected" in 30 s; it reads ${JSON.stringify(shown)}: ${(error as Error).message}`);
      });
    if (tabWorkers !== undefined) await page.getByTestId('worker-count').fill(String(tabWorkers));
    pages.push(page);
    return page;
  };
  try {
    for (let i = 0; i < count; i++) await open(workers);
  } catch (error) {
    await browser.close().catch(() => {});
    throw error;
  }
  return { browser, pages, errors, open, close: () => browser.close() };
}

// ── /proc ───────────────────────────────────────────────────────────────────────────

/** A file of /proc/PID (e.g. `stat`, `task/TID/stat`); undefined once the process is gone. */
export function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** A `kB` field of /proc/PID/status (VmHWM: peak RSS; VmRSS: RSS now), in KiB. */
export function statusKiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | undefined {
  if (pid === undefined) return undefined;
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readProc(pid, 'status') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** PSS of a process now, in KiB, from /proc/PID/smaps_rollup. */
export function pssKiB(pid: number): number | undefined {
  const match = /^Pss:\s+(\d+)\s+kB$/m.exec(readProc(pid, 'smaps_rollup') ?? '');
  return match ? Number(match[1]) : undefined;
}

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far (its own threads, not its children). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const stat = readProc(pid, 'stat');
  return stat ? statCpuSeconds(stat) : undefined;
}

/** User + system CPU seconds from a /proc `stat` line, of a process or of one thread. */
export function statCpuSeconds(stat: string): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Every live descendant of `root` (children, grandchildren, ...). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(Number(entry), 'stat');
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** What a Chromium process is, from its command line: browser, renderer, gpu-process, utility, zygote... */
export function chromiumRole(pid: number): string | undefined {
  const cmdline = readProc(pid, 'cmdline');
  if (!cmdline) return undefined;
  // Chromium rewrites its children's titles, sometimes into one space-separated string.
  const program = cmdline.split(/[\0 ]/)[0] ?? '';
  if (!/chrom/i.test(path.basename(program))) return undefined;
  const type = /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
  // A utility process is named by its service: "utility (NetworkService)".
  const service = /--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1]?.split('.').pop();
  return service ? `${type} (${service})` : type;
}

export interface ChromiumProcess {
  pid: number;
  role: string;
  /** Highest PSS seen while sampling, KiB. */
  peakPssKiB: number;
  /** VmHWM at the last sample, KiB. */
  peakRssKiB: number;
  cpuSeconds: number;
}

export interface ChromiumMemory {
  /** One entry per renderer that did work (the most CPU time first): one per tab. */
  tabRenderers: ChromiumProcess[];
  /** Renderers that did (almost) nothing: Chromium's spare renderer, say. */
  idleRenderers: ChromiumProcess[];
  /** The browser process, the GPU process, utilities (network, storage), zygotes. */
  others: ChromiumProcess[];
  /** Highest sum of PSS over every Chromium process at one sample, KiB. */
  peakTotalPssKiB: number;
  /** The same for the renderers alone. */
  peakRendererPssKiB: number;
  /** The same for every process but the renderers. */
  peakOtherPssKiB: number;
  cpuSeconds: number;
}

/**
 * Samples the PSS of every Chromium process this process started, while a job runs.
 * Renderers are told apart by their command line (`--type=renderer`); each tab has its
 * own (one browser context per tab), and the ones that used CPU are the tabs'.
 */
export class ChromiumSampler {
  readonly #processes = new Map<number, ChromiumProcess>();
  readonly #tabs: number;
  #peakTotal = 0;
  #peakRenderers = 0;
  #peakOthers = 0;
  #cpuAtStart = new Map<number, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(tabs: number) {
    this.#tabs = tabs;
  }

  start(intervalMs = 1000): void {
    for (const pid of this.#pids()) this.#cpuAtStart.set(pid, cpuSeconds(pid) ?? 0);
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  #pids(): number[] {
    return descendants(process.pid).filter((pid) => chromiumRole(pid) !== undefined);
  }

  sample(): void {
    let total = 0;
    let renderers = 0;
    for (const pid of this.#pids()) {
      const role = chromiumRole(pid);
      const pss = pssKiB(pid);
      if (role === undefined || pss === undefined) continue;
      const known = this.#processes.get(pid) ?? { pid, role, peakPssKiB: 0, peakRssKiB: 0, cpuSeconds: 0 };
      known.peakPssKiB = Math.max(known.peakPssKiB, pss);
      known.peakRssKiB = statusKiB(pid, 'VmHWM') ?? known.peakRssKiB;
      known.cpuSeconds = (cpuSeconds(pid) ?? 0) - (this.#cpuAtStart.get(pid) ?? 0);
      this.#processes.set(pid, known);
      total += pss;
      if (role === 'renderer') renderers += pss;
    }
    this.#peakTotal = Math.max(this.#peakTotal, total);
    this.#peakRenderers = Math.max(this.#peakRenderers, renderers);
    this.#peakOthers = Math.max(this.#peakOthers, total - renderers);
  }

  stop(): ChromiumMemory {
    this.sample();
    clearInterval(this.#timer);
    const all = [...this.#processes.values()];
    const renderers = all.filter((p) => p.role === 'renderer').sort((a, b) => b.cpuSeconds - a.cpuSeconds);
    return {
      tabRenderers: renderers.slice(0, this.#tabs),
      idleRenderers: renderers.slice(this.#tabs),
      others: all.filter((p) => p.role !== 'renderer'),
      peakTotalPssKiB: this.#peakTotal,
      peakRendererPssKiB: this.#peakRenderers,
      peakOtherPssKiB: this.#peakOthers,
      cpuSeconds: all.reduce((sum, p) => sum + p.cpuSeconds, 0),
    };
  }
}

/** A one-line account of Chromium's memory: per tab renderer, then the rest. */
export function describeChromium(memory: ChromiumMemory): string {
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const tabs = memory.tabRenderers.map((p) => `${mib(p.peakPssKiB)}`).join(' / ');
  const perTab = memory.tabRenderers.length > 0 ? memory.peakRendererPssKiB / memory.tabRenderers.length : 0;
  return (
    `working renderer per tab ${tabs} MiB PSS; all renderers ÷ tabs ${mib(perTab)} MiB; ` +
    `browser + GPU + utilities ${mib(memory.peakOtherPssKiB)} MiB; all Chromium ${mib(memory.peakTotalPssKiB)} MiB (peak PSS)`
  );
}

/** Rows for a memory table: each tab's working renderer, then the rest of Chromium. */
export function chromiumRows(memory: ChromiumMemory): string[][] {
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const tabs = memory.tabRenderers.length;
  return [
    ...memory.tabRenderers.map((p, i) => [`Chromium tab ${i + 1}: its working renderer (pid ${p.pid}, ${p.cpuSeconds.toFixed(1)} CPU s)`, mib(p.peakPssKiB), `PSS (RSS ${mib(p.peakRssKiB)})`]),
    [`Chromium: every renderer ÷ ${tabs} tab${tabs === 1 ? '' : 's'} (each context brings helper renderers)`, tabs > 0 ? mib(memory.peakRendererPssKiB / tabs) : '-', 'PSS'],
    ['Chromium: browser + GPU + utilities + zygotes', mib(memory.peakOtherPssKiB), 'PSS'],
    ['Chromium: all processes', mib(memory.peakTotalPssKiB), 'PSS'],
  ];
}

// ── Output ──────────────────────────────────────────────────────────────────────────

/** A plain text table: first column left-aligned, the rest right-aligned (numbers) or left-aligned too. */
export function table(rows: string[][], align: 'numbers' | 'left' = 'numbers'): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column === 0 || align === 'left' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('   '), ...rows.slice(1).map(line)].join('\n');
}

export const fixed = (value: number | undefined, digits = 2): string => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));
export const mibOf = (kib: number | undefined): string => (kib === undefined ? '-' : (kib / 1024).toFixed(0));

/** Writes `bench/.cache/<name>.json`, the last results of one benchmark. */
export function saveResults(name: string, results: unknown): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = path.join(CACHE_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...(results as object) }, null, 2)}\n`);
  return file;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Runs `main` when the file is the entry point, reporting a failure on stderr with exit code 1. */
export async function runMain(meta: ImportMeta, main: () => Promise<void>): Promise<void> {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== meta.filename) return;
  try {
    await main();
  } catch (error) {
    console.error(`\nFAILED: ${describeError(error)}`);
    process.exitCode = 1;
  }
}

export { CHROMIUM_EXECUTABLE, type CoordinatorProcess };
