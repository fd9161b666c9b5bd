import { describe, expect, it } from 'vitest';
import { packParts } from '../../shared/byte-packing.ts';
import type { Key } from '../../shared/keys.ts';
import type { KeyValue, PartitionBlock } from '../../shared/job.ts';
import { partitionOf } from '../../shared/partition.ts';
import type { MapAssignment, TaskAssignment } from '../../shared/protocol.ts';
import { planJob } from '../job-planner.ts';
import { answer, decode, encode, honestMap, honestReduce, requestNow, resultOf, setup, SOURCE, submitLetters } from '../../testing/scheduler-fixture.ts';
import { Scheduler } from './scheduler.ts';
import { MemoryStore } from '../store/memory-store.ts';

describe('Scheduler', () => {
  it('runs a job through map and reduce to a merged, sorted result', () => {
    const { scheduler } = setup();
    const job = submitLetters(scheduler, 'abracadabra');
    scheduler.connect('v1', 'test', 4, 0);
    expect(scheduler.getJob(job.id)?.state).toBe('queued');

    const maps = requestNow(scheduler, 'v1', 64, 1);
    expect(maps).toHaveLength(6);
    expect(scheduler.getJob(job.id)?.state).toBe('mapping');
    for (const assignment of maps) answer(scheduler, 'v1', assignment, 2);

    expect(scheduler.getJob(job.id)?.state).toBe('reducing');
    const reduces = requestNow(scheduler, 'v1', 64, 3);
    expect(reduces.map((assignment) => assignment.kind)).toEqual(['reduce', 'reduce']);
    for (const assignment of reduces) answer(scheduler, 'v1', assignment, 4);

    expect(scheduler.getJob(job.id)).toMatchObject({ state: 'succeeded', progress: { map: { done: 6, total: 6 }, reduce: { done: 2, total: 2 } } });
    expect(resultOf(scheduler, job.id)).toEqual<KeyValue[]>([['a', 5], ['b', 2], ['c', 1], ['d', 1], ['r', 2]]);
  });

  it('shares slots fairly: a second job gets work while the first still has plenty', () => {
    const { scheduler } = setup();
    const big = submitLetters(scheduler, 'x'.repeat(40));
    const small = submitLetters(scheduler, 'yy');
    scheduler.connect('v1', 'test', 4, 0);
    const tasks = requestNow(scheduler, 'v1', 4, 1);
    expect(tasks.map((task) => task.jobId)).toEqual([big.id, small.id, big.id, big.id]);
  });

  it('requeues the tasks of a volunteer that disconnects, for another volunteer', () => {
    const { scheduler } = setup();
    const job = submitLetters(scheduler, 'ab');
    scheduler.connect('v1', 'test', 1, 0);
    scheduler.connect('v2', 'test', 1, 0);
    const [first] = requestNow(scheduler, 'v1', 1, 1);
    scheduler.disconnect('v1', 2);
    expect(requestNow(scheduler, 'v2', 1, 3)).toEqual([]); // backing off for 100 ms
    const [again] = requestNow(scheduler, 'v2', 1, 200);
    expect(again?.taskId).toBe(first?.taskId);
    expect(again?.leaseToken).not.toBe(first?.leaseToken);
    expect(() => answer(scheduler, 'v1', first!, 201)).toThrow(/no live lease/);
    answer(scheduler, 'v2', again!, 202);
    expect(scheduler.getJob(job.id)?.retries).toBe(1);
  });

  it('refuses a result from a volunteer that does not hold the lease', () => {
    const { scheduler } = setup();
    submitLetters(scheduler, 'ab');
    scheduler.connect('v1', 'test', 1, 0);
    scheduler.connect('v2', 'test', 1, 0);
    const [task] = requestNow(scheduler, 'v1', 1, 1);
    expect(() => answer(scheduler, 'v2', task!, 2)).toThrow(/no live lease/);
    answer(scheduler, 'v1', task!, 3);
    expect(() => answer(scheduler, 'v1', task!, 4)).toThrow(/no live lease/); // never counted twice
  });

  it('expires silent leases, retries them, and fails the job after maxAttempts', () => {
    const { scheduler } = setup({ leaseMs: 1000 });
    const job = submitLetters(scheduler, 'abcd', 0, { maxAttempts: 2 });
    scheduler.connect('v1', 'test', 2, 0);
    const [stuck, other] = requestNow(scheduler, 'v1', 2, 0);
    answer(scheduler, 'v1', other!, 10);
    scheduler.tick(1001);
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'pending', lastError: { name: 'LeaseLost' } });
    const [retry] = requestNow(scheduler, 'v1', 1, 1200);
    expect(retry?.taskId).toBe(stuck?.taskId);
    scheduler.tick(2201);
    expect(scheduler.getJob(job.id)).toMatchObject({ state: 'failed', error: { name: 'LeaseLost', taskId: stuck?.taskId } });
  });

  it('keeps the lease alive while the volunteer renews it', () => {
    const { scheduler } = setup({ leaseMs: 1000 });
    const job = submitLetters(scheduler, 'ab');
    scheduler.connect('v1', 'test', 1, 0);
    const [task] = requestNow(scheduler, 'v1', 1, 0);
    for (let now = 500; now <= 5000; now += 500) {
      expect(scheduler.renew('v1', [{ taskId: task!.taskId, leaseToken: task!.leaseToken }], now)).toEqual({ renewed: [task!.taskId], lost: [] });
      scheduler.tick(now);
    }
    answer(scheduler, 'v1', task!, 5100);
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'done', attemptsStarted: 1 });
    expect(scheduler.renew('v1', [{ taskId: task!.taskId, leaseToken: task!.leaseToken }], 5200)).toEqual({ renewed: [], lost: [task!.taskId] });
  });

  it('fails the job with the task error when job code keeps throwing, and revokes its other tasks', () => {
    const { scheduler, events } = setup();
    const job = submitLetters(scheduler, 'abcd', 0, { maxAttempts: 1 });
    scheduler.connect('v1', 'test', 2, 0);
    const [bad, running] = requestNow(scheduler, 'v1', 2, 0);
    scheduler.fail('v1', bad!.taskId, bad!.leaseToken, { name: 'TypeError', message: 'x is undefined', stack: 'at map' }, 5);
    expect(scheduler.getJob(job.id)).toMatchObject({
      state: 'failed',
      error: { name: 'TypeError', message: 'x is undefined', stack: 'at map', taskId: bad!.taskId },
    });
    expect(events.revoked).toEqual([{ volunteerId: 'v1', taskIds: [running!.taskId] }]);
    expect(requestNow(scheduler, 'v1', 2, 10)).toEqual([]);
  });

  it('refuses a malformed map output and keeps the lease', () => {
    const { scheduler } = setup();
    submitLetters(scheduler, 'ab');
    scheduler.connect('v1', 'test', 1, 0);
    const [task] = requestNow(scheduler, 'v1', 1, 0) as MapAssignment[];
    const complete = (partitions: Uint8Array[]) => () => {
      const { bytes, offsets } = packParts(partitions);
      scheduler.complete('v1', task!.taskId, task!.leaseToken, { kind: 'map', blocks: bytes, offsets }, 1);
    };
    expect(complete([encode([])])).toThrow(/needs 2 partitions/);
    expect(() =>
      scheduler.complete('v1', task!.taskId, task!.leaseToken, { kind: 'map', blocks: encode([]), offsets: [0, 1, 99] }, 1),
    ).toThrow(/offsets are wrong/);
    expect(complete([encode({}), encode([])])).toThrow(/wrong shape/);
    expect(complete([new Uint8Array([0xff]), encode([])])).toThrow(/not UTF-8 JSON/);
    const wrongPartition = partitionOf('a', 2) === 0 ? [encode([]), encode([['a', [1]]])] : [encode([['a', [1]]]), encode([])];
    expect(complete(wrongPartition)).toThrow(/does not belong in partition/);
    answer(scheduler, 'v1', task!, 2);
  });

  it('cancels a job: revokes running tasks and refuses their late answers', () => {
    const { scheduler, events } = setup();
    const job = submitLetters(scheduler, 'abcd');
    scheduler.connect('v1', 'test', 1, 0);
    const [task] = requestNow(scheduler, 'v1', 1, 0);
    expect(scheduler.cancel(job.id, 1).state).toBe('cancelled');
    expect(events.revoked).toEqual([{ volunteerId: 'v1', taskIds: [task!.taskId] }]);
    expect(() => answer(scheduler, 'v1', task!, 2)).toThrow(/no live lease/);
    expect(() => scheduler.cancel(job.id, 3)).toThrow(/already cancelled/);
    expect(() => scheduler.getResult(job.id)).toThrow(/cancelled/);
  });

  it('asks for hello before work', () => {
    const { scheduler } = setup();
    expect(() => requestNow(scheduler, 'stranger', 1, 0)).toThrow(/hello/);
  });

  it('runs a backup copy of a slow task on an idle volunteer; the first answer wins and the other is revoked', () => {
    const { scheduler, events } = setup({ leaseMs: 60_000 });
    const job = submitLetters(scheduler, 'abcd');
    scheduler.connect('slow', 'test', 1, 0);
    scheduler.connect('fast', 'test', 2, 0);
    const [straggler] = requestNow(scheduler, 'slow', 1, 0);
    const [quick] = requestNow(scheduler, 'fast', 1, 0);
    answer(scheduler, 'fast', quick!, 100);
    // Nothing pending is left; the straggler is not slow yet (500 ms minimum, 2x the 100 ms mean).
    expect(requestNow(scheduler, 'fast', 1, 400)).toEqual([]);
    const [backup] = requestNow(scheduler, 'fast', 1, 600);
    expect(backup).toMatchObject({ taskId: straggler!.taskId });
    expect(requestNow(scheduler, 'fast', 1, 700)).toEqual([]); // one backup per task
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'leased', copies: 2 });
    answer(scheduler, 'fast', backup!, 800);
    expect(events.revoked).toEqual([{ volunteerId: 'slow', taskIds: [straggler!.taskId] }]);
    expect(() => answer(scheduler, 'slow', straggler!, 900)).toThrow(/no live lease/);
    expect(scheduler.getJob(job.id)).toMatchObject({ backups: { started: 1, won: 1 }, state: 'reducing' });
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'done', byBackup: true, volunteerId: 'fast' });
  });

  it('never runs a backup on the volunteer that runs the original', () => {
    const { scheduler } = setup({ leaseMs: 60_000 });
    submitLetters(scheduler, 'ab');
    scheduler.connect('only', 'test', 2, 0);
    expect(requestNow(scheduler, 'only', 1, 0)).toHaveLength(1);
    expect(requestNow(scheduler, 'only', 1, 10_000)).toEqual([]);
  });

  it('keeps the task running when the original copy is lost but the backup lives', () => {
    const { scheduler } = setup({ leaseMs: 60_000 });
    const job = submitLetters(scheduler, 'ab');
    scheduler.connect('slow', 'test', 1, 0);
    scheduler.connect('fast', 'test', 1, 0);
    const [original] = requestNow(scheduler, 'slow', 1, 0);
    const [backup] = requestNow(scheduler, 'fast', 1, 1000);
    scheduler.disconnect('slow', 1100);
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'leased', copies: 1 });
    answer(scheduler, 'fast', backup!, 1200);
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'done' });
    expect(original!.taskId).toBe(backup!.taskId);
  });

  it('recovers after a restart: done work stays done, leased work runs again', () => {
    const store = new MemoryStore();
    const first = setup({ store });
    const job = submitLetters(first.scheduler, 'abcdef');
    first.scheduler.connect('v1', 'test', 2, 0);
    const [done, lost] = requestNow(first.scheduler, 'v1', 2, 0);
    answer(first.scheduler, 'v1', done!, 10);

    const second = setup({ store });
    expect(second.scheduler.getJob(job.id)).toMatchObject({ state: 'mapping', progress: { map: { done: 1, total: 3 } } });
    second.scheduler.connect('v2', 'test', 4, 20);
    const again = requestNow(second.scheduler, 'v2', 4, 20);
    expect(again.map((task) => task.taskId)).toEqual([lost!.taskId, `${job.id}/map/2`]);
    for (const task of again) answer(second.scheduler, 'v2', task, 30);
    for (const task of requestNow(second.scheduler, 'v2', 4, 40)) answer(second.scheduler, 'v2', task, 50);
    expect(resultOf(second.scheduler, job.id)).toEqual([['a', 1], ['b', 1], ['c', 1], ['d', 1], ['e', 1], ['f', 1]]);
  });

  it('forgets finished jobs once their retention has passed, and keeps running ones', () => {
    const store = new MemoryStore();
    const { scheduler } = setup({ store, resultRetentionMs: 1000 });
    const finished = submitLetters(scheduler, 'ab', 0, { maxAttempts: 1 });
    const running = submitLetters(scheduler, 'cd');
    scheduler.cancel(finished.id, 100);
    scheduler.tick(1100);
    expect(scheduler.getJob(finished.id)).toBeDefined();
    scheduler.tick(1101);
    expect(scheduler.getJob(finished.id)).toBeUndefined();
    expect(store.getJob(finished.id)).toBeUndefined();
    expect(scheduler.getJob(running.id)?.state).toBe('queued');
  });

  it('wakes only volunteers that wait for work, and only as many as the work needs', () => {
    const woken: string[][] = [];
    const scheduler = new Scheduler(
      new MemoryStore(),
      { leaseMs: 1000, taskTimeoutMs: 5000, backoffMs: () => 100, newLeaseToken: () => `lease${Math.random()}` },
      { workAvailable: (ids) => woken.push(ids), revoke: () => {}, yieldTasks: () => {}, changed: () => {} },
    );
    for (const id of ['a', 'b', 'c']) scheduler.connect(id, 'test', 2, 0);
    expect(requestNow(scheduler, 'a', 2, 0)).toEqual([]);
    expect(requestNow(scheduler, 'b', 2, 0)).toEqual([]);
    submitLetters(scheduler, 'xy'); // one map task: one waiting volunteer is enough
    expect(woken).toEqual([['a']]);
    const [task] = requestNow(scheduler, 'a', 2, 1);
    scheduler.fail('a', task!.taskId, task!.leaseToken, { name: 'E', message: 'm' }, 2);
    expect(woken).toHaveLength(1); // the retry backs off for 100 ms
    scheduler.tick(150);
    expect(woken).toEqual([['a'], ['a', 'b']]);
  });
});

