/**
 * bench/cluster.ts's results: their shapes, the figures derived from what was measured,
 * the tables it prints, and the rows it adds to `npm run bench`'s summary.
 */
import { fixed, table } from './lib.ts';

export interface Settings {
  tasks: number;
  volunteers: number;
  processes: number;
  mb: number;
  dataRuns: number;
  crowd: number;
  crowdProcesses: number;
  crowdTasksPerVolunteer: number;
  crowdConnectMs: number;
  crowdJobMs: number;
  statsSettleMs: number;
  quietWaitMs: number;
  timeoutMs: number;
}

/** What measureJobs counted over one or more jobs run one after the other. */
export interface JobMeasure {
  jobs: number;
  /** Map and reduce tasks of all the jobs. */
  tasks: number;
  /** Sum of the jobs' times, submit to the coordinator's finish. */
  seconds: number;
  retries: number;
  /** Sum over the coordinator processes. */
  coordinatorCpuSeconds: number;
  /** Every process of the throwaway PostgreSQL. */
  postgresCpuSeconds: number;
  volunteerCpuSeconds: number;
  /** pg_stat_database.xact_commit over the jobs, less the background rate over the settle. */
  xactCommits: number;
  /** Commits per second with the volunteers idle just before: heartbeats, sweeps, polls. */
  backgroundXactPerSecond: number;
  /** Transaction ids given out: the write transactions. */
  writeXacts: number;
  problems: string[];
}

export interface JobCost extends JobMeasure {
  tasksPerSecond: number;
  coordinatorCpuPer1000Tasks: number;
  postgresCpuPer1000Tasks: number;
  /** PostgreSQL's CPU / (PostgreSQL's + the coordinators'). */
  postgresShare: number;
  xactPerSecond: number;
  xactPerTask: number;
  writeXactPerTask: number;
  /** The word count: MB of map input, and per second. */
  mb?: number;
  mbPerSecond?: number;
}

export function costOf(m: JobMeasure): JobCost {
  return {
    ...m,
    tasksPerSecond: m.tasks / m.seconds,
    coordinatorCpuPer1000Tasks: (m.coordinatorCpuSeconds / m.tasks) * 1000,
    postgresCpuPer1000Tasks: (m.postgresCpuSeconds / m.tasks) * 1000,
    postgresShare: m.postgresCpuSeconds / (m.postgresCpuSeconds + m.coordinatorCpuSeconds),
    xactPerSecond: m.xactCommits / m.seconds,
    xactPerTask: m.xactCommits / m.tasks,
    writeXactPerTask: m.writeXacts / m.tasks,
  };
}

export interface CrowdRun {
  coordinators: number;
  asked: number;
  processes: number;
  /** Volunteers the cluster counted when the job was submitted. */
  connected: number;
  connectSeconds?: number;
  /** The crowd connected and idle: cores busy in the coordinators, in PostgreSQL, and commits/s. */
  idleCoordinatorCores?: number;
  idlePostgresCores?: number;
  idleCommitsPerSecond?: number;
  tasks?: number;
  tasksDone?: number;
  /** Submit to the coordinator's finish; or, unfinished, to the end of --crowd-job. */
  seconds?: number;
  /** Tasks done / seconds: all of them, or those done so far. */
  tasksPerSecond?: number;
  /** The job succeeded within --crowd-job. */
  finished: boolean;
  retries?: number;
  volunteersWithTasks?: number;
  connectedAtEnd?: number;
  tasksFailed?: number;
  clientErrorCount?: number;
  coordinatorCpuSeconds?: number;
  postgresCpuSeconds?: number;
  volunteerCpuSeconds?: number;
  /** All connected in time, and the result right. */
  ok: boolean;
  errors: string[];
}

export interface CeilingResult {
  connections: number;
  seconds: number;
  commits: number;
  commitsPerSecond: number;
  medianMs: number;
  p99Ms: number;
  postgresCpuSeconds: number;
  postgresCpuPer1000Commits: number;
  /** This process's CPU driving the connections (pg's client). */
  clientCpuSeconds: number;
}

export interface ClusterSizeRun {
  coordinators: number;
  tiny: JobCost;
  data: JobCost;
  crowd: CrowdRun;
}

export interface ClusterResults {
  settings: Settings;
  runs: ClusterSizeRun[];
  ceiling: CeilingResult;
  notes: string[];
  totalSeconds: number;
}

const verified = (problems: readonly string[]) => (problems.length === 0 ? 'yes' : `WRONG: ${problems.join('; ')}`);
const times = (value: number, base: number | undefined) => (base ? `x${(value / base).toFixed(2)}` : '-');
const percent = (share: number | undefined) => (share === undefined || Number.isNaN(share) ? '-' : `${(share * 100).toFixed(0)}%`);

