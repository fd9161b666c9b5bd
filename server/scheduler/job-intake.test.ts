/**
 * A job submitted a slice of the event loop at a time (job-intake.ts), on a real
 * SqliteStore: invisible and not leasable until it is whole, then live and stored in one
 * turn; concurrent submissions and a cancel in the meantime; a commit the disk refuses;
 * and what a restart finds of tasks that were never saved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSubmission } from '../../shared/job.ts';
import type { MapInputPayload, TaskAssignment } from '../../shared/protocol.ts';
import { planJob, planJobInTurns } from '../job-planner.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { INPUTS_PER_PIECE } from './job-intake.ts';
import { Scheduler } from './scheduler.ts';

const SOURCE = 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }';
const decode = (bytes: Uint8Array | ArrayBuffer) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
/** A stored map input's JSON, past its tag byte (map-input.ts). */
const decodeStored = (stored: Uint8Array) => decode(stored.subarray(1));
const records = (count: number): JobSubmission => ({
  name: `records ${count}`,
  source: SOURCE,
  input: { kind: 'records', records: Array.from({ length: count }, (_, i) => [i, `value ${i}`]) },
  recordsPerTask: 1,
  reducers: 2,
});
/** Enough map inputs for several pieces. */
const MANY = 4 * INPUTS_PER_PIECE + 5;
/** A turn per step: what a submission does between two turns of the event loop is then the same on any machine. */
const STEP_A_TURN = 0;

