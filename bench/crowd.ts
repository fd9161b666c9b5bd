/**
 * Issue 4, target 4: one coordinator and a crowd of volunteers. For each crowd size N
 * (default 250, 500, 1000, 2000; stops at the first size that fails): a fresh coordinator
 * child process (`server/main.ts`, default SQLite store), then N simulated volunteers in
 * --processes Node processes (bench/crowd-volunteers.ts: the volunteer tab's own
 * `VolunteerClient` and the in-process task runtime, one Socket.IO connection each, one
 * slot each), then one job across them: a range input with --tasks-per-volunteer map
 * tasks per volunteer (default 20), one record per task, the trivial job of dispatch.ts.
 *
 * Measured: the time to connect them all; the coordinator's RSS idle (before any
 * volunteer) and with N connected (median of three samples a second apart, after a
 * settle), hence RSS per connection; its CPU use while the crowd sits idle (the clients'
 * safety polls); the job's wall time and tasks per second (submit to succeeded), how many
 * volunteers got work, the coordinator's CPU during the job and its peak RSS (VmHWM).
 *
 * Flags: --volunteers N[,N...], --processes N (default 4), --tasks-per-volunteer N,
 * --timeout S (per job, default 300), --store sqlite|memory, --cpu-prof.
 * Results: bench/.cache/crowd.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TRIVIAL_JOB, checkTrivialResult } from './dispatch.ts';
import { apiFor, CACHE_DIR, cpuSeconds, fixed, Flags, mibOf, repoRoot, runMain, saveResults, sleep, startCoordinator, statusKiB, table, waitForCluster, waitForSuccess } from './lib.ts';

const CHILD = path.join(import.meta.dirname, 'crowd-volunteers.ts');

interface ChildStats {
  type: 'stats';
  tasksDone: number[];
  tasksFailed: number;
  connected: number;
  errors: string[];
  errorCount: number;
}

export interface CrowdPoint {
  volunteers: number;
  processes: number;
  ok: boolean;
  failure?: string;
  connectSeconds?: number;
  idleRssKiB?: number;
  connectedRssKiB?: number;
  rssPerConnectionKiB?: number;
  /** RSS with half the crowd connected. */
  halfRssKiB?: number;
  /** (RSS with all - RSS with half) / the second half. */
  rssPerConnectionSecondHalfKiB?: number;
  /** Coordinator CPU, % of one core, while the crowd is connected and idle. */
  idleCpuPercent?: number;
  tasks?: number;
  reducers?: number;
  submittedSeconds?: number;
  mapsDoneSeconds?: number;
  succeededSeconds?: number;
  tasksPerSecond?: number;
  volunteersUsed?: number;
  volunteersWithTasks?: number;
  maxTasksOneVolunteer?: number;
  coordinatorCpuSeconds?: number;
  volunteerCpuSeconds?: number;
  coordinatorPeakRssKiB?: number;
  retries?: number;
  longestPollMs?: number;
  clientErrors?: string[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function rssSamples(pid: number | undefined, samples = 3): Promise<number | undefined> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(1000);
    const rss = statusKiB(pid, 'VmRSS');
    if (rss !== undefined) values.push(rss);
  }
  return values.length > 0 ? median(values) : undefined;
}

export function startChildren(url: string, volunteers: number, processes: number, firstIndex = 0): { children: ChildProcess[]; connected: Promise<void>; request: (type: 'stats') => Promise<ChildStats[]> } {
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < processes; i++) {
    const count = Math.floor(volunteers / processes) + (i < volunteers % processes ? 1 : 0);
    if (count === 0) continue;
    const child = fork(CHILD, [url, String(count), `p${firstIndex + i}`], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.on('message', (message: { type?: string }) => {
          if (message.type === 'connected') resolve();
        });
        child.once('exit', (code) => reject(new Error(`volunteer process p${firstIndex + i} exited with ${code} before all its ${count} volunteers connected`)));
      }),
    );
  }
  const request = (type: 'stats') =>
    Promise.all(
      children.map(
        (child) =>
          new Promise<ChildStats>((resolve) => {
            const onMessage = (message: { type?: string }) => {
              if (message.type === type) {
                child.off('message', onMessage);
                resolve(message as ChildStats);
              }
            };
            child.on('message', onMessage);
            child.send({ type });
          }),
      ),
    );
  return { children, connected: Promise.all(ready).then(() => undefined), request };
}

export async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

