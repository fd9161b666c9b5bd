/**
 * Issue "Many coordinators on one PostgreSQL", item 6: what 1, 2 and 3 coordinators on
 * one PostgreSQL do on this machine, all measured in one run. One throwaway PostgreSQL
 * (testing/postgres-server.ts) for the whole run; for each cluster size a fresh database
 * and that many coordinator processes on it (testing/cluster-rig.ts, default 5 s
 * coordinator timeout, as in production). Then, for each size:
 *
 *   1. tiny: --tasks one-record map tasks of dispatch.ts's trivial job, on --volunteers
 *      Node volunteers (bench/crowd-volunteers.ts: the tab's own `VolunteerClient` and
 *      task runtime) in --processes processes, spread evenly over the coordinators' own
 *      URLs (not through nginx, so the spread is exact); tasks/s end to end, result checked;
 *   2. data: the word count (examples/word-count.js) over --mb MB of prose sent inline
 *      (`texts`, 1 MiB splits), --data-runs jobs in a row; MB/s of map input, checked;
 *   3. for both: the coordinators' CPU (sum over their processes) and PostgreSQL's (every
 *      process of the throwaway cluster) per 1,000 tasks, PostgreSQL's share of the two,
 *      and the transactions committed (pg_stat_database.xact_commit) per second and per task;
 *   4. a crowd of --crowd simulated volunteers (default 5,000) in --crowd-processes
 *      processes, spread over the coordinators: connect time (what connected within
 *      --crowd-connect seconds, if not all), its cost at rest, then a job of
 *      --crowd-tasks-per-volunteer tasks each, given --crowd-job seconds: tasks/s (done so
 *      far, if it did not finish), errors.
 * Last, 5: PostgreSQL's own ceiling, --pg-connections connections committing one small
 * row each (BEGIN, INSERT, COMMIT, as the coordinators' transactions go) for --pg-seconds.
 *
 * Before each measurement it waits while others' test runs (vitest, playwright test) use
 * these cores, and says so. Traffic stays on 127.0.0.1. The whole run takes about 6 minutes
 * on 2 cores, most of it the crowds and the 10.5 s waits for PostgreSQL's statistics.
 *
 * Flags: --sizes 1,2,3, --tasks N (20,000), --volunteers N (6), --processes N (6),
 * --mb N (8), --data-runs N (3), --crowd N (5,000), --crowd-processes N (6),
 * --crowd-tasks-per-volunteer N (2), --crowd-connect S (60), --crowd-job S (30), --pg-connections N (8),
 * --pg-seconds S (5), --stats-settle S (10.5), --quiet-wait S (600), --timeout S (300).
 * Results: bench/.cache/cluster.json.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { ApiClient } from '../client/api-client.ts';
import type { JobSummary, KeyValue } from '../shared/job.ts';
import { startClusterRig, type ClusterRig } from '../testing/cluster-rig.ts';
import { startPostgres, type PostgresServer } from '../testing/postgres-server.ts';
import { costOf, printReport, type CeilingResult, type ClusterSizeRun, type CrowdRun, type JobCost, type Settings, spread } from './cluster-report.ts';
import { buildCorpus } from './corpus.ts';
import { startChildren, stopChildren } from './crowd.ts';
import { checkTrivialResult, TRIVIAL_JOB } from './dispatch.ts';
import { apiFor, cpuSeconds, descendants, fixed, Flags, MB, readProc, repoRoot, runMain, saveResults, sleep, waitForCluster, waitForSuccess } from './lib.ts';

/** Notes printed and saved: waits for others' tests, measurements made while they ran. */
const notes: string[] = [];
const benchStarted = performance.now();

/** A line of progress, with the time since the start: where a long run spends it. */
function progress(line: string): void {
  console.log(`  [${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)} s] ${line}`);
}

// ── A quiet machine ─────────────────────────────────────────────────────────────────

