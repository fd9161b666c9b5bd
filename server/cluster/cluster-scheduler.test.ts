/**
 * Two cluster schedulers on one real PostgreSQL database, as two coordinators would run
 * them: a job submitted on one runs on the volunteers of both, is read and cancelled from
 * either, and the leases of a coordinator that stops beating are ended by the other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskAssignment } from '../../shared/protocol.ts';
import { decode, encode, honestMap, honestReduce, SOURCE } from '../../testing/scheduler-fixture.ts';
import { startPostgres, type PostgresServer } from '../../testing/postgres-server.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputFiles } from '../input-files.ts';
import { planJob } from '../job-planner.ts';
import { chunksOf, resultEntries } from '../result-data.ts';
import { silentLogger } from '../logger.ts';
import type { SchedulerListener } from '../scheduler/scheduler-options.ts';
import { ClusterScheduler } from './cluster-scheduler.ts';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './postgres-schema.ts';

let server: PostgresServer;
const opened: { scheduler?: ClusterScheduler; db: Database; scratch: string }[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());
afterEach(async () => {
  for (const { scheduler, db, scratch } of opened.splice(0)) {
    await scheduler?.close().catch(() => {});
    await db.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});

interface Heard {
  revoked: { volunteerId: string; taskIds: string[] }[];
  woken: string[];
  yields: { volunteerId: string; max: number }[];
}

let tokens = 0;
async function coordinator(databaseUrl: string, name: string, options: { coordinatorTimeoutMs?: number; backupAfterMs?: number } = {}) {
  const db = openDatabase(databaseUrl);
  await migrate(db.pool);
  const heard: Heard = { revoked: [], woken: [], yields: [] };
  const listener: SchedulerListener = {
    workAvailable: (ids) => heard.woken.push(...ids),
    revoke: (volunteerId, taskIds) => heard.revoked.push({ volunteerId, taskIds }),
    yieldTasks: (volunteerId, max) => heard.yields.push({ volunteerId, max }),
    changed: () => {},
  };
  const scratch = mkdtempSync(path.join(tmpdir(), 'cluster-scratch-'));
  const scheduler = await ClusterScheduler.start(
    db,
    new InputFiles(scratch),
    {
      coordinatorId: `${name}-${++tokens}`,
      databaseUrl,
      leaseMs: 1000,
      taskTimeoutMs: 5000,
      backoffMs: () => 0,
      coordinatorTimeoutMs: options.coordinatorTimeoutMs ?? 60_000,
      backups: { enabled: true, minRunningMs: options.backupAfterMs ?? 60_000, slowdownFactor: 1.5 },
      newLeaseToken: () => `${name}-lease-${++tokens}`,
      log: silentLogger,
    },
    listener,
  );
  opened.push({ scheduler, db, scratch });
  return { scheduler, db, heard };
}

const words = ['to', 'be', 'or', 'not', 'to', 'be', 'that', 'is', 'the', 'question', 'to', 'be'];
const expected = [...words.reduce((counts, word) => counts.set(word, (counts.get(word) ?? 0) + 1), new Map<string, number>())].sort(([a], [b]) => a.localeCompare(b));

function wordJob(id: string, options: { replication?: number; maxAttempts?: number; recordsPerTask?: number } = {}) {
  return planJob(
    {
      name: id,
      source: SOURCE,
      input: { kind: 'records', records: words.map((word, index) => [index, word]) },
      recordsPerTask: 2,
      reducers: 3,
      ...options,
    },
    { jobId: id },
  );
}

async function answer(scheduler: ClusterScheduler, volunteerId: string, tasks: TaskAssignment[], nowMs: number) {
  return scheduler.settle(
    volunteerId,
    tasks.map((task) => ({ taskId: task.taskId, leaseToken: task.leaseToken, output: task.kind === 'map' ? { kind: 'map', ...honestMap(task) } : { kind: 'reduce', pairs: honestReduce(task) } })),
    nowMs,
  );
}

/** 20 volunteers of one slot each on `scheduler`, and a job of 40 one-record map tasks: answers the volunteers' ids. */
async function crowdWithJob(scheduler: ClusterScheduler, name: string, jobId: string): Promise<string[]> {
  const volunteers = Array.from({ length: 20 }, (_, index) => `${name}-${index}`);
  for (const id of volunteers) await scheduler.connect(id, 'test', 1, 0);
  const records = Array.from({ length: 40 }, (_, index) => [index, words[index % words.length]!] as [number, string]);
  await scheduler.submitInTurns(planJob({ name, source: SOURCE, input: { kind: 'records', records }, recordsPerTask: 1, reducers: 2 }, { jobId }), 0);
  return volunteers;
}