async function measurePoint(volunteers: number, processes: number, tasksPerVolunteer: number, timeoutMs: number, store: string | undefined, cpuProf: boolean): Promise<CrowdPoint> {
  const point: CrowdPoint = { volunteers, processes: Math.min(processes, volunteers), ok: false };
  const profileDir = cpuProf ? path.join(CACHE_DIR, 'profiles', `crowd-${volunteers}-${Date.now()}`) : undefined;
  const coordinator = await startCoordinator({ ...(store ? { store } : {}), ...(profileDir ? { cpuProfileDir: profileDir } : {}) });
  const api = apiFor(coordinator);
  const pid = coordinator.child.pid;
  const children: ChildProcess[] = [];
  const requests: ((type: 'stats') => Promise<ChildStats[]>)[] = [];
  let jobId: string | undefined;
  try {
    await api.getCluster();
    await sleep(1000);
    point.idleRssKiB = await rssSamples(pid);

    // Two waves, half the crowd each: the RSS growth over the second half is a cleaner
    // per-connection figure than the growth over the idle process, whose start-up garbage
    // may be collected meanwhile.
    let connectSeconds = 0;
    const half = Math.floor(volunteers / 2);
    const firstProcesses = Math.max(1, Math.ceil(processes / 2));
    const waves: [number, number][] = half > 0 && processes > 1 ? [[half, firstProcesses], [volunteers - half, Math.max(1, processes - firstProcesses)]] : [[volunteers, processes]];
    let connectedSoFar = 0;
    for (const [count, procs] of waves) {
      const waveStarted = performance.now();
      const crowd = startChildren(coordinator.url, count, procs, children.length);
      children.push(...crowd.children);
      requests.push(crowd.request);
      await Promise.race([crowd.connected, sleep(180_000).then(() => Promise.reject(new Error(`not all ${count} volunteers of a wave connected within 180 s`)))]);
      connectedSoFar += count;
      await waitForCluster(api, connectedSoFar, 60_000, connectedSoFar);
      connectSeconds += (performance.now() - waveStarted) / 1000;
      if (connectedSoFar < volunteers) {
        await sleep(3000);
        point.halfRssKiB = await rssSamples(pid);
      }
    }
    point.connectSeconds = connectSeconds;

    // Settle, then measure the connected crowd at rest.
    await sleep(3000);
    const cpuIdleBefore = cpuSeconds(pid);
    const idleStarted = performance.now();
    point.connectedRssKiB = await rssSamples(pid);
    await sleep(2000);
    const cpuIdleAfter = cpuSeconds(pid);
    if (cpuIdleBefore !== undefined && cpuIdleAfter !== undefined) point.idleCpuPercent = ((cpuIdleAfter - cpuIdleBefore) / ((performance.now() - idleStarted) / 1000)) * 100;
    if (point.idleRssKiB !== undefined && point.connectedRssKiB !== undefined) point.rssPerConnectionKiB = (point.connectedRssKiB - point.idleRssKiB) / volunteers;
    if (point.halfRssKiB !== undefined && point.connectedRssKiB !== undefined) point.rssPerConnectionSecondHalfKiB = (point.connectedRssKiB - point.halfRssKiB) / (volunteers - half);

    const tasks = volunteers * tasksPerVolunteer;
    point.tasks = tasks;
    const childCpuBefore = children.map((child) => cpuSeconds(child.pid) ?? 0);
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    const startedEpochMs = Date.now();
    const since = () => (performance.now() - started) / 1000;
    const { id } = await api.submitJob({ name: `bench crowd ${volunteers} volunteers`, source: TRIVIAL_JOB, input: { kind: 'range', from: 0, to: tasks }, recordsPerTask: 1 });
    jobId = id;
    point.submittedSeconds = since();
    const finished = await waitForSuccess(api, id, since, timeoutMs, 25, 500);
    // The end as the coordinator clocked it: exact, whatever the poll interval.
    point.succeededSeconds = finished.summary.finishedAtMs !== undefined ? (finished.summary.finishedAtMs - startedEpochMs) / 1000 : finished.succeededSeconds;
    if (finished.mapsDoneSeconds !== undefined) point.mapsDoneSeconds = finished.mapsDoneSeconds;
    const cpuAfter = cpuSeconds(pid);
    if (cpuBefore !== undefined && cpuAfter !== undefined) point.coordinatorCpuSeconds = cpuAfter - cpuBefore;
    point.volunteerCpuSeconds = children.reduce((sum, child, i) => sum + ((cpuSeconds(child.pid) ?? 0) - childCpuBefore[i]!), 0);
    point.reducers = finished.summary.progress.reduce.total;
    point.tasksPerSecond = (tasks + point.reducers) / point.succeededSeconds;
    point.volunteersUsed = finished.summary.volunteersUsed;
    point.retries = finished.summary.retries;
    point.longestPollMs = finished.longestPollMs;
    const peak = statusKiB(pid, 'VmHWM');
    if (peak !== undefined) point.coordinatorPeakRssKiB = peak;

    const problems = checkTrivialResult(await api.getResult(id), tasks);
    if (problems.length > 0) throw new Error(`wrong result: ${problems.join('; ')}`);
    const stats = (await Promise.all(requests.map((request) => request('stats')))).flat();
    const done = stats.flatMap((s) => s.tasksDone);
    point.volunteersWithTasks = done.filter((n) => n > 0).length;
    point.maxTasksOneVolunteer = Math.max(...done);
    const errors = stats.flatMap((s) => s.errors);
    if (errors.length > 0) point.clientErrors = errors.slice(0, 5);
    point.ok = true;
  } catch (error) {
    point.failure = (error as Error).message;
    const lines = coordinator.output().trimEnd().split('\n');
    console.error(`  ${volunteers} volunteers failed: ${point.failure}\n  coordinator output (last 20 lines):\n${lines.slice(-20).join('\n')}`);
    // What the volunteers and the coordinator saw of it.
    const stats = await Promise.race([Promise.all(requests.map((request) => request('stats'))).then((all) => all.flat()), sleep(10_000).then(() => [] as ChildStats[])]);
    const errors = stats.flatMap((s) => s.errors);
    if (errors.length > 0) {
      point.clientErrors = errors.slice(0, 5);
      console.error(`  volunteers' last errors (${stats.reduce((n, s) => n + s.errorCount, 0)} volunteers report one), e.g.:\n    ${errors.slice(0, 5).join('\n    ')}`);
    }
    if (jobId) {
      const tasks = await api.listTasks(jobId).catch(() => []);
      const troubled = tasks.filter((task) => task.kind === 'reduce' && task.status !== 'done').slice(0, 5);
      for (const task of troubled) console.error(`  ${task.id}: ${task.status}, ${task.attemptsStarted} attempts, last error ${JSON.stringify(task.lastError ?? null)}`);
    }
  } finally {
    await stopChildren(children);
    await coordinator.stop().catch(() => {});
  }
  if (profileDir) console.log(`  profile: ${path.relative(repoRoot, profileDir)}`);
  return point;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const sizes = flags.numbers('volunteers', [250, 500, 1000, 2000]);
  const processes = flags.number('processes', 4, { integer: true, min: 1 });
  const tasksPerVolunteer = flags.number('tasks-per-volunteer', 20, { integer: true, min: 1 });
  const timeoutMs = flags.number('timeout', 300, { min: 1 }) * 1000;
  const store = flags.has('store') ? flags.string('store', 'sqlite') : undefined;
  const cpuProf = flags.has('cpu-prof');
  flags.rejectUnknown();

  const points: CrowdPoint[] = [];
  for (const volunteers of sizes) {
    console.log(`crowd: ${volunteers} volunteers in ${Math.min(processes, volunteers)} processes, ${volunteers * tasksPerVolunteer} tasks...`);
    const point = await measurePoint(volunteers, processes, tasksPerVolunteer, timeoutMs, store, cpuProf);
    points.push(point);
    if (point.ok) {
      console.log(`  connected in ${fixed(point.connectSeconds, 1)} s; ${fixed(point.rssPerConnectionKiB, 0)} KiB per connection (${fixed(point.rssPerConnectionSecondHalfKiB, 0)} over the second half); job ${fixed(point.succeededSeconds, 2)} s, ${fixed(point.tasksPerSecond, 0)} tasks/s`);
    } else {
      console.log(`  stopping the sweep here: ${point.failure}`);
      break;
    }
  }

  console.log(`\n── Target 4: crowd (target: one coordinator holds 1,000 volunteers and finishes a job across them) ──`);
  console.log(
    table([
      ['volunteers', 'procs', 'connect s', 'RSS idle MiB', 'half MiB', 'all MiB', 'KiB/conn', '2nd half KiB/conn', 'idle CPU', 'tasks', 'wall s', 'tasks/s', 'got work', 'coord. CPU', 'volunteer CPU s', 'coord. peak MiB', 'ok'],
      ...points.map((p) => [
        String(p.volunteers),
        String(p.processes),
        fixed(p.connectSeconds, 1),
        mibOf(p.idleRssKiB),
        mibOf(p.halfRssKiB),
        mibOf(p.connectedRssKiB),
        fixed(p.rssPerConnectionKiB, 0),
        fixed(p.rssPerConnectionSecondHalfKiB, 0),
        p.idleCpuPercent !== undefined ? `${p.idleCpuPercent.toFixed(0)}%` : '-',
        p.tasks !== undefined ? String(p.tasks) : '-',
        fixed(p.succeededSeconds, 2),
        fixed(p.tasksPerSecond, 0),
        p.volunteersWithTasks !== undefined ? `${p.volunteersWithTasks} (${((p.volunteersWithTasks / p.volunteers) * 100).toFixed(0)}%)` : '-',
        p.coordinatorCpuSeconds !== undefined && p.succeededSeconds ? `${p.coordinatorCpuSeconds.toFixed(1)} s (${((p.coordinatorCpuSeconds / p.succeededSeconds) * 100).toFixed(0)}%)` : '-',
        fixed(p.volunteerCpuSeconds, 1),
        mibOf(p.coordinatorPeakRssKiB),
        p.ok ? 'yes' : `NO: ${p.failure}`,
      ]),
    ]),
  );
  console.log('(RSS: coordinator VmRSS idle, with half and with all the crowd connected; KiB/conn: (all - idle) / volunteers; 2nd half: (all - half) / second half; idle CPU: coordinator, % of one core, crowd connected and idle; tasks/s: map + reduce tasks, submit to succeeded)');
  const file = saveResults(cpuProf ? 'crowd-profiled' : 'crowd', { processes, tasksPerVolunteer, points });
  console.log(`saved ${path.relative(repoRoot, file)}`);
  if (!points.some((p) => p.ok && p.volunteers >= Math.min(1000, Math.max(...sizes)))) process.exitCode = 1;
}

await runMain(import.meta, main);