/** A liar: well-formed answers that count every word once too often. */
function lie(scheduler: Scheduler, volunteerId: string, assignment: TaskAssignment, nowMs: number) {
  if (assignment.kind === 'map') {
    const honest = honestMap(assignment);
    const blocks = (honest.offsets.slice(1).map((end, p) => decode(honest.blocks.subarray(honest.offsets[p], end))) as PartitionBlock[]).map((block) =>
      block.map(([key, values]): [Key, unknown[]] => [key, [...values, 1]]),
    );
    const { bytes, offsets } = packParts(blocks.map(encode));
    scheduler.complete(volunteerId, assignment.taskId, assignment.leaseToken, { kind: 'map', blocks: bytes, offsets }, nowMs);
  } else {
    const pairs = (decode(honestReduce(assignment)) as [Key, number][]).map(([key, n]): [Key, number] => [key, n + 1]);
    scheduler.complete(volunteerId, assignment.taskId, assignment.leaseToken, { kind: 'reduce', pairs: encode(pairs) }, nowMs);
  }
}

/** Volunteers take turns asking for one task and answering it until the job ends; returns the refusals the liar met. */
function runWithLiar(scheduler: Scheduler, jobId: string, liar: string, honest: string[]): string[] {
  const refusals: string[] = [];
  for (let nowMs = 1; nowMs < 10_000; nowMs += 10) {
    const state = scheduler.getJob(jobId)!.state;
    if (state === 'succeeded' || state === 'failed') return refusals;
    for (const volunteerId of [liar, ...honest]) {
      let tasks: TaskAssignment[];
      try {
        tasks = requestNow(scheduler, volunteerId, 1, nowMs);
      } catch (error) {
        refusals.push((error as { code: string }).code);
        continue;
      }
      for (const task of tasks) (volunteerId === liar ? lie : answer)(scheduler, volunteerId, task, nowMs);
    }
  }
  throw new Error('the job did not end');
}

