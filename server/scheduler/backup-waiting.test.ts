/**
 * A task that waits in its holder's tab behind another gets a backup copy on an idle
 * volunteer at once, when the phase's tasks are long enough for the wait to matter: the
 * end of a map phase of a few-second tasks otherwise waits one whole task for a tab that
 * holds two. Tiny tasks are left alone, and so is a tab holding no more than its slots.
 */
import { describe, expect, it } from 'vitest';
import type { MapAssignment, MapInputPayload, TaskAssignment } from '../../shared/protocol.ts';
import { planJob } from '../job-planner.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { DEFAULT_BACKUP_POLICY } from './dispatch.ts';
import { Scheduler } from './scheduler.ts';

const SOURCE = 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }';

function cluster(waitingAfterMeanMs = DEFAULT_BACKUP_POLICY.waitingAfterMeanMs) {
  const revoked: { volunteerId: string; taskIds: string[] }[] = [];
  let tokens = 0;
  const scheduler = new Scheduler(
    new MemoryStore(),
    {
      leaseMs: 60_000,
      taskTimeoutMs: 60_000,
      backoffMs: () => 100,
      backups: { ...DEFAULT_BACKUP_POLICY, waitingAfterMeanMs },
      resultRetentionMs: 0,
      newLeaseToken: () => `lease${++tokens}`,
    },
    { workAvailable: () => {}, revoke: (volunteerId, taskIds) => revoked.push({ volunteerId, taskIds }), changed: () => {} },
  );
  // Six map tasks of one record each, R = 1.
  const job = scheduler.submit(
    planJob({ name: 'six', source: SOURCE, input: { kind: 'records', records: [...'abcdef'].map((letter, i) => [i, letter]) }, recordsPerTask: 1, reducers: 1 }, { jobId: 'job-six' }),
    0,
  );
  const take = (volunteerId: string, max: number, nowMs: number): TaskAssignment[] => {
    const tasks = scheduler.requestTasks(volunteerId, max, nowMs);
    if (tasks instanceof Promise) throw new Error('expected the tasks at once');
    return tasks;
  };
  const answer = (volunteerId: string, task: TaskAssignment, nowMs: number) => {
    const record = JSON.parse(new TextDecoder().decode(((task as MapAssignment).input as MapInputPayload).bytes)) as { records: [number, string][] };
    const blocks = new TextEncoder().encode(JSON.stringify(record.records.map(([, value]) => [value, [1]])));
    scheduler.complete(volunteerId, task.taskId, task.leaseToken, { kind: 'map', blocks, offsets: [0, blocks.length] }, nowMs);
  };
  return { scheduler, job, take, answer, revoked };
}

describe('backup copies of tasks waiting in a tab', () => {
  it('gives an idle volunteer the task another holds behind the one it runs, and revokes the loser', () => {
    const { scheduler, job, take, answer, revoked } = cluster();
    scheduler.connect('a', 'test', 1, 0);
    scheduler.connect('b', 'test', 1, 0);
    // Each holds one to run and one to run next, as tabs do.
    const [a1, a2] = take('a', 2, 0);
    const [b1, b2] = take('b', 2, 0);
    answer('a', a1!, 1000);
    answer('b', b1!, 1000);
    answer('a', a2!, 2000);
    const [a3] = take('a', 1, 2000);
    const [a4] = take('a', 1, 2001); // the last one: the queue is empty now
    expect(a4).toBeDefined();
    answer('b', b2!, 2100);
    // b is idle with nothing queued; a runs a3 with a4 waiting behind it: b gets a4 now,
    // with no wait for a4 to turn slow (5 s by default).
    const [backup] = take('b', 2, 2100);
    expect(backup).toMatchObject({ taskId: a4!.taskId });
    answer('b', backup!, 3100);
    expect(revoked).toEqual([{ volunteerId: 'a', taskIds: [a4!.taskId] }]);
    answer('a', a3!, 3200);
    expect(scheduler.getJob(job.id)).toMatchObject({ state: 'reducing', backups: { started: 1, won: 1 } });
  });

  it('leaves alone a tab that runs no more than its slots, and phases of short tasks', () => {
    for (const [slotsOfA, waitingAfterMeanMs, copied] of [[2, 250, true], [3, 250, false], [1, 5000, false]] as const) {
      const { take, answer, scheduler } = cluster(waitingAfterMeanMs);
      scheduler.connect('a', 'test', slotsOfA, 0);
      scheduler.connect('b', 'test', 1, 0);
      const [b1] = take('b', 1, 0);
      const held: TaskAssignment[] = [];
      for (let at = 0, got = take('a', 1, at); got.length > 0; got = take('a', 1, ++at)) held.push(...got);
      expect(held).toHaveLength(5);
      answer('a', held[0]!, 1000);
      answer('a', held[1]!, 1000);
      answer('b', b1!, 1000);
      // a holds 3 tasks; with 2 slots the last leased waits, with 3 none does. Tasks take
      // 1 s on average: past 250 ms, not past 5 s. b asks at 1 s, before any is slow.
      const copies = take('b', 1, 1000).map((task) => task.taskId);
      expect(copies).toEqual(copied ? [held[4]!.taskId] : []);
    }
  });
});