describe('a job submitted in turns', () => {
  let dir: string;
  let store: SqliteStore;
  let scheduler: Scheduler;
  let changes = 0;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-intake-'));
    store = new SqliteStore(dir);
    scheduler = newScheduler(store);
    scheduler.connect('v1', 'test', 4, 0);
    changes = 0;
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function newScheduler(on: SqliteStore): Scheduler {
    let tokens = 0;
    return new Scheduler(on, { leaseMs: 60_000, taskTimeoutMs: 60_000, newLeaseToken: () => `lease${++tokens}` }, { workAvailable: () => {}, revoke: () => {}, yieldTasks: () => {}, changed: () => changes++ });
  }
  const lease = (max: number, nowMs = 1): TaskAssignment[] => {
    const tasks = scheduler.requestTasks('v1', max, nowMs);
    if (tasks instanceof Promise) throw new Error('expected the tasks at once');
    return tasks;
  };

  it('is in no list and leases nothing until it is whole, then is both live and committed', async () => {
    const submitting = scheduler.submitInTurns(planJob(records(MANY), { jobId: 'job-big' }), 0, STEP_A_TURN);
    // Its first step has run, and it waits for the next turn: the job is not there yet for anyone.
    expect(scheduler.getJob('job-big')).toBeUndefined();
    expect(scheduler.listJobs()).toEqual([]);
    expect(lease(4)).toEqual([]);
    expect(() => scheduler.cancel('job-big', 1)).toThrow(/no job job-big/);
    expect(changes).toBe(0);

    const job = await submitting;
    expect(job).toMatchObject({ id: 'job-big', mapTasks: MANY });
    expect(changes).toBe(1);
    expect(scheduler.getJob('job-big')).toMatchObject({ state: 'queued', progress: { map: { done: 0, total: MANY } } });
    // Its inputs are stored whole, in order.
    const [first] = lease(1);
    expect(first).toMatchObject({ taskId: 'job-big/map/0', kind: 'map' });
    expect(decode(((first as Extract<TaskAssignment, { kind: 'map' }>).input as MapInputPayload).bytes)).toEqual({ kind: 'records', records: [[0, 'value 0']] });
    expect(decodeStored(store.getMapInput('job-big', MANY - 1))).toEqual({ kind: 'records', records: [[MANY - 1, `value ${MANY - 1}`]] });

    // A store opened again on the directory finds the job whole: what the 201 said was stored is.
    store.close();
    store = new SqliteStore(dir);
    expect(store.getJob('job-big')?.mapTasks).toBe(MANY);
    expect(decodeStored(store.getMapInput('job-big', MANY - 1))).toEqual({ kind: 'records', records: [[MANY - 1, `value ${MANY - 1}`]] });
  });

  it('lets other submissions through meanwhile, each listed when it is whole', async () => {
    const big = scheduler.submitInTurns(planJob(records(MANY), { jobId: 'job-big' }), 0, STEP_A_TURN);
    const other = scheduler.submitInTurns(planJob(records(MANY), { jobId: 'job-other' }), 0, STEP_A_TURN);
    // A small job submitted while both are on their way is live at once, and leases at once.
    scheduler.submit(planJob(records(2), { jobId: 'job-small' }), 0);
    expect(scheduler.listJobs().map((job) => job.id)).toEqual(['job-small']);
    expect(lease(1)[0]).toMatchObject({ jobId: 'job-small' });
    await Promise.all([big, other]);
    // Newest first, as always; the store lists them oldest first, in the order they became whole.
    expect(new Set(scheduler.listJobs().map((job) => job.id))).toEqual(new Set(['job-small', 'job-big', 'job-other']));
    expect(store.listJobs().map((job) => job.id)).toEqual([...scheduler.listJobs().map((job) => job.id)].reverse());
    expect(scheduler.cancel('job-big', 2)).toMatchObject({ state: 'cancelled' });
  });

  it('refuses a second submission of an id on its way in', async () => {
    const plan = planJob(records(MANY), { jobId: 'job-1' });
    const first = scheduler.submitInTurns(plan, 0, STEP_A_TURN);
    await expect(scheduler.submitInTurns(plan, 0)).rejects.toThrow(/exists already/);
    await first;
    expect(() => scheduler.submit(plan, 0)).toThrow(/exists already/);
  });

  it('plans in turns what planJob plans at once', async () => {
    const submission = records(3 * 256 + 5);
    expect(await planJobInTurns(submission, { jobId: 'job-1' })).toEqual({ ...planJob(submission, { jobId: 'job-1' }), spotCheck: 0 });
  });

  it('rejects, leaving nothing of the job, when the disk refuses a piece', async () => {
    await store.durable();
    const db = (store as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 8}`);
    const big = planJob({ ...records(MANY), input: { kind: 'records', records: Array.from({ length: MANY }, (_, i) => [i, 'x'.repeat(200)]) } }, { jobId: 'job-big' });
    await expect(scheduler.submitInTurns(big, 0)).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    db.pragma('max_page_count = 4294967294');
    expect(scheduler.getJob('job-big')).toBeUndefined();
    await store.durable();
    expect(store.getJob('job-big')).toBeUndefined();
    expect(() => store.getMapInput('job-big', 0)).toThrow();
    // The disk has room again: the same job goes in.
    await scheduler.submitInTurns(big, 0);
    expect(scheduler.getJob('job-big')).toMatchObject({ progress: { map: { total: MANY } } });
  });

  it('saves a task only once it leaves pending, and a restart finds the others pending', async () => {
    await scheduler.submitInTurns(planJob(records(5), { jobId: 'job-1' }), 0);
    expect(store.listTasks('job-1')).toEqual([]);
    const [leased] = lease(1);
    scheduler.fail('v1', leased!.taskId, leased!.leaseToken, { name: 'E', message: 'no' }, 2);
    await store.durable();
    expect(store.listTasks('job-1').map((task) => `${task.id} ${task.state.status} ${task.state.attemptsStarted}`)).toEqual(['job-1/map/0 pending 1']);

    const restarted = newScheduler(store);
    const tasks = restarted.getTasks('job-1');
    expect(tasks).toHaveLength(5 + 2);
    expect(tasks.map((task) => `${task.status} ${task.attemptsStarted}`)).toEqual([...['pending 1'], ...Array.from({ length: 6 }, () => 'pending 0')]);
  });
});
