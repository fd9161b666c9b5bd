/**
 * A scheduler on a fake clock, an in-memory store and honest answers to its tasks, for
 * the scheduler's unit tests (server/scheduler/*.test.ts).
 */
import { packParts } from '../shared/byte-packing.ts';
import type { Key } from '../shared/keys.ts';
import type { KeyValue, PartitionBlock } from '../shared/job.ts';
import { partitionOf } from '../shared/partition.ts';
import type { MapAssignment, MapInputPayload, ReduceAssignment, TaskAssignment } from '../shared/protocol.ts';
import { planJob } from '../server/job-planner.ts';
import { chunksOf, resultEntries } from '../server/result-data.ts';
import { Scheduler } from '../server/scheduler/scheduler.ts';
import type { SchedulerListener } from '../server/scheduler/scheduler-options.ts';
import type { JobStore } from '../server/store/job-store.ts';
import { MemoryStore } from '../server/store/memory-store.ts';

export const SOURCE = 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }';
export const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
export const decode = (bytes: Uint8Array | ArrayBuffer) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

/** A scheduler on a fake clock, with everything it announces recorded. */
export function setup(options: { leaseMs?: number; store?: JobStore; resultRetentionMs?: number; maxStrikes?: number } = {}) {
  const events = { workAvailable: 0, woken: [] as string[], revoked: [] as { volunteerId: string; taskIds: string[] }[], yields: [] as { volunteerId: string; max: number }[] };
  const listener: SchedulerListener = {
    workAvailable: (volunteerIds) => {
      events.workAvailable += volunteerIds.length;
      events.woken.push(...volunteerIds);
    },
    revoke: (volunteerId, taskIds) => events.revoked.push({ volunteerId, taskIds }),
    yieldTasks: (volunteerId, max) => events.yields.push({ volunteerId, max }),
    changed: () => {},
  };
  let tokens = 0;
  const store = options.store ?? new MemoryStore();
  const scheduler = new Scheduler(
    store,
    {
      leaseMs: options.leaseMs ?? 1000,
      taskTimeoutMs: 5000,
      backoffMs: () => 100,
      backups: { enabled: true, minRunningMs: 500, slowdownFactor: 2 },
      resultRetentionMs: options.resultRetentionMs ?? 0,
      ...(options.maxStrikes !== undefined ? { maxStrikes: options.maxStrikes } : {}),
      newLeaseToken: () => `lease${++tokens}`,
    },
    listener,
  );
  return { scheduler, events, store };
}

/** A succeeded job's result, its chunks read back as pairs. */
export const resultOf = (scheduler: Scheduler, jobId: string): KeyValue[] => [...resultEntries(chunksOf(scheduler.getResult(jobId)))];

/** Leases tasks whose inputs are all in hand (no uploaded files in these tests), so the answer is never a promise. */
export function requestNow(scheduler: Scheduler, volunteerId: string, max: number, nowMs: number): TaskAssignment[] {
  const tasks = scheduler.requestTasks(volunteerId, max, nowMs);
  if (tasks instanceof Promise) throw new Error('expected the tasks at once');
  return tasks;
}

/** What an honest tab answers for the test job's map task: [value, 1] per record, grouped. */
export function honestMap(assignment: MapAssignment): { blocks: Uint8Array; offsets: number[] } {
  const input = decode((assignment.input as MapInputPayload).bytes) as { kind: 'records'; records: [Key, Key][] };
  const blocks: PartitionBlock[] = Array.from({ length: assignment.partitions }, () => []);
  for (const [, value] of input.records) {
    const block = blocks[partitionOf(value, assignment.partitions)]!;
    const entry = block.find(([key]) => key === value);
    if (entry) entry[1].push(1);
    else block.push([value, [1]]);
  }
  const { bytes, offsets } = packParts(blocks.map(encode));
  return { blocks: bytes, offsets };
}

export function honestReduce(assignment: ReduceAssignment): Uint8Array {
  const counts = new Map<Key, number>();
  for (const block of decode(assignment.blocks) as PartitionBlock[]) {
    for (const [key, values] of block) counts.set(key, (counts.get(key) ?? 0) + values.length);
  }
  return encode([...counts].sort(([a], [b]) => String(a).localeCompare(String(b))));
}

export function answer(scheduler: Scheduler, volunteerId: string, assignment: TaskAssignment, nowMs: number) {
  const output =
    assignment.kind === 'map'
      ? { kind: 'map' as const, ...honestMap(assignment) }
      : { kind: 'reduce' as const, pairs: honestReduce(assignment) };
  scheduler.complete(volunteerId, assignment.taskId, assignment.leaseToken, output, nowMs);
}

let jobs = 0;
export const letters = (text: string): [Key, unknown][] => [...text].map((letter, i) => [i, letter]);

export function submitLetters(scheduler: Scheduler, text: string, nowMs = 0, extra: { maxAttempts?: number; reducers?: number; replication?: number; spotCheck?: number } = {}) {
  return scheduler.submit(
    planJob(
      { name: 'letters', source: SOURCE, input: { kind: 'records', records: letters(text) }, recordsPerTask: 2, reducers: 2, ...extra },
      { jobId: `job${++jobs}` },
    ),
    nowMs,
  );
}