/** Runs both volunteers in turn until the job has no task left for them. */
async function runToEnd(volunteers: { scheduler: ClusterScheduler; id: string }[], nowMs: number) {
  for (let round = 0; round < 50; round++) {
    let any = false;
    for (const { scheduler, id } of volunteers) {
      const tasks = await scheduler.requestTasks(id, 2, nowMs);
      if (tasks.length === 0) continue;
      any = true;
      expect(await answer(scheduler, id, tasks, nowMs)).toEqual(tasks.map(() => null));
    }
    if (!any) return;
  }
  throw new Error('the job did not end in 50 rounds');
}

/** Ticks a coordinator, as its timer would, until `read` answers `wanted` (a silent coordinator is judged by the database's clock). */
async function sweepUntil(scheduler: ClusterScheduler, read: () => Promise<unknown>, wanted: unknown) {
  await expect
    .poll(
      async () => {
        await scheduler.tick(Date.now());
        return read();
      },
      { timeout: 10_000, interval: 100 },
    )
    .toEqual(wanted);
}

/** The right keys (a reduce output must keep to its partition), each count one too many. */
const lie = (pairs: Uint8Array) => encode((decode(pairs) as [string, number][]).map(([key, count]) => [key, count + 1]));

async function resultOf(scheduler: ClusterScheduler, jobId: string) {
  const stored = await scheduler.getResult(jobId);
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < stored.chunks; index++) chunks.push(await stored.chunk(index));
  return [...resultEntries(chunksOf({ chunks: chunks.length, chunk: (index) => chunks[index]! }))];
}

