import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packParts } from '../../shared/byte-packing.ts';
import type { KeyValue } from '../../shared/job.ts';
import type { MapAssignment } from '../../shared/protocol.ts';
import { planJob } from '../job-planner.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { jobRecordOf } from './job-run.ts';
import { INPUT_JOB_FAILED } from './pipeline.ts';
import type { Scheduler } from './scheduler.ts';
import { answer, encode, requestNow, resultOf, setup, SOURCE, submitLetters } from '../../testing/scheduler-fixture.ts';

/** Runs every task there is on one volunteer until none is left. */
function runAll(scheduler: Scheduler, nowMs: number): void {
  for (let round = 0; round < 100; round++) {
    const tasks = requestNow(scheduler, 'v1', 64, nowMs);
    if (tasks.length === 0) return;
    for (const task of tasks) answer(scheduler, 'v1', task, nowMs + 1);
  }
  throw new Error('the tasks never ran out');
}

let next = 0;
/** Plans a job reading `upstreamId`'s result: the test job counts how many keys have each value, frequencies of frequencies. */
function planReading(scheduler: Scheduler, upstreamId: string, extra: { recordsPerTask?: number; reducers?: number; splitBytes?: number } = {}) {
  return planJob(
    { name: 'frequencies of frequencies', source: SOURCE, input: { kind: 'job', id: upstreamId }, recordsPerTask: 2, ...extra },
    { jobId: `next${++next}`, hasJob: (jobId) => scheduler.getJob(jobId) !== undefined },
  );
}

