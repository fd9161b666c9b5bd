/**
 * A commit the disk refuses takes the scheduler back to what the store holds: a rolled
 * back answer leaves its task to run again and its lease revoked, and a rolled back
 * submission leaves no job. On a real SqliteStore, whose file is capped so that a write
 * needing new pages fails with SQLITE_FULL, as on a full disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packParts } from '../../shared/byte-packing.ts';
import type { TaskAssignment } from '../../shared/protocol.ts';
import { planJob } from '../job-planner.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { Scheduler } from './scheduler.ts';

const SOURCE = 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }';
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
/** Values this long make outputs and inputs that need pages of their own. */
const LONG = 'x'.repeat(60_000);

describe('Scheduler after a commit the disk refused', () => {
  let dir: string;
  let store: SqliteStore;
  let revoked: { volunteerId: string; taskIds: string[] }[];
  let rolledBack: string[][];
  let scheduler: Scheduler;
  let tokens: number;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-rollback-'));
    store = new SqliteStore(dir);
    revoked = [];
    rolledBack = [];
    tokens = 0;
    scheduler = new Scheduler(
      store,
      { leaseMs: 60_000, taskTimeoutMs: 60_000, newLeaseToken: () => `lease${++tokens}` },
      {
        workAvailable: () => {},
        revoke: (volunteerId, taskIds) => revoked.push({ volunteerId, taskIds }),
        yieldTasks: () => {},
        changed: () => {},
        rolledBack: (jobIds) => rolledBack.push([...jobIds]),
      },
    );
    scheduler.connect('v1', 'test', 1, 0);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const db = () => (store as unknown as { db: Database.Database }).db;
  /** From now on, a write that needs a new page fails with SQLITE_FULL; `uncap` undoes it. */
  const cap = () => db().pragma(`max_page_count = ${db().pragma('page_count', { simple: true }) as number}`);
  const uncap = () => db().pragma('max_page_count = 4294967294');
  const submit = (id: string, ...values: string[]) =>
    scheduler.submit(
      planJob({ name: id, source: SOURCE, input: { kind: 'records', records: values.map((value, i) => [i, value]) }, recordsPerTask: 1, reducers: 1 }, { jobId: id }),
      0,
    );
  const leaseMany = (count: number, nowMs: number): TaskAssignment[] => {
    const tasks = scheduler.requestTasks('v1', count, nowMs);
    if (tasks instanceof Promise || tasks.length !== count) throw new Error(`expected ${count} tasks at once`);
    return tasks;
  };
  const lease = (nowMs: number): TaskAssignment => leaseMany(1, nowMs)[0]!;
  const complete = (assignment: TaskAssignment, nowMs: number) => {
    const { bytes, offsets } = packParts([encode([[LONG, [1]]])]);
    scheduler.complete('v1', assignment.taskId, assignment.leaseToken, { kind: 'map', blocks: bytes, offsets }, nowMs);
  };

  it('runs a task again whose answer was rolled back, and refuses the lease it was answered under', async () => {
    const job = submit('job-1', LONG);
    const first = lease(1);
    await store.durable();

    cap();
    complete(first, 2);
    // No read in between: a read commits first, and would roll back here.
    await expect(store.durable()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(rolledBack).toEqual([['job-1']]);
    expect(revoked).toEqual([]);
    expect(scheduler.getJob(job.id)).toMatchObject({ state: 'mapping', progress: { map: { done: 0, total: 1 } }, running: 0 });
    // Recovery gives back the attempts of leases that died with the coordinator's state: not the task's fault.
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'pending', attemptsStarted: 0 });

    uncap();
    const again = lease(3);
    expect(again.taskId).toBe(first.taskId);
    expect(() => complete(first, 4)).toThrow(/lease/i);
    complete(again, 4);
    await store.durable();
    expect(scheduler.getJob(job.id)).toMatchObject({ state: 'reducing', progress: { map: { done: 1 } } });
  });

  it('revokes the leases of a job whose writes were rolled back, and forgets a job whose submission was', async () => {
    const kept = submit('job-kept', 'a', 'b');
    const [failing, running] = leaseMany(2, 1);
    await store.durable();

    cap();
    // One group: the lost submission and a change to the kept job, rolled back together.
    submit('job-lost', LONG);
    scheduler.fail('v1', failing!.taskId, failing!.leaseToken, { name: 'E', message: 'no' }, 2);
    await expect(store.durable()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(rolledBack).toEqual([['job-lost', 'job-kept']]);
    expect(scheduler.getJob('job-lost')).toBeUndefined();
    expect(scheduler.listJobs().map((job) => job.id)).toEqual([kept.id]);
    // The lease still out on the kept job is revoked: what its holder was told may be gone.
    expect(revoked).toEqual([{ volunteerId: 'v1', taskIds: [running!.taskId] }]);
    // The failure report went with its group: both tasks are pending as recovery leaves them.
    const tasks = scheduler.getTasks(kept.id);
    expect(tasks.slice(0, 2)).toMatchObject([
      { status: 'pending', attemptsStarted: 0 },
      { status: 'pending', attemptsStarted: 0 },
    ]);
    expect(tasks[0]!.lastError).toBeUndefined();
  });
});