/** Part 3's table: a job's costs, column by column. */
const COST_COLUMNS: [string, (c: JobCost) => string][] = [
  ['coord. CPU s', (c) => fixed(c.coordinatorCpuSeconds, 2)],
  ['PG CPU s', (c) => fixed(c.postgresCpuSeconds, 2)],
  ['coord. CPU s/1k tasks', (c) => fixed(c.coordinatorCpuPer1000Tasks, 3)],
  ['PG CPU s/1k tasks', (c) => fixed(c.postgresCpuPer1000Tasks, 3)],
  ['PG share', (c) => percent(c.postgresShare)],
  ['volunteers CPU s', (c) => fixed(c.volunteerCpuSeconds, 2)],
  ['commits', (c) => fixed(c.xactCommits, 0)],
  ['commits/s', (c) => fixed(c.xactPerSecond, 0)],
  ['commits/task', (c) => fixed(c.xactPerTask, 3)],
  ['write xacts/task', (c) => fixed(c.writeXactPerTask, 3)],
  ['idle commits/s', (c) => fixed(c.backgroundXactPerSecond, 1)],
];

export function printReport({ settings, runs, ceiling, notes, totalSeconds }: ClusterResults): void {
  const one = runs.find((run) => run.coordinators === 1);
  console.log(`\n── 1. Tiny tasks: ${settings.tasks} one-record map tasks (+ reduces), ${settings.volunteers} Node volunteers in ${settings.processes} processes on the coordinators' own URLs ──`);
  console.log(
    table([
      ['coordinators', 'volunteers each', 'tasks', 'wall s', 'tasks/s', 'vs 1', 'retries', 'verified'],
      ...runs.map((run) => [
        String(run.coordinators),
        spread(settings.volunteers, run.coordinators).join(' + '),
        String(run.tiny.tasks),
        fixed(run.tiny.seconds, 2),
        fixed(run.tiny.tasksPerSecond, 0),
        times(run.tiny.tasksPerSecond, one?.tiny.tasksPerSecond),
        String(run.tiny.retries),
        verified(run.tiny.problems),
      ]),
    ]),
  );

  console.log(`\n── 2. Data: word count over ${fixed(settings.mb, 1)} MB inline (1 MiB splits), ${settings.dataRuns} job(s) in a row ──`);
  console.log(
    table([
      ['coordinators', 'MB in all', 'tasks', 'wall s', 'MB/s', 'vs 1', 'verified'],
      ...runs.map((run) => [String(run.coordinators), fixed(run.data.mb, 1), String(run.data.tasks), fixed(run.data.seconds, 2), fixed(run.data.mbPerSecond, 1), times(run.data.mbPerSecond ?? 0, one?.data.mbPerSecond), verified(run.data.problems)]),
    ]),
  );

  console.log('\n── 3. Cost: CPU seconds per 1,000 tasks (coordinators summed; PostgreSQL: all its processes), transactions ──');
  console.log(
    table([
      ['coordinators', 'job', ...COST_COLUMNS.map(([header]) => header)],
      ...runs.flatMap((run) => (['tiny', 'data'] as const).map((job) => [String(run.coordinators), job === 'tiny' ? 'tiny tasks' : 'word count', ...COST_COLUMNS.map(([, cell]) => cell(run[job]))])),
    ]),
  );
  console.log(
    `(commits: pg_stat_database.xact_commit of the cluster's database over the jobs, read again ${settings.statsSettleMs / 1000} s after the end, as PostgreSQL reports idle backends' counts late, less the idle rate over that wait; ` +
      'write xacts: transaction ids given out, exact; idle commits/s: with the volunteers connected and idle, just before)',
  );

  console.log(`\n── 4. Crowd: ${settings.crowd} simulated volunteers spread over the coordinators, ${settings.crowdTasksPerVolunteer} one-record tasks each ──`);
  console.log(
    table([
      ['coordinators', 'procs', 'connected', 'connect s', 'idle: coord. cores', 'PG cores', 'commits/s', 'tasks', 'done', 's', 'tasks/s', 'volunteers acked', 'coord. CPU s', 'PG CPU s', 'volunteers CPU s', 'retries', 'volunteers with an error', 'finished'],
      ...runs.map(({ crowd: c }) => [
        String(c.coordinators),
        String(c.processes),
        `${c.connected} of ${c.asked}`,
        fixed(c.connectSeconds, 1),
        fixed(c.idleCoordinatorCores, 2),
        fixed(c.idlePostgresCores, 2),
        fixed(c.idleCommitsPerSecond, 0),
        c.tasks !== undefined ? String(c.tasks) : '-',
        c.tasksDone !== undefined ? String(c.tasksDone) : '-',
        fixed(c.seconds, 1),
        fixed(c.tasksPerSecond, 0),
        c.volunteersWithTasks !== undefined ? String(c.volunteersWithTasks) : '-',
        fixed(c.coordinatorCpuSeconds, 1),
        fixed(c.postgresCpuSeconds, 1),
        fixed(c.volunteerCpuSeconds, 1),
        c.retries !== undefined ? String(c.retries) : '-',
        c.clientErrorCount !== undefined ? String(c.clientErrorCount) : '-',
        c.finished ? (c.ok ? 'yes' : 'yes, NOT ok') : 'NO',
      ]),
    ]),
  );
  console.log(`(connected: counted by the cluster within ${settings.crowdConnectMs / 1000} s; idle: the crowd at rest for 3 s, cores busy and commits/s; done, s, tasks/s: in the job's time, or in the ${settings.crowdJobMs / 1000} s it was given if it did not finish; volunteers acked: those with at least one answer acknowledged; volunteers with an error: whose last error is set)`);
  for (const { crowd: c } of runs) for (const error of c.errors) console.log(`  ${c.coordinators} coordinator(s): ${error}`);

  console.log(`\n── 5. PostgreSQL's ceiling on this machine: ${ceiling.connections} connections, BEGIN + INSERT one row + COMMIT in a loop, fsync on ──`);
  console.log(
    table([
      ['connections', 's', 'commits', 'commits/s', 'median ms', 'p99 ms', 'PG CPU s', 'PG CPU s/1k commits', 'client CPU s', 'cores busy'],
      [String(ceiling.connections), fixed(ceiling.seconds, 1), String(ceiling.commits), fixed(ceiling.commitsPerSecond, 0), fixed(ceiling.medianMs, 2), fixed(ceiling.p99Ms, 2), fixed(ceiling.postgresCpuSeconds, 2), fixed(ceiling.postgresCpuPer1000Commits, 3), fixed(ceiling.clientCpuSeconds, 2), fixed((ceiling.postgresCpuSeconds + ceiling.clientCpuSeconds) / ceiling.seconds, 2)],
    ]),
  );
  const busiest = Math.max(...runs.map((run) => run.tiny.xactPerSecond));
  console.log(`(the busiest cluster above committed ${fixed(busiest, 0)} transactions/s: ${percent(busiest / ceiling.commitsPerSecond)} of this ceiling)`);
  for (const note of notes) console.log(`note: ${note}`);
  console.log(`whole run: ${fixed(totalSeconds, 0)} s`);
}