// 'abracadabra': a 5, b 2, r 2, c 1, d 1; so two letters occur once, two twice, one five times.
const LETTERS: KeyValue[] = [['a', 5], ['b', 2], ['c', 1], ['d', 1], ['r', 2]];
const FREQUENCIES: KeyValue[] = [[1, 2], [2, 2], [5, 1]];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a job whose input is another job', () => {
  it('waits, queued and without tasks, until that job succeeds, then runs on its result', () => {
    const { scheduler, events } = setup();
    scheduler.connect('v1', 'test', 4, 0);
    const letters = submitLetters(scheduler, 'abracadabra');
    const frequencies = scheduler.submit(planReading(scheduler, letters.id), 0);
    expect(scheduler.getJob(frequencies.id)).toMatchObject({ state: 'queued', progress: { map: { done: 0, total: 0 }, reduce: { done: 0, total: 0 } } });

    // Everything a volunteer gets is the first job's, until it is done.
    const woken = events.workAvailable;
    runAll(scheduler, 10);
    expect(resultOf(scheduler, letters.id)).toEqual(LETTERS);
    expect(events.workAvailable).toBeGreaterThan(woken);
    expect(scheduler.getJob(frequencies.id)).toMatchObject({ state: 'succeeded', progress: { map: { total: 3 } } });
    expect(resultOf(scheduler, frequencies.id)).toEqual(FREQUENCIES);
  });

  it('starts at once on a job that has succeeded already, and chains', () => {
    const { scheduler } = setup();
    scheduler.connect('v1', 'test', 4, 0);
    const letters = submitLetters(scheduler, 'abracadabra');
    runAll(scheduler, 10);
    const frequencies = scheduler.submit(planReading(scheduler, letters.id, { recordsPerTask: 1, reducers: 3 }), 20);
    expect(scheduler.getJob(frequencies.id)).toMatchObject({ state: 'queued', progress: { map: { total: 5 }, reduce: { total: 3 } } });
    const again = scheduler.submit(planReading(scheduler, frequencies.id), 20);
    runAll(scheduler, 30);
    expect(resultOf(scheduler, frequencies.id)).toEqual(FREQUENCIES);
    // [1, 2], [2, 2], [5, 1]: two values occur twice, one once.
    expect(resultOf(scheduler, again.id)).toEqual([[1, 1], [2, 2]]);
  });

  it('fails, saying why, when the job it reads fails or is cancelled; a job after it fails too', () => {
    const { scheduler } = setup();
    scheduler.connect('v1', 'test', 4, 0);
    const doomed = submitLetters(scheduler, 'ab', 0, { maxAttempts: 1 });
    const reader = scheduler.submit(planReading(scheduler, doomed.id), 0);
    const readerOfReader = scheduler.submit(planReading(scheduler, reader.id), 0);
    const [task] = requestNow(scheduler, 'v1', 1, 1);
    scheduler.fail('v1', task!.taskId, task!.leaseToken, { name: 'TypeError', message: 'x is undefined' }, 2);
    expect(scheduler.getJob(doomed.id)?.state).toBe('failed');
    expect(scheduler.getJob(reader.id)).toMatchObject({ state: 'failed', error: { name: INPUT_JOB_FAILED, message: expect.stringMatching(new RegExp(`its input job ${doomed.id} failed: x is undefined`)) } });
    expect(scheduler.getJob(readerOfReader.id)?.error?.message).toMatch(new RegExp(`its input job ${reader.id} failed: its input job ${doomed.id} failed`));

    const cancelled = submitLetters(scheduler, 'cd');
    const readerOfCancelled = scheduler.submit(planReading(scheduler, cancelled.id), 3);
    scheduler.cancel(cancelled.id, 4);
    expect(scheduler.getJob(readerOfCancelled.id)?.error?.message).toBe(`its input job ${cancelled.id} was cancelled`);
  });

  it('fails when the result it reads is empty: it has no records to map', () => {
    const { scheduler } = setup();
    scheduler.connect('v1', 'test', 4, 0);
    const nothing = 'export function* map(k, v) {}\nexport function reduce(k, vs) { return vs.length; }';
    const silent = scheduler.submit(planJob({ name: 'silent', source: nothing, input: { kind: 'records', records: [[1, 1]] } }, { jobId: 'silent' }), 0);
    const reader = scheduler.submit(planReading(scheduler, silent.id), 0);
    // What an honest tab answers for a map that yields nothing: an empty block per partition, then empty reduces.
    for (const task of requestNow(scheduler, 'v1', 64, 1) as MapAssignment[]) {
      const { bytes, offsets } = packParts(Array.from({ length: task.partitions }, () => encode([])));
      scheduler.complete('v1', task.taskId, task.leaseToken, { kind: 'map', blocks: bytes, offsets }, 2);
    }
    for (const task of requestNow(scheduler, 'v1', 64, 3)) scheduler.complete('v1', task.taskId, task.leaseToken, { kind: 'reduce', pairs: encode([]) }, 4);
    expect(resultOf(scheduler, silent.id)).toEqual([]);
    expect(scheduler.getJob(reader.id)).toMatchObject({
      state: 'failed',
      error: { name: INPUT_JOB_FAILED, message: 'its input, the result of job silent, cannot be planned: the result is empty' },
    });
  });

  it('is refused at submit when it names no job held, or gives splitBytes', () => {
    const { scheduler } = setup();
    expect(() => planReading(scheduler, 'job-nobody')).toThrow(/names job job-nobody, which this coordinator does not hold/);
    const letters = submitLetters(scheduler, 'ab');
    expect(() => planReading(scheduler, letters.id, { splitBytes: 4096 })).toThrow(/splitBytes cuts text inputs/);
  });

  it('that a crash caught between the end of the job it reads and its own planning is planned when the coordinator starts again', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-pipeline-'));
    dirs.push(dir);
    const first = setup({ store: new SqliteStore(dir) });
    first.scheduler.connect('v1', 'test', 4, 0);
    const letters = submitLetters(first.scheduler, 'abracadabra');
    runAll(first.scheduler, 10);
    // What the store holds after such a crash: the first job succeeded, the second still awaiting it.
    const plan = planReading(first.scheduler, letters.id);
    first.store.insertJob(jobRecordOf(plan, 20), []);
    first.store.close();

    const second = setup({ store: new SqliteStore(dir) });
    expect(second.scheduler.getJob(plan.id)).toMatchObject({ state: 'queued', progress: { map: { total: 3 } } });
    second.scheduler.connect('v1', 'test', 4, 0);
    runAll(second.scheduler, 30);
    expect(resultOf(second.scheduler, plan.id)).toEqual(FREQUENCIES);
    second.store.close();

    // And planned it stays, task counts and inputs, across another restart.
    const third = setup({ store: new SqliteStore(dir) });
    expect(third.scheduler.getJob(plan.id)).toMatchObject({ state: 'succeeded', progress: { map: { done: 3, total: 3 } } });
    third.store.close();
  });
});