describe('a cluster of two coordinators on one database', () => {
  it('runs a job submitted on one on the volunteers of both, exactly, and both read the same job', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('va', 'test', 2, 0);
    await b.scheduler.connect('vb', 'test', 2, 0);
    await a.scheduler.submitInTurns(wordJob('job-1'), 0);
    await runToEnd([{ scheduler: a.scheduler, id: 'va' }, { scheduler: b.scheduler, id: 'vb' }], 1);
    expect(await resultOf(b.scheduler, 'job-1')).toEqual(expected);
    const [fromA, fromB] = [await a.scheduler.getJob('job-1'), await b.scheduler.getJob('job-1')];
    expect(fromA).toEqual(fromB);
    expect(fromA).toMatchObject({ state: 'succeeded', progress: { map: { done: 6, total: 6 }, reduce: { done: 3, total: 3 } }, volunteersUsed: 2, running: 0 });
    const tasks = await b.scheduler.getTasks('job-1');
    expect(new Set(tasks.filter((task) => task.kind === 'map').map((task) => task.volunteerId))).toEqual(new Set(['va', 'vb']));
    expect((await a.scheduler.cluster()).volunteers).toBe(2);
  });

  it('never leases one task twice to claims made at once on both coordinators', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    const volunteers = ['v1', 'v2', 'v3', 'v4'];
    for (const [index, id] of volunteers.entries()) await (index % 2 ? b : a).scheduler.connect(id, 'test', 8, 0);
    await a.scheduler.submitInTurns(wordJob('job-2'), 0);
    const claims = await Promise.all(volunteers.map((id, index) => (index % 2 ? b : a).scheduler.requestTasks(id, 3, 1)));
    const taskIds = claims.flat().map((task) => task.taskId);
    expect(taskIds).toHaveLength(6);
    expect(new Set(taskIds).size).toBe(6);
  });

  it("shares out claims and records reports that arrive together, in batches, each volunteer's alone", async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const volunteers = await crowdWithJob(a.scheduler, 'crowd', 'job-crowd');
    await a.scheduler.tick(Date.now());
    const claims = await Promise.all(volunteers.map((id) => a.scheduler.requestTasks(id, 5, 1)));
    // 40 tasks, 20 volunteers: two each, none twice.
    expect(claims.map((tasks) => tasks.length)).toEqual(volunteers.map(() => 2));
    expect(new Set(claims.flat().map((task) => task.taskId)).size).toBe(40);
    // One of them reports a lease of another's: refused for that end alone.
    const [mine, theirs] = [claims[0]!, claims[1]!];
    const reports = await Promise.all(volunteers.map((id, index) => answer(a.scheduler, id, index === 0 ? [...mine, theirs[0]!] : claims[index]!, 2)));
    expect(reports[0]).toEqual([null, null, expect.objectContaining({ code: 'LEASE_INVALID' })]);
    for (const outcomes of reports.slice(1)) expect(outcomes).toEqual([null, null]);
    expect(await a.scheduler.getJob('job-crowd')).toMatchObject({ state: 'reducing', progress: { map: { done: 40 } } });
    const crowd = (await a.scheduler.cluster()).volunteerList;
    expect(crowd.map((volunteer) => volunteer.tasksDone)).toEqual(volunteers.map(() => 2));
  });

  it("renews and reads job code for volunteers asking together, in batches, each volunteer's alone", async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const volunteers = await crowdWithJob(a.scheduler, 'renewing', 'job-renew');
    await a.scheduler.submitInTurns(wordJob('job-other'), 0);
    await a.scheduler.tick(Date.now());
    const claims = await Promise.all(volunteers.map((id) => a.scheduler.requestTasks(id, 1, 1)));
    expect(claims.map((tasks) => tasks.length)).toEqual(volunteers.map(() => 1));
    // Every volunteer reads the code of the job it holds; one also asks for a job it holds nothing of.
    const sources = await Promise.all(volunteers.map((id, index) => a.scheduler.getSourceForVolunteer(id, claims[index]![0]!.jobId).then((reply) => reply.jobId)));
    expect(sources).toEqual(claims.map(([task]) => task!.jobId));
    const notHeld = claims[0]![0]!.jobId === 'job-renew' ? 'job-other' : 'job-renew';
    await expect(a.scheduler.getSourceForVolunteer(volunteers[0]!, notHeld)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Leased at 1 for 1000 ms: all renew together at 900, volunteer 0 naming volunteer 1's lease besides its own, and
    // volunteer 2 renewing twice. The first two asked go alone, so these come last, and meet in one batch.
    const order = [...volunteers.keys()].reverse();
    const renewals = new Array<{ renewed: string[]; lost: string[] }>(volunteers.length);
    await Promise.all(
      order.map(async (index) => {
        const own = claims[index]!.map((task) => ({ taskId: task.taskId, leaseToken: task.leaseToken }));
        const stolen = index === 0 ? [{ taskId: claims[1]![0]!.taskId, leaseToken: claims[1]![0]!.leaseToken }] : [];
        const twice = index === 2 ? a.scheduler.renew(volunteers[2]!, own, 100) : undefined;
        renewals[index] = await a.scheduler.renew(volunteers[index]!, [...own, ...stolen], 900);
        if (twice) expect(await twice).toEqual({ renewed: [claims[2]![0]!.taskId], lost: [] });
      }),
    );
    expect(renewals[0]).toEqual({ renewed: [claims[0]![0]!.taskId], lost: [claims[1]![0]!.taskId] });
    for (const [index, renewal] of renewals.slice(1).entries()) expect(renewal).toEqual({ renewed: [claims[index + 1]![0]!.taskId], lost: [] });
    // Renewed to 1900: answers at 1500 are in time, the original deadline (1001) long past.
    const reports = await Promise.all(volunteers.map((id, index) => answer(a.scheduler, id, claims[index]!, 1500)));
    for (const outcomes of reports) expect(outcomes).toEqual([null]);
    // Past its deadline, a lease is not renewed, even in a batch with live ones.
    const late = await a.scheduler.requestTasks(volunteers[0]!, 1, 2000);
    const live = await a.scheduler.requestTasks(volunteers[1]!, 1, 2800);
    // The first two renewals asked go at once, alone; the next two wait for them and go together.
    const [, , expired, renewedLive] = await Promise.all([
      a.scheduler.renew(volunteers[2]!, [], 3100),
      a.scheduler.renew(volunteers[3]!, [], 3100),
      a.scheduler.renew(volunteers[0]!, late.map((task) => ({ taskId: task.taskId, leaseToken: task.leaseToken })), 3100),
      a.scheduler.renew(volunteers[1]!, live.map((task) => ({ taskId: task.taskId, leaseToken: task.leaseToken })), 3100),
    ]);
    expect(expired).toEqual({ renewed: [], lost: late.map((task) => task.taskId) });
    expect(renewedLive).toEqual({ renewed: live.map((task) => task.taskId), lost: [] });
  });

  it("caps a claim at the volunteer's even share of the cluster's queue, never below its slots", async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('va', 'test', 1, 0);
    await b.scheduler.connect('vb', 'test', 1, 0);
    await b.scheduler.connect('vc', 'test', 6, 0);
    await a.scheduler.submitInTurns(wordJob('job-share', { recordsPerTask: 1 }), 0);
    // Each coordinator reads the queue at its tick (and when work comes): 12 maps, 3 volunteers.
    await a.scheduler.tick(Date.now());
    await b.scheduler.tick(Date.now());
    expect(await a.scheduler.requestTasks('va', 100, 1)).toHaveLength(4);
    expect(await b.scheduler.requestTasks('vb', 100, 1)).toHaveLength(4);
    // 4 queued for 3 volunteers is 2 each, but vc runs 6 at once: its slots are its floor.
    await b.scheduler.tick(Date.now());
    expect(await b.scheduler.requestTasks('vc', 100, 1)).toHaveLength(4);
  });

  it('cancels from the other coordinator: the holder is told, and its late answer is refused', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('va', 'test', 2, 0);
    await a.scheduler.submitInTurns(wordJob('job-3'), 0);
    const held = await a.scheduler.requestTasks('va', 2, 1);
    expect(held).toHaveLength(2);
    expect(await b.scheduler.cancel('job-3', 2)).toMatchObject({ state: 'cancelled', running: 0 });
    await expect.poll(() => a.heard.revoked.flatMap((entry) => entry.taskIds).sort()).toEqual(held.map((task) => task.taskId).sort());
    const outcomes = await answer(a.scheduler, 'va', held, 3);
    expect(outcomes.map((outcome) => outcome?.code)).toEqual(['LEASE_INVALID', 'LEASE_INVALID']);
    await expect(a.scheduler.cancel('job-3', 4)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await a.scheduler.requestTasks('va', 2, 5)).toEqual([]);
  });

  it('keeps nothing of claims and answers in flight when a job is cancelled under them', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    const volunteers = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((id, index) => ({ id, scheduler: (index % 2 ? b : a).scheduler }));
    for (const { id, scheduler } of volunteers) await scheduler.connect(id, 'test', 2, 0);
    const records = Array.from({ length: 400 }, (_, index) => [index, words[index % words.length]!] as [number, string]);
    await a.scheduler.submitInTurns(planJob({ name: 'cancelled under load', source: SOURCE, input: { kind: 'records', records }, recordsPerTask: 1, reducers: 3 }, { jobId: 'job-busy' }), 0);
    let cancelled = false;
    const refused = new Set<string>();
    const work = volunteers.map(async ({ id, scheduler }) => {
      for (let round = 0; round < 200; round++) {
        const tasks = await scheduler.requestTasks(id, 2, 1);
        if (tasks.length === 0 && cancelled) return;
        for (const outcome of await answer(scheduler, id, tasks, 1)) if (outcome) refused.add(outcome.code);
      }
    });
    await expect.poll(async () => (await a.scheduler.getJob('job-busy'))?.progress.map.done, { interval: 5 }).toBeGreaterThan(20);
    await b.scheduler.cancel('job-busy', 2);
    cancelled = true;
    await Promise.all(work);
    expect([...refused].filter((code) => code !== 'LEASE_INVALID')).toEqual([]);
    const left = await a.db.query<{ outputs: number; leases: number }>(
      `SELECT (SELECT count(*) FROM map_outputs WHERE job_id = $1)::int AS outputs, (SELECT count(*) FROM leases WHERE job_id = $1)::int AS leases`,
      ['job-busy'],
    );
    expect(left.rows[0]).toEqual({ outputs: 0, leases: 0 });
    expect(await a.scheduler.getJob('job-busy')).toMatchObject({ state: 'cancelled', running: 0 });
  });

  it('ends, from the other coordinator, a lease past its deadline, and the task runs elsewhere', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('va', 'test', 1, 0);
    await b.scheduler.connect('vb', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-4'), 0);
    const [stuck] = await a.scheduler.requestTasks('va', 1, 0);
    await a.scheduler.renew('va', [{ taskId: stuck!.taskId, leaseToken: stuck!.leaseToken }], 500);
    // Renewed at 500 for 1000 ms: not expired at 1200, expired at 1600.
    await b.scheduler.tick(1200);
    expect((await b.scheduler.getTasks('job-4')).find((task) => task.id === stuck!.taskId)?.status).toBe('leased');
    await b.scheduler.tick(1600);
    const retried = (await b.scheduler.getTasks('job-4')).find((task) => task.id === stuck!.taskId);
    expect(retried).toMatchObject({ status: 'pending', attemptsStarted: 1, lastError: { message: 'the lease expired without an answer' } });
    expect(retried?.pastAttempts).toEqual([{ volunteerId: 'va', startedAtMs: 0, endedAtMs: 1600, outcome: 'lost', backup: false }]);
    await runToEnd([{ scheduler: b.scheduler, id: 'vb' }], 1700);
    expect(await resultOf(a.scheduler, 'job-4')).toEqual(expected);
    expect((await a.scheduler.getJob('job-4'))?.retries).toBe(1);
  });

  it('ends the leases of a coordinator that stopped beating, so its tasks run on the survivors', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a', { coordinatorTimeoutMs: 1000 });
    const b = await coordinator(url, 'b', { coordinatorTimeoutMs: 1000 });
    await a.scheduler.connect('va', 'test', 3, 0);
    await b.scheduler.connect('vb', 'test', 3, 0);
    await a.scheduler.submitInTurns(wordJob('job-5'), 0);
    const lost = await a.scheduler.requestTasks('va', 3, Date.now());
    expect(lost).toHaveLength(3);
    // a goes silent (a kill -9: no close, no more ticks); b's sweeps go on, by the database's clock.
    await sweepUntil(b.scheduler, async () => (await b.scheduler.cluster()).volunteerList.map((volunteer) => volunteer.id).join(), 'vb');
    const tasks = await b.scheduler.getTasks('job-5');
    // Given back, not spent: the coordinator died, not the job's code.
    for (const task of lost) expect(tasks.find((entry) => entry.id === task.taskId)).toMatchObject({ status: 'pending', attemptsStarted: 0 });
    await runToEnd([{ scheduler: b.scheduler, id: 'vb' }], Date.now());
    expect(await resultOf(b.scheduler, 'job-5')).toEqual(expected);
  });

  it('lists again a coordinator taken for dead while alive, with its volunteers, which get work again', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a', { coordinatorTimeoutMs: 1000 });
    const b = await coordinator(url, 'b', { coordinatorTimeoutMs: 1000 });
    await a.scheduler.connect('va', 'test', 2, 0);
    await a.scheduler.submitInTurns(wordJob('job-stall'), 0);
    const held = await a.scheduler.requestTasks('va', 2, Date.now());
    expect(held).toHaveLength(2);
    // a stalls past the timeout: b ends its leases and removes it, and va with it.
    await sweepUntil(b.scheduler, async () => (await b.scheduler.cluster()).volunteers, 0);
    await expect.poll(() => a.heard.revoked.flatMap((entry) => entry.taskIds).sort()).toEqual(held.map((task) => task.taskId).sort());
    // a's next beat lists it again, va with it, and va's claims work as before.
    await a.scheduler.tick(Date.now());
    expect((await b.scheduler.cluster()).volunteerList.map((volunteer) => volunteer.id)).toEqual(['va']);
    await runToEnd([{ scheduler: a.scheduler, id: 'va' }], Date.now());
    expect(await resultOf(b.scheduler, 'job-stall')).toEqual(expected);
  });

  it("frees both copies of a replicated task whose holders' coordinator died, ended in one batch", async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a', { coordinatorTimeoutMs: 1000 });
    const b = await coordinator(url, 'b', { coordinatorTimeoutMs: 1000 });
    await a.scheduler.connect('va-1', 'test', 1, 0);
    await a.scheduler.connect('va-2', 'test', 1, 0);
    await b.scheduler.connect('vb-1', 'test', 1, 0);
    await b.scheduler.connect('vb-2', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-copies', { replication: 2, recordsPerTask: words.length }), 0);
    const copies = [...(await a.scheduler.requestTasks('va-1', 1, Date.now())), ...(await a.scheduler.requestTasks('va-2', 1, Date.now()))];
    expect(copies.map((task) => task.taskId)).toEqual(['job-copies/map/0', 'job-copies/map/0']);
    // a goes silent; b ends both copies' leases in one sweep.
    await sweepUntil(b.scheduler, async () => (await b.scheduler.getTasks('job-copies')).find((task) => task.id === 'job-copies/map/0')?.status, 'pending');
    await runToEnd([{ scheduler: b.scheduler, id: 'vb-1' }, { scheduler: b.scheduler, id: 'vb-2' }], Date.now());
    expect(await resultOf(b.scheduler, 'job-copies')).toEqual(expected);
  });

  it("backs up a slow task on another coordinator's idle volunteer; the first answer wins and the slow copy is revoked", async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a', { backupAfterMs: 1000 });
    const b = await coordinator(url, 'b', { backupAfterMs: 1000 });
    await a.scheduler.connect('slow', 'test', 1, 0);
    await b.scheduler.connect('idle', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-backup', { recordsPerTask: words.length }), 0);
    const [slow] = await a.scheduler.requestTasks('slow', 1, 0);
    // Nothing queued, and the one task not yet slow: the idle volunteer gets nothing, and waits.
    expect(await b.scheduler.requestTasks('idle', 1, 500)).toEqual([]);
    await b.scheduler.tick(500);
    expect(b.heard.woken).toEqual([]);
    // Still running, and renewed (leases last 1000 ms here).
    expect((await a.scheduler.renew('slow', [{ taskId: slow!.taskId, leaseToken: slow!.leaseToken }], 900)).renewed).toEqual([slow!.taskId]);
    // Past the policy's minimum (no map has finished, so there is no mean yet): woken, and given a copy.
    await b.scheduler.tick(1500);
    expect(b.heard.woken).toEqual(['idle']);
    const [copy] = await b.scheduler.requestTasks('idle', 1, 1500);
    expect(copy?.taskId).toBe(slow!.taskId);
    expect(await answer(b.scheduler, 'idle', [copy!], 1600)).toEqual([null]);
    await expect.poll(() => a.heard.revoked).toEqual([{ volunteerId: 'slow', taskIds: [slow!.taskId] }]);
    expect(await answer(a.scheduler, 'slow', [slow!], 1700)).toMatchObject([{ code: 'LEASE_INVALID' }]);
    expect(await a.scheduler.getJob('job-backup')).toMatchObject({ backups: { started: 1, won: 1 }, progress: { map: { done: 1 } } });
    const [task] = (await a.scheduler.getTasks('job-backup')).filter((entry) => entry.kind === 'map');
    expect(task).toMatchObject({ status: 'done', volunteerId: 'idle', pastAttempts: [{ volunteerId: 'slow', startedAtMs: 0, endedAtMs: 1600, outcome: 'superseded', backup: false }] });
    await runToEnd([{ scheduler: b.scheduler, id: 'idle' }], 1800);
    expect(await resultOf(a.scheduler, 'job-backup')).toEqual(expected);
  });

  it("runs a pipeline across coordinators: a job awaiting another's result is planned when it succeeds, or fails with it", async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('va', 'test', 2, 0);
    await b.scheduler.connect('vb', 'test', 2, 0);
    const downstream = (id: string, upstream: string) => planJob({ name: id, source: SOURCE, input: { kind: 'job', id: upstream }, recordsPerTask: 2, reducers: 2 }, { jobId: id, hasJob: () => true });
    // How many words have each count: the map yields [count, 1] for each [word, count] of the word count.
    const countsOfCounts = [...expected.reduce((counts, [, count]) => counts.set(count, (counts.get(count) ?? 0) + 1), new Map<number, number>())].sort(([x], [y]) => String(x).localeCompare(String(y)));
    await a.scheduler.submitInTurns(wordJob('upstream'), 0);
    await b.scheduler.submitInTurns(downstream('waits', 'upstream'), 0);
    expect(await a.scheduler.getJob('waits')).toMatchObject({ state: 'queued', progress: { map: { total: 0 } } });
    await runToEnd([{ scheduler: a.scheduler, id: 'va' }, { scheduler: b.scheduler, id: 'vb' }], 1);
    expect(await resultOf(a.scheduler, 'upstream')).toEqual(expected);
    expect(await b.scheduler.getJob('waits')).toMatchObject({ state: 'succeeded', progress: { map: { total: Math.ceil(expected.length / 2) } } });
    expect(await resultOf(a.scheduler, 'waits')).toEqual(countsOfCounts);
    // Submitted after its input succeeded: planned at once.
    await a.scheduler.submitInTurns(downstream('late', 'upstream'), 2);
    await runToEnd([{ scheduler: b.scheduler, id: 'vb' }], 3);
    expect(await resultOf(b.scheduler, 'late')).toEqual(countsOfCounts);
    // Its input cancelled on the other coordinator: it fails, saying so, and so does the job awaiting it in turn.
    await a.scheduler.submitInTurns(wordJob('doomed'), 4);
    await b.scheduler.submitInTurns(downstream('orphan', 'doomed'), 4);
    await a.scheduler.submitInTurns(downstream('second', 'orphan'), 4);
    await b.scheduler.cancel('doomed', 5);
    expect(await a.scheduler.getJob('orphan')).toMatchObject({ state: 'failed', error: { name: 'InputJobFailed', message: expect.stringContaining('doomed was cancelled') } });
    expect(await a.scheduler.getJob('second')).toMatchObject({ state: 'failed', error: { name: 'InputJobFailed' } });
  });

  it('asks a volunteer on another coordinator holding more than it runs to hand one back for an idle one', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('greedy', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-steal', { recordsPerTask: 3 }), 0);
    await a.scheduler.tick(Date.now());
    const held = await a.scheduler.requestTasks('greedy', 4, 1);
    expect(held).toHaveLength(4);
    await b.scheduler.connect('idle', 'test', 1, 0);
    expect(await b.scheduler.requestTasks('idle', 1, 2)).toEqual([]);
    await expect.poll(() => a.heard.yields).toEqual([{ volunteerId: 'greedy', max: 1 }]);
    // The volunteer hands back the one it would start last; the idle one is woken for it.
    const last = held.at(-1)!;
    expect(await a.scheduler.returnTasks('greedy', [{ taskId: last.taskId, leaseToken: last.leaseToken }], 3)).toEqual([last.taskId]);
    await expect.poll(() => b.heard.woken).toContain('idle');
    expect((await b.scheduler.requestTasks('idle', 1, 4)).map((task) => task.taskId)).toEqual([last.taskId]);
  });

  it('judges an answer by the renewed deadline of its lease, so a task may run longer than one lease', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    await a.scheduler.connect('va', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-8'), 0);
    const tasks = await a.scheduler.requestTasks('va', 1, 0);
    await a.scheduler.renew('va', [{ taskId: tasks[0]!.taskId, leaseToken: tasks[0]!.leaseToken }], 800);
    // Leased at 0 for 1000 ms, renewed at 800: an answer at 1500 is in time.
    expect(await answer(a.scheduler, 'va', tasks, 1500)).toEqual([null]);
  });

  it('fails a job whose task runs out of attempts, on every coordinator', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('va', 'test', 1, 0);
    await b.scheduler.connect('vb', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-6', { maxAttempts: 2, recordsPerTask: words.length }), 0);
    for (const [index, { scheduler, id }] of [{ scheduler: a.scheduler, id: 'va' }, { scheduler: b.scheduler, id: 'vb' }].entries()) {
      const [task] = await scheduler.requestTasks(id, 1, index);
      expect(task?.index).toBe(0);
      await scheduler.fail(id, task!.taskId, task!.leaseToken, { code: 'JOB_CODE', message: 'boom' } as never, index);
    }
    expect(await a.scheduler.getJob('job-6')).toMatchObject({ state: 'failed', error: { message: 'boom', taskId: 'job-6/map/0' } });
  });

  it('takes a vote across coordinators: copies on distinct volunteers, the liar outvoted', async () => {
    const url = await server.createDatabase();
    const a = await coordinator(url, 'a');
    const b = await coordinator(url, 'b');
    await a.scheduler.connect('honest-1', 'test', 1, 0);
    await b.scheduler.connect('honest-2', 'test', 1, 0);
    await b.scheduler.connect('liar', 'test', 1, 0);
    await a.scheduler.submitInTurns(wordJob('job-7', { replication: 2 }), 0);
    const volunteers = [
      { scheduler: a.scheduler, id: 'honest-1' },
      { scheduler: b.scheduler, id: 'liar' },
      { scheduler: b.scheduler, id: 'honest-2' },
    ];
    for (let round = 0; round < 80 && (await a.scheduler.getJob('job-7'))?.state !== 'succeeded'; round++) {
      for (const { scheduler, id } of volunteers) {
        const tasks = await scheduler.requestTasks(id, 1, round);
        if (tasks.length === 0) continue;
        const task = tasks[0]!;
        const output = task.kind === 'map' ? { kind: 'map' as const, ...honestMap(task) } : { kind: 'reduce' as const, pairs: id === 'liar' ? lie(honestReduce(task)) : honestReduce(task) };
        expect(await scheduler.settle(id, [{ taskId: task.taskId, leaseToken: task.leaseToken, output }], round)).toEqual([null]);
      }
    }
    expect(await resultOf(a.scheduler, 'job-7')).toEqual(expected);
    const tasks = await a.scheduler.getTasks('job-7');
    for (const task of tasks) expect(new Set(task.votes?.map((vote) => vote.volunteerId)).size).toBe(task.votes?.length);
    const liar = (await a.scheduler.cluster()).volunteerList.find((volunteer) => volunteer.id === 'liar');
    expect(liar?.strikes ?? 0).toBeGreaterThan(0);
  });
});