describe('Scheduler: past attempts', () => {
  it('keeps the attempts that did not give the answer: failed, lost, handed back, beaten by a backup', () => {
    const { scheduler } = setup();
    for (const id of ['a', 'b', 'c']) scheduler.connect(id, 'test', 1, 0);
    const job = submitLetters(scheduler, 'ab', 0, { reducers: 1 });
    const [first] = requestNow(scheduler, 'a', 1, 10);
    scheduler.fail('a', first!.taskId, first!.leaseToken, { name: 'Error', message: 'boom' }, 20);
    const [second] = requestNow(scheduler, 'b', 1, 200);
    expect(second!.taskId).toBe(first!.taskId);
    scheduler.returnTasks('b', [{ taskId: second!.taskId, leaseToken: second!.leaseToken }], 210);
    const [third] = requestNow(scheduler, 'c', 1, 220);
    scheduler.disconnect('c', 230);
    const attempts = scheduler.getTasks(job.id).find((task) => task.id === third!.taskId)!.pastAttempts!;
    expect(attempts.map((attempt) => [attempt.volunteerId, attempt.outcome, attempt.startedAtMs, attempt.endedAtMs])).toEqual([
      ['a', 'failed', 10, 20],
      ['b', 'returned', 200, 210],
      ['c', 'lost', 220, 230],
    ]);
  });
});

