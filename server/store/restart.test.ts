/**
 * A coordinator that crashes and starts again on the same data directory loses nothing:
 * finished results are intact, and an unfinished job resumes from the map tasks already
 * done (they are not run again) and ends with the exact answer. In process, with real
 * Socket.IO volunteers; e2e/coordinator-crash.spec.ts does the same with SIGKILL and tabs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSummary, KeyValue, TaskSummary } from '../../shared/job.ts';
import type { JobSourceReply, TaskAssignment, TaskOutput } from '../../shared/protocol.ts';
import { InProcessExecutor } from '../../node-volunteer/in-process-executor.ts';
import { taskRevoked, type TaskExecutor } from '../../runtime/task-executor.ts';
import type { Coordinator } from '../coordinator.ts';
import { api, startVolunteer, testCoordinator, waitFor, waitForJobEnd, type TestVolunteer } from '../../testing/integration-rig.ts';
import type { JobStore } from './job-store.ts';
import { SqliteStore } from './sqlite-store.ts';

const TRIANGULAR = readFileSync(new URL('../../examples/triangular-numbers.js', import.meta.url), 'utf8');
const triangular = (to: number): KeyValue[] => Array.from({ length: to }, (_, k) => [k, (k * (k + 1)) / 2]);

/** The store methods that write; after a crash none of them reaches the disk. */
const WRITES = new Set<keyof JobStore>(['insertJob', 'updateJob', 'fillJob', 'saveTask', 'putMapOutput', 'putReduceOutput', 'putResult', 'deleteIntermediate', 'deleteJob']);

/**
 * A store that can "crash": from `crash()` on, writes are dropped, as they would be by a
 * process killed with SIGKILL, while reads still answer so the dying coordinator can wind
 * down its sockets. What is on disk is then exactly what was there at the crash.
 */
function crashable(store: JobStore): { store: JobStore; crash(): void } {
  let crashed = false;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (crashed && WRITES.has(property as keyof JobStore) ? undefined : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { store: proxy, crash: () => (crashed = true) };
}

/** Runs the first `runs` tasks it is given, then freezes on the next: a tab that hung. */
class HangsAfter implements TaskExecutor {
  readonly slots = 1;
  readonly inner = new InProcessExecutor({ slots: 1 });
  started = 0;
  constructor(private readonly runs: number) {}
  run(assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    if (this.started++ < this.runs) return this.inner.run(assignment, job, signal);
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(taskRevoked())));
  }
  resize(): void {}
  dispose(): void {
    this.inner.dispose();
  }
}