/** `total` in `parts` shares that differ by one at most, the larger first: how volunteers fall on coordinators. */
export const spread = (total: number, parts: number): number[] => Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/** Rows for `npm run bench`'s summary, from bench/.cache/cluster.json. */
export function summaryRows(results: ClusterResults, when: string): string[][] {
  const rows: string[][] = [];
  for (const run of results.runs) {
    const label = `cluster of ${run.coordinators} on one PostgreSQL`;
    rows.push([`${label}: ${run.tiny.tasks} tiny tasks`, `${fixed(run.tiny.tasksPerSecond, 0)} tasks/s; per 1k tasks ${fixed(run.tiny.coordinatorCpuPer1000Tasks, 2)} coord. CPU s, ${fixed(run.tiny.postgresCpuPer1000Tasks, 2)} PG CPU s (PG ${percent(run.tiny.postgresShare)}); ${fixed(run.tiny.xactPerTask, 2)} commits/task${run.tiny.problems.length ? ' WRONG RESULT' : ''}`, 'report', '', when]);
    rows.push([`${label}: word count ${fixed(run.data.mb, 0)} MB`, `${fixed(run.data.mbPerSecond, 1)} MB/s${run.data.problems.length ? ' WRONG RESULT' : ''}`, 'report', '', when]);
    const c = run.crowd;
    rows.push([`${label}: crowd of ${c.asked}`, `${c.connected} connected in ${fixed(c.connectSeconds, 1)} s, ${fixed(c.tasksPerSecond, 0)} tasks/s${c.finished ? '' : ' (so far: unfinished)'}${c.ok ? '' : `; ${c.errors[0] ?? 'failed'}`.slice(0, 120)}`, 'report', '', when]);
  }
  const ceiling = results.ceiling;
  rows.push([`PostgreSQL alone: ${ceiling.connections} connections committing one row`, `${fixed(ceiling.commitsPerSecond, 0)} commits/s`, 'report', '', when]);
  return rows;
}