describe('Scheduler: returned tasks', () => {
  it('takes back an unstarted task for another volunteer, with no attempt spent', () => {
    const { scheduler, events } = setup();
    scheduler.connect('pausing', 'test', 2, 0);
    scheduler.connect('other', 'test', 1, 0);
    const job = submitLetters(scheduler, 'abcd', 0, { reducers: 1 });
    expect(requestNow(scheduler, 'other', 1, 0)).toHaveLength(0 + 1);
    const held = requestNow(scheduler, 'pausing', 2, 1);
    expect(held).toHaveLength(1);
    const before = events.workAvailable;
    expect(scheduler.returnTasks('pausing', held.map(({ taskId, leaseToken }) => ({ taskId, leaseToken })), 2)).toEqual([held[0]!.taskId]);
    expect(scheduler.getTasks(job.id).find((task) => task.id === held[0]!.taskId)).toMatchObject({ status: 'pending', attemptsStarted: 0 });
    // Returned twice, or by someone else: nothing happens.
    expect(scheduler.returnTasks('pausing', held.map(({ taskId, leaseToken }) => ({ taskId, leaseToken })), 3)).toEqual([]);
    expect(events.workAvailable).toBeGreaterThanOrEqual(before);
    const next = requestNow(scheduler, 'other', 1, 4);
    expect(next.map((task) => task.taskId)).toEqual([held[0]!.taskId]);
  });
  it('stores nothing for a returned task, and a restart after the return finds it pending with no attempt spent', () => {
    const store = new MemoryStore();
    const first = setup({ store });
    first.scheduler.connect('pausing', 'test', 1, 0);
    const job = submitLetters(first.scheduler, 'ab', 0, { reducers: 1 });
    const [held] = requestNow(first.scheduler, 'pausing', 1, 1);
    const saved = () => JSON.stringify(store.listTasks(job.id));
    const before = saved();
    expect(first.scheduler.returnTasks('pausing', [{ taskId: held!.taskId, leaseToken: held!.leaseToken }], 2)).toEqual([held!.taskId]);
    expect(saved()).toEqual(before);

    const second = setup({ store });
    expect(second.scheduler.getTasks(job.id).find((task) => task.id === held!.taskId)).toMatchObject({ status: 'pending', attemptsStarted: 0 });
    second.scheduler.connect('v2', 'test', 1, 3);
    expect(requestNow(second.scheduler, 'v2', 1, 3).map((task) => task.taskId)).toEqual([held!.taskId]);
  });
});