describe('coordinator restart on the same data directory', () => {
  let dataDir: string;
  let coordinator: Coordinator | undefined;
  let volunteers: TestVolunteer[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-restart-'));
  });
  afterEach(async () => {
    for (const volunteer of volunteers) volunteer.stop();
    volunteers = [];
    await coordinator?.close();
    coordinator = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function submit(url: string, to: number, recordsPerTask: number): Promise<string> {
    const { status, body } = await api<{ id: string }>(url, '/api/jobs', {
      method: 'POST',
      json: { name: `triangular ${to}`, source: TRIANGULAR, input: { kind: 'range', from: 0, to }, recordsPerTask, reducers: 2 },
    });
    expect(status).toBe(201);
    return body.id;
  }
  const summary = async (url: string, id: string) => (await api<JobSummary>(url, `/api/jobs/${id}`)).body;
  const tasks = async (url: string, id: string) => (await api<TaskSummary[]>(url, `/api/jobs/${id}/tasks`)).body;

  it('keeps finished results, and resumes an unfinished job from the map tasks already done', async () => {
    const disk = new SqliteStore(dataDir);
    const dying = crashable(disk);
    coordinator = await testCoordinator({ store: dying.store });
    const before = coordinator.url;

    // A job that finishes before the crash.
    volunteers = [startVolunteer(before)];
    const finishedId = await submit(before, 20, 5);
    expect(await waitForJobEnd(before, finishedId)).toMatchObject({ state: 'succeeded' });
    volunteers[0]!.stop();

    // A job caught mid-map: 3 of its 10 map tasks done, more leased to a tab that hung
    // (the one it runs, and the one it holds ready for its next turn).
    const hangs = new HangsAfter(3);
    volunteers = [startVolunteer(before, hangs)];
    const runningId = await submit(before, 100, 10);
    await waitFor('three map tasks done and more leased', async () => {
      const job = await summary(before, runningId);
      return job.progress.map.done === 3 && job.running === 2;
    });
    const tasksBefore = await tasks(before, runningId);

    // The crash: from here on nothing reaches the disk; then the sockets and the file go.
    dying.crash();
    volunteers[0]!.stop();
    volunteers = [];
    await coordinator.close();
    coordinator = undefined;
    disk.close();

    coordinator = await testCoordinator({ store: 'sqlite', dataDir });
    const after = coordinator.url;

    const finished = await summary(after, finishedId);
    expect(finished).toMatchObject({ state: 'succeeded', progress: { map: { done: 4, total: 4 }, reduce: { done: 2, total: 2 } } });
    expect((await api<KeyValue[]>(after, `/api/jobs/${finishedId}/result`)).body).toEqual(triangular(20));

    const resumed = await summary(after, runningId);
    expect(resumed).toMatchObject({ state: 'mapping', progress: { map: { done: 3, total: 10 }, reduce: { done: 0, total: 2 } } });
    const tasksAfter = new Map((await tasks(after, runningId)).map((task) => [task.id, task]));
    const doneBefore = tasksBefore.filter((task) => task.status === 'done');
    expect(doneBefore).toHaveLength(3);
    for (const task of doneBefore) expect(tasksAfter.get(task.id)).toEqual(task);
    // The lease died with the coordinator: that task is back to pending, ready to run, and
    // the attempt that lease started is given back.
    const leasedBefore = tasksBefore.filter((task) => task.status === 'leased');
    expect(leasedBefore).toHaveLength(2);
    expect(leasedBefore[0]).toMatchObject({ attemptsStarted: 1 });
    expect(tasksAfter.get(leasedBefore[0]!.id)).toMatchObject({ status: 'pending', attemptsStarted: 0 });
    // Requeued at start-up, not abandoned by a clean shutdown (that would record a LeaseLost).
    expect(tasksAfter.get(leasedBefore[0]!.id)!.lastError).toBeUndefined();

    volunteers = [startVolunteer(after), startVolunteer(after)];
    expect(await waitForJobEnd(after, runningId)).toMatchObject({ state: 'succeeded', progress: { map: { done: 10 }, reduce: { done: 2 } } });
    expect((await api<KeyValue[]>(after, `/api/jobs/${runningId}/result`)).body).toEqual(triangular(100));
    // The map tasks done before the crash were not run again.
    const tasksFinal = new Map((await tasks(after, runningId)).map((task) => [task.id, task]));
    for (const task of doneBefore) expect(tasksFinal.get(task.id)).toEqual(task);
  });

  it('spends no attempt on a task re-leased after a restart: three crashes and a lost volunteer do not fail its job', async () => {
    const mapTaskId = (jobId: string) => `${jobId}/map/0`;
    const theTask = async (url: string, jobId: string) => (await tasks(url, jobId)).find((task) => task.id === mapTaskId(jobId))!;
    let jobId = '';
    // Each time, the one map task is leased to a volunteer that hangs on it, and the
    // coordinator crashes under it.
    for (let crash = 1; crash <= 3; crash++) {
      const disk = new SqliteStore(dataDir);
      const dying = crashable(disk);
      coordinator = await testCoordinator({ store: dying.store, dataDir });
      const url = coordinator.url;
      if (crash === 1) {
        const { status, body } = await api<{ id: string }>(url, '/api/jobs', {
          method: 'POST',
          json: { name: 'crashes thrice', source: TRIANGULAR, input: { kind: 'range', from: 0, to: 5 }, recordsPerTask: 5, reducers: 1, maxAttempts: 2 },
        });
        expect(status).toBe(201);
        jobId = body.id;
      } else {
        expect(await theTask(url, jobId)).toMatchObject({ status: 'pending', attemptsStarted: 0 });
      }
      volunteers = [startVolunteer(url, new HangsAfter(0))];
      await waitFor(`the map task leased before crash ${crash}`, async () => (await theTask(url, jobId)).status === 'leased');
      expect(await theTask(url, jobId)).toMatchObject({ attemptsStarted: 1 });
      dying.crash();
      volunteers[0]!.stop();
      volunteers = [];
      await coordinator.close();
      coordinator = undefined;
      disk.close();
    }

    coordinator = await testCoordinator({ store: 'sqlite', dataDir });
    const url = coordinator.url;
    expect(await theTask(url, jobId)).toMatchObject({ status: 'pending', attemptsStarted: 0 });
    // A volunteer that vanishes holding the task does spend an attempt: the first of two.
    const vanishing = startVolunteer(url, new HangsAfter(0));
    volunteers = [vanishing];
    await waitFor('the map task leased to the volunteer that vanishes', async () => (await theTask(url, jobId)).status === 'leased');
    vanishing.stop();
    await waitFor('the lost lease counted', async () => (await theTask(url, jobId)).lastError?.name === 'LeaseLost');
    expect(await theTask(url, jobId)).toMatchObject({ status: 'pending', attemptsStarted: 1 });

    volunteers = [startVolunteer(url)];
    expect(await waitForJobEnd(url, jobId)).toMatchObject({ state: 'succeeded' });
    expect(await theTask(url, jobId)).toMatchObject({ status: 'done', attemptsStarted: 2 });
    expect((await api<KeyValue[]>(url, `/api/jobs/${jobId}/result`)).body).toEqual(triangular(5));
  });

  it('opens the job list of the data directory it is given, and nothing when the store is memory', async () => {
    coordinator = await testCoordinator({ store: 'sqlite', dataDir });
    volunteers = [startVolunteer(coordinator.url)];
    const id = await submit(coordinator.url, 10, 5);
    await waitForJobEnd(coordinator.url, id);
    volunteers[0]!.stop();
    volunteers = [];
    await coordinator.close();

    coordinator = await testCoordinator({ store: 'memory', dataDir });
    expect(await coordinator.scheduler.listJobs()).toEqual([]);
    await coordinator.close();

    coordinator = await testCoordinator({ store: 'sqlite', dataDir });
    expect((await coordinator.scheduler.listJobs()).map((job) => [job.id, job.state])).toEqual([[id, 'succeeded']]);
    expect((await api<KeyValue[]>(coordinator.url, `/api/jobs/${id}/result`)).body).toEqual(triangular(10));
  });
});
