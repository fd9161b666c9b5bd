/**
 * The data a task carries: what a volunteer is sent when it leases a task (the map
 * input, or every map task's block of a partition), and what it sends back, checked
 * before anything is stored. Volunteers are untrusted: see task-output.ts.
 */
import { joinJsonArray, toUint8Array } from '../../shared/byte-packing.ts';
import { TabreduceError } from '../../shared/errors.ts';
import type { FetchedMapInput, MapInputPayload, ReduceAssignment, TaskAssignment, TaskOutput } from '../../shared/protocol.ts';
import { decodeMapInput, payloadBytes, rangeMapInputSource, toPayload } from '../map-input.ts';
import type { JobRecord, JobStore, TaskRecord } from '../store/job-store.ts';
import { checkMapOutput, checkReduceOutput } from '../task-output.ts';

/**
 * A task as leased: an assignment whose map input may still have to be read from an
 * uploaded file. `assignmentsReady` turns these into what goes on the wire.
 */
export type LeasedTask =
  | { assignment: ReduceAssignment; input?: undefined }
  | { assignment: Omit<Extract<TaskAssignment, { kind: 'map' }>, 'input'>; input: MapInputPayload | FetchedMapInput | Promise<MapInputPayload> };

/** Where a lease's input is read: the store, or what the cluster read for a claim (cluster/claims.ts). */
export type TaskInputs = Pick<JobStore, 'getMapInput' | 'getPartitionBlocks'>;

/** What a lease on `task` sends, and its size in bytes (the volunteer's data-moved figure). */
export function leasedTask(store: TaskInputs, job: JobRecord, task: TaskRecord, leaseToken: string, timeoutMs: number): { leased: LeasedTask; bytes: number } {
  // Literals, not a shared base spread into each: this runs for every task leased.
  if (task.kind === 'reduce') {
    const blocks = joinJsonArray(store.getPartitionBlocks(job.id, task.index));
    const assignment: ReduceAssignment = { taskId: task.id, jobId: job.id, index: task.index, leaseToken, sourceDigest: job.sourceDigest, timeoutMs, kind: 'reduce', partition: task.index, blocks };
    return { leased: { assignment }, bytes: blocks.byteLength };
  }
  const source = storedMapInput(store, job, task);
  // A large split of an upload is fetched by the worker that maps it (GET /api/inputs/:lease),
  // so its bytes never pass through the volunteer's page; a small one rides in the batch.
  const input: LeasedTask['input'] = source.format === 'file' && source.length >= FETCHED_INPUT_BYTES ? { format: 'text', key: source.key, url: `/api/inputs/${encodeURIComponent(leaseToken)}` } : toPayload(source);
  const assignment = { taskId: task.id, jobId: job.id, index: task.index, leaseToken, sourceDigest: job.sourceDigest, timeoutMs, kind: 'map' as const, partitions: job.reducers };
  return { leased: { assignment, input }, bytes: payloadBytes(source) };
}

/** A map task's input as stored, or as computed from the job's range (a range input stores none). */
function storedMapInput(store: TaskInputs, job: JobRecord, task: TaskRecord) {
  return job.range ? rangeMapInputSource(job.range, task.index) : decodeMapInput(store.getMapInput(job.id, task.index));
}

/** Splits of uploads this large or larger are fetched by the volunteer rather than sent in its batch. */
export const FETCHED_INPUT_BYTES = 64 * 1024;

/** The bytes of a leased map task's input, for GET /api/inputs/:lease: read now, from the store or the upload. */
export async function leasedInputBytes(store: JobStore, job: JobRecord, task: TaskRecord): Promise<Uint8Array> {
  const payload = await toPayload(storedMapInput(store, job, task));
  return toUint8Array(payload.bytes);
}

/**
 * The assignments, once every input is in hand: at once when none comes from a file
 * (the common case, and the one tiny tasks take), else after the reads. An input that
 * cannot be read is reported through `unreadable`, and its task left out.
 */
export function assignmentsReady(leased: LeasedTask[], unreadable: (task: LeasedTask, error: Error) => void): TaskAssignment[] | Promise<TaskAssignment[]> {
  if (leased.every((task) => !(task.input instanceof Promise))) {
    return leased.map((task) => (task.input === undefined ? task.assignment : { ...task.assignment, input: task.input as MapInputPayload | FetchedMapInput }));
  }
  return Promise.all(
    leased.map(async (task): Promise<TaskAssignment | undefined> => {
      if (task.input === undefined) return task.assignment;
      try {
        return { ...task.assignment, input: await task.input };
      } catch (error) {
        unreadable(task, error as Error);
        return undefined;
      }
    }),
  ).then((assignments) => assignments.filter((assignment) => assignment !== undefined));
}

/** A volunteer's answer, checked and decoded, ready to store. */
export type CheckedOutput = { kind: 'map'; blocks: Uint8Array[] } | { kind: 'reduce'; pairs: Uint8Array };

/** Checks an answer against its task; a malformed one is BAD_RESULT. */
export function checkOutput(task: TaskRecord, job: JobRecord, output: TaskOutput): CheckedOutput {
  if (task.kind === 'map') {
    if (output.kind !== 'map') throw new TabreduceError('BAD_RESULT', `task ${task.id} is a map task; send a map output`);
    return { kind: 'map', blocks: checkMapOutput(output.blocks, output.offsets, job.reducers) };
  }
  if (output.kind !== 'reduce') throw new TabreduceError('BAD_RESULT', `task ${task.id} is a reduce task; send a reduce output`);
  return { kind: 'reduce', pairs: checkReduceOutput(output.pairs, task.index, job.reducers) };
}

export function storeOutput(store: JobStore, job: JobRecord, task: TaskRecord, checked: CheckedOutput): void {
  if (checked.kind === 'map') store.putMapOutput(job.id, task.index, checked.blocks);
  else store.putReduceOutput(job.id, task.index, checked.pairs);
}

export function outputBytes(output: TaskOutput): number {
  return output.kind === 'map' ? output.blocks.byteLength : output.pairs.byteLength;
}