describe('Scheduler: replicated jobs', () => {
  it('with replication 2, outvotes a liar, strikes it out, and gets the exact answer', () => {
    const { scheduler } = setup({ maxStrikes: 2 });
    for (const id of ['liar', 'h1', 'h2']) scheduler.connect(id, 'test', 1, 0);
    const job = submitLetters(scheduler, 'abcabcaab', 0, { replication: 2 });
    const refusals = runWithLiar(scheduler, job.id, 'liar', ['h1', 'h2']);
    expect(scheduler.getJob(job.id)!.state).toBe('succeeded');
    expect(resultOf(scheduler, job.id)).toEqual([['a', 4], ['b', 3], ['c', 2]]);
    const liar = scheduler.cluster().volunteerList.find((v) => v.id === 'liar')!;
    expect(liar).toMatchObject({ struckOut: true, agreed: 0 });
    // Votes it cast before its second strike may be decided after it: more strikes, never fewer.
    expect(liar.strikes).toBeGreaterThanOrEqual(2);
    expect(refusals.length).toBeGreaterThan(0);
    expect(new Set(refusals)).toEqual(new Set(['FORBIDDEN']));
    const summary = scheduler.getJob(job.id)!;
    expect(summary.replication).toBe(2);
    expect(summary.votes.decided).toBe(7);
    expect(summary.votes.disputed).toBeGreaterThanOrEqual(2);
    // Every task's accepted answer came from agreeing volunteers; the liar's votes are marked.
    const tasks = scheduler.getTasks(job.id);
    for (const task of tasks) expect(task.votes!.filter((vote) => vote.agreed).length).toBeGreaterThanOrEqual(2);
    expect(tasks.flatMap((task) => task.votes!).filter((vote) => vote.volunteerId === 'liar').every((vote) => vote.agreed === false)).toBe(true);
  });

  it('never gives one volunteer two copies of a task, and waits for a second volunteer', () => {
    const { scheduler } = setup();
    scheduler.connect('alone', 'test', 4, 0);
    const job = submitLetters(scheduler, 'ab', 0, { replication: 2, reducers: 1 });
    const first = requestNow(scheduler, 'alone', 4, 1);
    expect(first.map((task) => task.taskId)).toEqual([`${job.id}/map/0`]);
    answer(scheduler, 'alone', first[0]!, 2);
    expect(requestNow(scheduler, 'alone', 4, 3)).toEqual([]);
    expect(scheduler.getJob(job.id)!.progress.map.done).toBe(0);
    scheduler.connect('second', 'test', 1, 4);
    const second = requestNow(scheduler, 'second', 1, 5);
    expect(second.map((task) => task.taskId)).toEqual([`${job.id}/map/0`]);
    answer(scheduler, 'second', second[0]!, 6);
    expect(scheduler.getJob(job.id)!.progress.map.done).toBe(1);
  });

  it('never offers a backup copy to a volunteer that answered the task already', () => {
    const { scheduler } = setup();
    scheduler.connect('a', 'test', 1, 0);
    scheduler.connect('b', 'test', 1, 0);
    const job = submitLetters(scheduler, 'ab', 0, { replication: 2, reducers: 1 });
    const [copyA] = requestNow(scheduler, 'a', 1, 1);
    const [copyB] = requestNow(scheduler, 'b', 1, 2);
    expect(copyB!.taskId).toBe(copyA!.taskId);
    answer(scheduler, 'a', copyA!, 3);
    // b is slow enough for a backup, the queue is empty: a asks again; it must get nothing, not an error.
    expect(requestNow(scheduler, 'a', 1, 600)).toEqual([]);
    answer(scheduler, 'b', copyB!, 700);
    expect(scheduler.getJob(job.id)!.progress.map.done).toBe(1);
  });

  it('fails a task whose answers never agree, with the reason', () => {
    const { scheduler } = setup();
    const volunteers = ['v1', 'v2', 'v3', 'v4', 'v5'];
    for (const id of volunteers) scheduler.connect(id, 'test', 1, 0);
    const job = submitLetters(scheduler, 'a', 0, { replication: 2, reducers: 1 });
    volunteers.forEach((volunteerId, i) => {
      const [task] = requestNow(scheduler, volunteerId, 1, 10 * i + 10);
      if (!task || task.kind !== 'map') throw new Error(`${volunteerId} got no copy`);
      // Each answer different: a count of i + 1.
      const { bytes, offsets } = packParts([encode([['a', Array.from({ length: i + 1 }, () => 1)]])]);
      scheduler.complete(volunteerId, task.taskId, task.leaseToken, { kind: 'map', blocks: bytes, offsets }, 10 * i + 15);
    });
    const summary = scheduler.getJob(job.id)!;
    expect(summary.state).toBe('failed');
    expect(summary.error).toMatchObject({ name: 'NoQuorum', taskId: `${job.id}/map/0` });
  });

  it('with spotCheck 1, checks every task of a replication-1 job', () => {
    const { scheduler } = setup({ maxStrikes: 1 });
    for (const id of ['liar', 'h1', 'h2']) scheduler.connect(id, 'test', 1, 0);
    const job = submitLetters(scheduler, 'abab', 0, { spotCheck: 1 });
    runWithLiar(scheduler, job.id, 'liar', ['h1', 'h2']);
    expect(resultOf(scheduler, job.id)).toEqual([['a', 2], ['b', 2]]);
    expect(scheduler.cluster().volunteerList.find((v) => v.id === 'liar')).toMatchObject({ struckOut: true });
  });

  it('with spotCheck 0, replication 1 takes the first answer, lie or not', () => {
    const { scheduler } = setup();
    scheduler.connect('liar', 'test', 1, 0);
    const job = submitLetters(scheduler, 'ab', 0, { reducers: 1 });
    runWithLiar(scheduler, job.id, 'liar', []);
    expect(resultOf(scheduler, job.id)).toEqual([['a', 3], ['b', 3]]);
  });
});