/** Others' test runs on this machine, which would take the cores we measure. */
function testRuns(): string[] {
  return ['playwright test', 'vitest'].flatMap((pattern) => {
    try {
      // execFile, not a shell: a shell's own command line would match the pattern.
      return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((pid) => `${pattern} (pid ${pid})`);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  });
}

async function waitForQuiet(what: string, maxMs: number): Promise<void> {
  const started = Date.now();
  let running = testRuns();
  if (running.length === 0) return;
  console.log(`  waiting before ${what}: others' tests are running (${running.join(', ')})`);
  while (running.length > 0 && Date.now() - started < maxMs) {
    await sleep(2000);
    running = testRuns();
  }
  const waited = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const note = running.length === 0 ? `waited ${waited} for others' tests before ${what}` : `${what} MEASURED WHILE others' tests ran (gave up waiting after ${waited}): ${running.join(', ')}`;
  notes.push(note);
  console.log(`  ${note}`);
}

// ── PostgreSQL's side ───────────────────────────────────────────────────────────────

/** CPU and commit counters of the throwaway PostgreSQL, read from /proc and its statistics. */
class PostgresMeter {
  private constructor(
    private readonly client: pg.Client,
    private readonly postmaster: number,
  ) {}

  static async open(server: PostgresServer): Promise<PostgresMeter> {
    // On the `postgres` database: its own statements count there, not in a cluster's.
    const client = new pg.Client({ connectionString: server.url() });
    await client.connect();
    const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
    // A backend's parent is the postmaster: no need to reach into the data directory for its pid.
    const stat = readProc(pid, 'stat') ?? '';
    return new PostgresMeter(client, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }

  /**
   * CPU seconds of every process of this PostgreSQL so far: the postmaster, its live
   * children (backends, the WAL writer, the checkpointer...) and, through the
   * postmaster's cutime and cstime, the backends that exited (pg.Pool closes idle ones).
   */
  cpuSeconds(): number {
    const ownAndReaped = (stat: string) => {
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    };
    let total = ownAndReaped(readProc(this.postmaster, 'stat') ?? '');
    for (const pid of descendants(this.postmaster)) {
      if (!(readProc(pid, 'cmdline') ?? '').startsWith('postgres')) continue;
      total += cpuSeconds(pid) ?? 0;
    }
    return total;
  }

  /** pg_stat_database's commits in `database`, and the next transaction id (write transactions get one, cluster-wide). */
  async counters(database: string): Promise<{ xactCommit: number; nextXid: number }> {
    const { rows } = await this.client.query<{ commits: string; xid: string }>(
      'SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = $1)::text AS commits, pg_snapshot_xmax(pg_current_snapshot())::text AS xid',
      [database],
    );
    return { xactCommit: Number(rows[0]!.commits), nextXid: Number(rows[0]!.xid) };
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

// ── One cluster size ────────────────────────────────────────────────────────────────

type Group = ReturnType<typeof startChildren>;
type ChildStats = Awaited<ReturnType<Group['request']>>[number];

/** Volunteer processes on each coordinator's own URL, `volunteers` and `processes` spread over them. */
function startSpread(rig: ClusterRig, volunteers: number, processes: number) {
  const counts = spread(volunteers, rig.coordinators.length);
  const procs = spread(Math.max(processes, rig.coordinators.length), rig.coordinators.length);
  let first = 0;
  const groups = rig.coordinators.map((coordinator, i) => {
    const group = startChildren(coordinator.url, counts[i]!, Math.min(procs[i]!, Math.max(1, counts[i]!)), first);
    first += procs[i]!;
    return group;
  });
  const children: ChildProcess[] = groups.flatMap((group) => group.children);
  return {
    children,
    counts,
    connected: Promise.all(groups.map((group) => group.connected)).then(() => undefined),
    stats: async (): Promise<ChildStats[]> => (await Promise.all(groups.map((group) => group.request('stats')))).flat(),
    cpuSeconds: () => children.reduce((sum, child) => sum + (cpuSeconds(child.pid) ?? 0), 0),
  };
}

interface Context {
  rig: ClusterRig;
  api: ApiClient;
  meter: PostgresMeter;
  database: string;
  settings: Settings;
  volunteerCpu: () => number;
}

const coordinatorCpu = (rig: ClusterRig) => rig.coordinators.reduce((sum, coordinator) => sum + (cpuSeconds(coordinator.child.pid) ?? 0), 0);

async function snapshot(ctx: Context) {
  return { at: performance.now(), coordinators: coordinatorCpu(ctx.rig), postgres: ctx.meter.cpuSeconds(), volunteers: ctx.volunteerCpu(), ...(await ctx.meter.counters(ctx.database)) };
}

/**
 * Runs `jobs` one after the other and measures them as one. PostgreSQL's statistics lag:
 * a backend reports its counts at most once a second, and an idle one only after 10 s
 * (PGSTAT_IDLE_INTERVAL). So the commits are read once more --stats-settle after the end,
 * less the background rate (heartbeats, sweeps, idle volunteers' polls) measured just
 * before, over a window in which the lag is the same at both ends.
 */
async function measureJobs(ctx: Context, what: string, jobs: number, submit: (run: number) => Promise<string>, check: (result: KeyValue[]) => string[]): Promise<Omit<JobCost, 'mb' | 'mbPerSecond'>> {
  await waitForQuiet(what, ctx.settings.quietWaitMs);
  const windowStart = await snapshot(ctx);
  await sleep(3000);
  const before = await snapshot(ctx);
  const backgroundPerSecond = (before.xactCommit - windowStart.xactCommit) / ((before.at - windowStart.at) / 1000);
  let seconds = 0;
  let tasks = 0;
  let retries = 0;
  const problems: string[] = [];
  for (let run = 0; run < jobs; run++) {
    const startedEpochMs = Date.now();
    const started = performance.now();
    const id = await submit(run);
    const finished = await waitForSuccess(ctx.api, id, () => (performance.now() - started) / 1000, ctx.settings.timeoutMs, 25, 250);
    // The end as the coordinator clocked it (same machine, same clock): exact, whatever the poll interval.
    seconds += finished.summary.finishedAtMs !== undefined ? (finished.summary.finishedAtMs - startedEpochMs) / 1000 : finished.succeededSeconds;
    tasks += finished.summary.progress.map.total + finished.summary.progress.reduce.total;
    retries += finished.summary.retries;
    problems.push(...check(await ctx.api.getResult(id)));
  }
  const after = await snapshot(ctx);
  await sleep(ctx.settings.statsSettleMs);
  const settled = await ctx.meter.counters(ctx.database);
  const settledAt = performance.now();
  const xactCommits = settled.xactCommit - before.xactCommit - backgroundPerSecond * ((settledAt - after.at) / 1000);
  return costOf({
    jobs,
    tasks,
    seconds,
    retries,
    coordinatorCpuSeconds: after.coordinators - before.coordinators,
    postgresCpuSeconds: after.postgres - before.postgres,
    volunteerCpuSeconds: after.volunteers - before.volunteers,
    xactCommits,
    backgroundXactPerSecond: backgroundPerSecond,
    writeXacts: after.nextXid - before.nextXid,
    problems: problems.slice(0, 5),
  });
}

function wordCounts(texts: readonly { text: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { text } of texts) for (const [word] of text.matchAll(/\p{L}+/gu)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

function checkCounts(result: KeyValue[], expected: Map<string, number>): string[] {
  const problems = result.length === expected.size ? [] : [`${result.length} words, expected ${expected.size}`];
  for (const [word, count] of result) if (expected.get(word as string) !== count) problems.push(`${JSON.stringify(word)}: ${JSON.stringify(count)}, expected ${expected.get(word as string)}`);
  return problems;
}

/** Parts 1 to 3 on one cluster: the tiny tasks and the word count, on a few Node volunteers. */
async function measureJobsPart(ctx: Omit<Context, 'volunteerCpu'>): Promise<{ tiny: JobCost; data: JobCost }> {
  const { rig, api, settings } = ctx;
  const crowd = startSpread(rig, settings.volunteers, settings.processes);
  try {
    await crowd.connected;
    await waitForCluster(api, settings.volunteers, 60_000);
    const jobCtx: Context = { ...ctx, volunteerCpu: crowd.cpuSeconds };
    const size = rig.coordinators.length;
    progress(`tiny: ${settings.tasks} one-record tasks, ${settings.volunteers} Node volunteers (${crowd.counts.join(' + ')})`);
    const submitTiny = async () => (await api.submitJob({ name: `bench cluster ${size}: ${settings.tasks} tiny tasks`, source: TRIVIAL_JOB, input: { kind: 'range', from: 0, to: settings.tasks }, recordsPerTask: 1 })).id;
    const tiny = await measureJobs(jobCtx, `${size} coordinator(s): tiny tasks`, 1, submitTiny, (result) => checkTrivialResult(result, settings.tasks));

    const corpus = buildCorpus({ mb: settings.mb, files: Math.max(1, Math.round(settings.mb)) });
    const texts = corpus.files.map((file) => ({ name: file.name, text: readFileSync(file.path, 'utf8') }));
    const expected = wordCounts(texts);
    const source = readFileSync(path.join(repoRoot, 'examples', 'word-count.js'), 'utf8');
    progress(`data: word count over ${(corpus.totalBytes / MB).toFixed(1)} MB inline, ${settings.dataRuns} job(s)`);
    const submitText = async (run: number) => (await api.submitJob({ name: `bench cluster ${size}: word count ${run + 1}`, source, input: { kind: 'texts', files: texts }, splitBytes: 1024 * 1024 })).id;
    const cost = await measureJobs(jobCtx, `${size} coordinator(s): word count`, settings.dataRuns, submitText, (result) => checkCounts(result, expected));
    const mb = (corpus.totalBytes * settings.dataRuns) / MB;
    return { tiny, data: { ...cost, mb, mbPerSecond: mb / cost.seconds } };
  } finally {
    await stopChildren(crowd.children);
  }
}

/** Polls job `id` until it ends or `ms` pass; each poll bounded by what is left, as a swamped coordinator may answer late. */
async function watchJob(api: ApiClient, id: string, ms: number): Promise<JobSummary | undefined> {
  const deadline = performance.now() + ms;
  let last: JobSummary | undefined;
  for (;;) {
    const left = deadline - performance.now();
    last = (await api.getJob(id, AbortSignal.timeout(Math.ceil(Math.max(500, left)))).catch(() => undefined)) ?? last;
    if ((last && ['succeeded', 'failed', 'cancelled'].includes(last.state)) || performance.now() >= deadline) return last;
    await sleep(Math.min(500, left));
  }
}

/**
 * Part 4: the crowd. What connected within --crowd-connect, its cost while idle, then a
 * job across it given --crowd-job seconds: past them the run says how far the job got
 * (tasks done per second so far), which tasks it waits on, and cancels it.
 */
async function measureCrowd(ctx: Omit<Context, 'volunteerCpu'>): Promise<CrowdRun> {
  const { rig, api, settings } = ctx;
  const size = rig.coordinators.length;
  // The few volunteers of parts 1 and 2 must be gone from the count first.
  await waitForCluster(api, 0, 30_000, 0, true).catch(() => {});
  await waitForQuiet(`${size} coordinator(s): crowd`, settings.quietWaitMs);
  const run: CrowdRun = { coordinators: size, asked: settings.crowd, processes: Math.max(settings.crowdProcesses, size), connected: 0, finished: false, ok: false, errors: [] };
  progress(`crowd: ${settings.crowd} simulated volunteers in ${run.processes} processes`);
  const connectStarted = performance.now();
  const crowd = startSpread(rig, settings.crowd, settings.crowdProcesses);
  let childFailure: string | undefined;
  const allConnected = crowd.connected.then(
    () => true,
    (error: unknown) => ((childFailure = (error as Error).message), false),
  );
  let jobId: string | undefined;
  try {
    // Timers that lose their race are unref'd: they must not keep the finished bench alive.
    const inTime = await Promise.race([allConnected, delay(settings.crowdConnectMs, false, { ref: false })]);
    run.connected = inTime ? (await waitForCluster(api, settings.crowd, 30_000)).volunteers : (await api.getCluster()).volunteers;
    run.connectSeconds = (performance.now() - connectStarted) / 1000;
    if (!inTime) run.errors.push(childFailure ?? `only ${run.connected} of ${settings.crowd} connected within ${settings.crowdConnectMs / 1000} s: the job ran on those (the rest went on connecting)`);
    progress(`crowd: ${run.connected} connected in ${run.connectSeconds.toFixed(1)} s; idle for 3 s, then the job`);

    // The crowd at rest: heartbeats, sweeps and whatever the idle volunteers ask.
    const idleFrom = { at: performance.now(), coordinators: coordinatorCpu(rig), postgres: ctx.meter.cpuSeconds(), ...(await ctx.meter.counters(ctx.database)) };
    await sleep(3000);
    const idleTo = { at: performance.now(), coordinators: coordinatorCpu(rig), postgres: ctx.meter.cpuSeconds(), ...(await ctx.meter.counters(ctx.database)) };
    const idleSeconds = (idleTo.at - idleFrom.at) / 1000;
    run.idleCoordinatorCores = (idleTo.coordinators - idleFrom.coordinators) / idleSeconds;
    run.idlePostgresCores = (idleTo.postgres - idleFrom.postgres) / idleSeconds;
    run.idleCommitsPerSecond = (idleTo.xactCommit - idleFrom.xactCommit) / idleSeconds;

    const cpu = { coordinators: coordinatorCpu(rig), postgres: ctx.meter.cpuSeconds(), volunteers: crowd.cpuSeconds() };
    const tasks = settings.crowd * settings.crowdTasksPerVolunteer;
    const startedEpochMs = Date.now();
    const started = performance.now();
    jobId = (await api.submitJob({ name: `bench cluster ${size}: crowd of ${settings.crowd}`, source: TRIVIAL_JOB, input: { kind: 'range', from: 0, to: tasks }, recordsPerTask: 1 })).id;
    const summary = await watchJob(api, jobId, settings.crowdJobMs);
    const elapsed = (performance.now() - started) / 1000;
    run.coordinatorCpuSeconds = coordinatorCpu(rig) - cpu.coordinators;
    run.postgresCpuSeconds = ctx.meter.cpuSeconds() - cpu.postgres;
    run.volunteerCpuSeconds = crowd.cpuSeconds() - cpu.volunteers;
    if (summary) {
      const { map, reduce } = summary.progress;
      run.tasks = map.total + reduce.total;
      run.tasksDone = map.done + reduce.done;
      run.retries = summary.retries;
      run.finished = summary.state === 'succeeded';
      // The end as the coordinator clocked it when it finished; else the tasks done so far.
      run.seconds = run.finished && summary.finishedAtMs !== undefined ? (summary.finishedAtMs - startedEpochMs) / 1000 : elapsed;
      run.tasksPerSecond = run.tasksDone / run.seconds;
      if (run.finished) run.errors.push(...checkTrivialResult(await api.getResult(jobId), tasks).map((problem) => `wrong result: ${problem}`));
      else run.errors.push(`job ${summary.state} after ${elapsed.toFixed(0)} s (--crowd-job): map ${map.done}/${map.total}, reduce ${reduce.done}/${reduce.total}${await waitingOn(api, jobId)}`);
    }
    const stats = await Promise.race([crowd.stats(), delay(5000, [] as ChildStats[], { ref: false })]);
    if (stats.length === 0) run.errors.push('the volunteer processes did not report their counts within 5 s');
    const done = stats.flatMap((s) => s.tasksDone);
    if (stats.length > 0) run.volunteersWithTasks = done.filter((n) => n > 0).length;
    if (stats.length > 0) {
      run.connectedAtEnd = stats.reduce((sum, s) => sum + s.connected, 0);
      run.tasksFailed = stats.reduce((sum, s) => sum + s.tasksFailed, 0);
      run.clientErrorCount = stats.reduce((sum, s) => sum + s.errorCount, 0);
    }
    run.errors.push(...[...new Set(stats.flatMap((s) => s.errors))].slice(0, 3).map((error) => `volunteer: ${error}`));
    run.ok = inTime && run.finished && !run.errors.some((error) => error.startsWith('wrong result'));
    progress(`crowd: job ${run.finished ? 'finished' : 'unfinished'}, ${run.tasksDone ?? 0} tasks done in ${fixed(run.seconds, 1)} s`);
  } catch (error) {
    run.errors.push((error as Error).message.split('\n')[0]!);
  } finally {
    if (jobId && !run.finished) await api.cancelJob(jobId, AbortSignal.timeout(10_000)).catch(() => {});
    await stopChildren(crowd.children);
  }
  return run;
}

/** "; tasks: 9734 leased, 266 pending": where an unfinished job's tasks are (best effort: the coordinator may be swamped). */
async function waitingOn(api: ApiClient, id: string): Promise<string> {
  const tasks = await api.listTasks(id, AbortSignal.timeout(10_000)).catch(() => undefined);
  if (!tasks) return '; its task list did not come within 10 s';
  const counts = new Map<string, number>();
  for (const task of tasks) counts.set(task.status, (counts.get(task.status) ?? 0) + 1);
  return `; tasks: ${[...counts].map(([status, n]) => `${n} ${status}`).join(', ')}`;
}

async function measureSize(server: PostgresServer, meter: PostgresMeter, size: number, settings: Settings): Promise<ClusterSizeRun> {
  console.log(`\n${size} coordinator${size === 1 ? '' : 's'} on one PostgreSQL:`);
  const rig = await startClusterRig({ size, postgres: server, env: { TABREDUCE_COORDINATOR_TIMEOUT_MS: '5000' } });
  try {
    const ctx = { rig, api: apiFor(rig.coordinators[0]!), meter, database: decodeURIComponent(new URL(rig.databaseUrl).pathname.slice(1)), settings };
    const { tiny, data } = await measureJobsPart(ctx);
    const crowd = await measureCrowd(ctx);
    return { coordinators: size, tiny, data, crowd };
  } finally {
    await rig.stop();
  }
}

// ── PostgreSQL's ceiling ────────────────────────────────────────────────────────────

async function measureCeiling(server: PostgresServer, meter: PostgresMeter, connections: number, seconds: number, quietWaitMs: number): Promise<CeilingResult> {
  await waitForQuiet("PostgreSQL's ceiling", quietWaitMs);
  const url = await server.createDatabase();
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  try {
    await clients[0]!.query('CREATE TABLE commits (id bigserial PRIMARY KEY, at_ms bigint NOT NULL, note text NOT NULL)');
    const latencies: number[] = [];
    const postgresBefore = meter.cpuSeconds();
    const ownBefore = process.cpuUsage();
    const started = performance.now();
    const until = started + seconds * 1000;
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < until) {
          const sent = performance.now();
          await client.query('BEGIN');
          await client.query('INSERT INTO commits (at_ms, note) VALUES ($1, $2)', [Date.now(), 'bench']);
          await client.query('COMMIT');
          latencies.push(performance.now() - sent);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const own = process.cpuUsage(ownBefore);
    latencies.sort((a, b) => a - b);
    const postgresCpuSeconds = meter.cpuSeconds() - postgresBefore;
    return {
      connections,
      seconds: elapsed,
      commits: latencies.length,
      commitsPerSecond: latencies.length / elapsed,
      medianMs: latencies[Math.floor(latencies.length / 2)] ?? NaN,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
      postgresCpuSeconds,
      postgresCpuPer1000Commits: (postgresCpuSeconds / latencies.length) * 1000,
      clientCpuSeconds: (own.user + own.system) / 1e6,
    };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const sizes = flags.numbers('sizes', [1, 2, 3]);
  const settings: Settings = {
    tasks: flags.number('tasks', 20_000, { integer: true, min: 1 }),
    volunteers: flags.number('volunteers', 6, { integer: true, min: 1 }),
    processes: flags.number('processes', 6, { integer: true, min: 1 }),
    mb: flags.number('mb', 8, { min: 0.01 }),
    dataRuns: flags.number('data-runs', 3, { integer: true, min: 1 }),
    crowd: flags.number('crowd', 5000, { integer: true, min: 1 }),
    crowdProcesses: flags.number('crowd-processes', 6, { integer: true, min: 1 }),
    crowdTasksPerVolunteer: flags.number('crowd-tasks-per-volunteer', 2, { integer: true, min: 1 }),
    crowdConnectMs: flags.number('crowd-connect', 60, { min: 1 }) * 1000,
    crowdJobMs: flags.number('crowd-job', 30, { min: 1 }) * 1000,
    statsSettleMs: flags.number('stats-settle', 10.5, { min: 0 }) * 1000,
    quietWaitMs: flags.number('quiet-wait', 600, { min: 0 }) * 1000,
    timeoutMs: flags.number('timeout', 300, { min: 1 }) * 1000,
  };
  const pgConnections = flags.number('pg-connections', 8, { integer: true, min: 1 });
  const pgSeconds = flags.number('pg-seconds', 5, { min: 0.5 });
  flags.rejectUnknown();
  // Inline texts travel in one JSON body, under the coordinators' 16 MiB limit with room for escapes.
  if (settings.mb > 14) throw new Error('--mb at most 14: the text goes inline, in one request body');

  const server = await startPostgres();
  const meter = await PostgresMeter.open(server);
  const runs: ClusterSizeRun[] = [];
  let ceiling: CeilingResult;
  try {
    for (const size of sizes) runs.push(await measureSize(server, meter, size, settings));
    console.log(`\nPostgreSQL's ceiling: ${pgConnections} connections committing one row each for ${pgSeconds} s...`);
    ceiling = await measureCeiling(server, meter, pgConnections, pgSeconds, settings.quietWaitMs);
  } finally {
    await meter.close().catch(() => {});
    await server.stop();
  }
  const totalSeconds = (performance.now() - benchStarted) / 1000;
  printReport({ settings, runs, ceiling, notes, totalSeconds });
  const file = saveResults('cluster', { settings, runs, ceiling, notes, totalSeconds });
  console.log(`saved ${path.relative(repoRoot, file)}`);
  if (runs.some((run) => run.tiny.problems.length > 0 || run.data.problems.length > 0)) process.exitCode = 1;
}

await runMain(import.meta, main);