describe('Scheduler: attempts, backup copies included', () => {
  const TIMEOUT_MS = 1000;
  const timedOut = (message: string) => ({ name: 'TaskTimeout', message });
  const ended = (state: string) => ['succeeded', 'failed', 'cancelled'].includes(state);

  /**
   * Three volunteers of one slot each run a job whose one map task never returns: every
   * copy they hold fails with TaskTimeout after TIMEOUT_MS, and an idle one asks for work
   * every 50 ms, so it takes every backup copy dispatch will give.
   */
  function runNeverReturning(maxAttempts: number) {
    const { scheduler } = setup({ leaseMs: 60_000 });
    const job = submitLetters(scheduler, 'ab', 0, { maxAttempts, reducers: 1 });
    const volunteers = ['v1', 'v2', 'v3'];
    for (const id of volunteers) scheduler.connect(id, 'test', 1, 0);
    const held = new Map<string, { assignment: TaskAssignment; startedAtMs: number }>();
    let handedOut = 0;
    let nowMs = 0;
    for (; nowMs <= 60_000; nowMs += 50) {
      scheduler.tick(nowMs);
      for (const [volunteerId, { assignment, startedAtMs }] of held) {
        if (nowMs - startedAtMs < TIMEOUT_MS) continue;
        held.delete(volunteerId);
        scheduler.fail(volunteerId, assignment.taskId, assignment.leaseToken, timedOut(`${volunteerId} stopped it`), nowMs);
      }
      if (ended(scheduler.getJob(job.id)!.state)) break;
      for (const volunteerId of volunteers) {
        if (held.has(volunteerId)) continue;
        const [assignment] = requestNow(scheduler, volunteerId, 1, nowMs);
        if (!assignment) continue;
        handedOut++;
        held.set(volunteerId, { assignment, startedAtMs: nowMs });
      }
    }
    return { job: scheduler.getJob(job.id)!, task: scheduler.getTasks(job.id)[0]!, handedOut, endedAtMs: nowMs, stillHeld: held.size };
  }

  it.each([1, 2, 4, 6])('a task that never returns, backed up by idle volunteers, fails after %i attempts with the timeout', (maxAttempts) => {
    const { job, task, handedOut, endedAtMs, stillHeld } = runNeverReturning(maxAttempts);
    expect(job).toMatchObject({ state: 'failed', error: { name: 'TaskTimeout', taskId: task.id } });
    expect(task).toMatchObject({ status: 'failed', attemptsStarted: maxAttempts });
    expect(handedOut).toBe(maxAttempts);
    // Every attempt after the first was a backup, started while a copy still ran...
    expect(job.backups.started).toBe(maxAttempts - 1);
    expect(task.pastAttempts!.map((attempt) => attempt.outcome)).toEqual(Array(maxAttempts).fill('failed'));
    // ...and none was cut short: the job failed when its last running copy timed out.
    expect(stillHeld).toBe(0);
    expect(endedAtMs).toBeLessThanOrEqual(maxAttempts * TIMEOUT_MS);
  });

  it.each<[string, 'answers' | 'fails']>([
    ['and its answer is taken', 'answers'],
    ['and its failure fails the job with its own error', 'fails'],
  ])('a copy that fails while the backup runs, with the attempts spent, leaves the backup to decide, %s', (_name, outcome) => {
    const { scheduler, events } = setup({ leaseMs: 60_000 });
    const job = submitLetters(scheduler, 'ab', 0, { maxAttempts: 2, reducers: 1 });
    for (const id of ['v1', 'v2', 'v3']) scheduler.connect(id, 'test', 1, 0);
    const [original] = requestNow(scheduler, 'v1', 1, 0);
    const [backup] = requestNow(scheduler, 'v2', 1, 600);
    expect(backup).toMatchObject({ taskId: original!.taskId });
    scheduler.fail('v1', original!.taskId, original!.leaseToken, timedOut('the original'), 700);
    expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'leased', copies: 1, attemptsStarted: 2, lastError: timedOut('the original') });

    // The backup has run long enough for a backup of its own, but no attempt is left for one,
    // and the sweep wakes nobody for it.
    expect(requestNow(scheduler, 'v1', 1, 1200)).toEqual([]);
    expect(requestNow(scheduler, 'v3', 1, 1200)).toEqual([]);
    const woken = events.workAvailable;
    scheduler.tick(1250);
    expect(events.workAvailable).toBe(woken);

    if (outcome === 'answers') {
      answer(scheduler, 'v2', backup!, 1300);
      expect(scheduler.getJob(job.id)).toMatchObject({ state: 'reducing', backups: { started: 1, won: 1 } });
      expect(scheduler.getTasks(job.id)[0]).toMatchObject({ status: 'done', attemptsStarted: 2, byBackup: true });
    } else {
      scheduler.fail('v2', backup!.taskId, backup!.leaseToken, timedOut('the backup'), 1300);
      expect(scheduler.getJob(job.id)).toMatchObject({ state: 'failed', error: { ...timedOut('the backup'), taskId: original!.taskId } });
    }
  });

  it('wakes a waiting volunteer for a backup even when the first one waiting runs the slow copy', () => {
    const { scheduler, events } = setup({ leaseMs: 60_000 });
    submitLetters(scheduler, 'ab', 0, { reducers: 1 });
    for (const id of ['runs-it', 'idle']) scheduler.connect(id, 'test', 2, 0);
    const [slow] = requestNow(scheduler, 'runs-it', 2, 0); // gets one of the two asked for: it waits too
    expect(requestNow(scheduler, 'idle', 2, 0)).toEqual([]);
    const woken = events.workAvailable;
    scheduler.tick(400); // not slow yet
    expect(events.workAvailable).toBe(woken);
    scheduler.tick(600);
    expect(events.workAvailable).toBe(woken + 1);
    expect(requestNow(scheduler, 'idle', 2, 600)).toMatchObject([{ taskId: slow!.taskId }]);
  });

  it("gives back the attempts of the leases that died in a restart, a backup's included", () => {
    const store = new MemoryStore();
    const first = setup({ store, leaseMs: 60_000 }).scheduler;
    const job = submitLetters(first, 'ab', 0, { maxAttempts: 2, reducers: 1 });
    first.connect('v1', 'test', 1, 0);
    first.connect('v2', 'test', 1, 0);
    requestNow(first, 'v1', 1, 0);
    expect(requestNow(first, 'v2', 1, 600)).toHaveLength(1); // a backup: both attempts started
    expect(first.getTasks(job.id)[0]).toMatchObject({ status: 'leased', attemptsStarted: 2, copies: 2 });

    // Two restarts, the task leased again before the second.
    const second = setup({ store, leaseMs: 60_000 }).scheduler;
    expect(second.getTasks(job.id)[0]).toMatchObject({ status: 'pending', attemptsStarted: 0 });
    second.connect('v3', 'test', 1, 1000);
    expect(requestNow(second, 'v3', 1, 1000)).toHaveLength(1);
    const third = setup({ store, leaseMs: 60_000 }).scheduler;
    expect(third.getTasks(job.id)[0]).toMatchObject({ status: 'pending', attemptsStarted: 0 });

    // Both attempts are still there to spend: a failure is retried, not fatal.
    third.connect('v4', 'test', 1, 2000);
    third.connect('v5', 'test', 1, 2000);
    const [tried] = requestNow(third, 'v4', 1, 2000);
    third.fail('v4', tried!.taskId, tried!.leaseToken, { name: 'Error', message: 'boom' }, 2100);
    expect(third.getJob(job.id)!.state).toBe('mapping');
    const [retried] = requestNow(third, 'v5', 1, 2300);
    answer(third, 'v5', retried!, 2400);
    expect(third.getTasks(job.id)[0]).toMatchObject({ status: 'done', attemptsStarted: 2 });
    expect(third.getJob(job.id)).toMatchObject({ state: 'reducing', retries: 1 });
  });
});
