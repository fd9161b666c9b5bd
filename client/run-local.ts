/**
 * `runLocal`: a job run in this process, without a coordinator, as the seeds ran theirs
 * (the `mapreduce` module's `MapReduce`, PyMOTW's `SimpleMapReduce`, Hadoop's local
 * runner): how a job is developed and tested before a crowd is asked to help.
 *
 * It is the cluster's data path with the network taken out: the same split
 * (shared/split.ts, the coordinator's default split size and records per task), the same
 * task runtime on the same kind of worker (`WorkerPool` over Node worker threads, one per
 * core by default, as `tabreduce volunteer` runs them), the same partitioner and combiner
 * inside it, the reduce tasks given their partition's blocks in map-task order with empty
 * blocks left out as the store leaves them out, and the reduce outputs put in key order.
 * So a deterministic job gives the cluster's answer to the byte.
 *
 * Unlike the cluster, a failed task is not tried again (job code that fails here would
 * fail there on every attempt too), and inputs are read whole into memory.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { isEmptyBlock, joinJsonArray, toUint8Array, unpackParts } from '../shared/byte-packing.ts';
import { defaultRecordsPerTask, defaultReducers, defaultSplitBytes, type InlineJobInput, type JobSummary, type KeyValue } from '../shared/job.ts';
import { compareKeys } from '../shared/keys.ts';
import { LIMITS } from '../shared/limits.ts';
import { toMapInputPayload } from '../shared/map-input-payload.ts';
import type { TaskAssignment } from '../shared/protocol.ts';
import { splitInput } from '../shared/split.ts';
import { createNodeJobWorker } from '../node-volunteer/node-worker.ts';
import { TaskRunError } from '../runtime/task-error.ts';
import { WorkerPool } from '../runtime/worker-pool.ts';
import { InvalidJobError, LocalTaskError } from './errors.ts';
import { checkInputFiles, type ClientInput } from './input-upload.ts';
import { moduleFromFile, moduleFromFunctions } from './job-source.ts';
import type { JobSpec, JobTuning, SubmitProgress } from './index.ts';

export interface RunLocalOptions extends Pick<JobTuning, 'reducers' | 'splitBytes' | 'recordsPerTask'> {
  /** Worker threads. Default: one per core (`os.availableParallelism()`). */
  threads?: number;
  /** The longest one task may run, in ms. Default 600,000. */
  taskTimeoutMs?: number;
  /** Called as tasks finish, in the shape `submit` reports a job's polls (job id `local`). */
  onProgress?: (progress: SubmitProgress) => void;
  /** Stops the run: running tasks are abandoned and the promise rejects. */
  signal?: AbortSignal;
}

const LOCAL_JOB_ID = 'local';
const DEFAULT_TASK_TIMEOUT_MS = 600_000;

/** Runs `job` here and resolves with its result: `[key, value]` pairs sorted by key, as `submit` gives. */
export async function runLocal(job: JobSpec, options: RunLocalOptions = {}): Promise<KeyValue[]> {
  const threads = Math.max(1, Math.min(LIMITS.slotsPerVolunteer, options.threads ?? availableParallelism()));
  const { source, defaultName } = 'module' in job ? await moduleFromFile(job.module) : { source: moduleFromFunctions(job), defaultName: 'local job' };
  const input = await localInput(job.input);
  const bytes = input.kind === 'texts' ? input.files.reduce((sum, file) => sum + Buffer.byteLength(file.text), 0) : 0;
  const splits = splitInput(input, {
    splitBytes: options.splitBytes ?? defaultSplitBytes(bytes, threads),
    ...(options.recordsPerTask !== undefined ? { recordsPerTask: options.recordsPerTask } : {}),
  });
  if (splits.length === 0) throw new InvalidJobError('INPUT_FILE', 'the input is empty: every file has no text');
  const reducers = options.reducers ?? defaultReducers(splits.length);
  const progress = new LocalProgress(job.name ?? defaultName, splits.length, reducers, bytes, options.onProgress);
  const module = { source, digest: createHash('sha256').update(source).digest('hex') };
  const timeoutMs = options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  const base = { jobId: LOCAL_JOB_ID, leaseToken: LOCAL_JOB_ID, sourceDigest: module.digest, timeoutMs };
  const signal = options.signal ?? new AbortController().signal;

  const pool = new WorkerPool({ slots: threads, createWorker: createNodeJobWorker });
  try {
    const run = async (assignment: TaskAssignment) => {
      try {
        return await pool.run(assignment, module, signal);
      } catch (error) {
        if (error instanceof TaskRunError) throw new LocalTaskError(assignment.taskId, error.toTaskError());
        throw error;
      }
    };
    // Every partition's non-empty blocks, in map-task order.
    const blocks: Uint8Array[][] = Array.from({ length: reducers }, () => []);
    const mapOutputs = await Promise.all(
      splits.map(async (split, index) => {
        const output = await run({ ...base, kind: 'map', taskId: `${LOCAL_JOB_ID}/map/${index}`, index, partitions: reducers, input: toMapInputPayload(split) });
        progress.done('map');
        return output;
      }),
    );
    for (const output of mapOutputs) {
      if (output.kind !== 'map') throw new Error('a map task answered with a reduce output');
      unpackParts(toUint8Array(output.blocks), output.offsets).forEach((block, partition) => {
        if (!isEmptyBlock(block)) blocks[partition]!.push(block);
      });
    }
    const reduceOutputs = await Promise.all(
      blocks.map(async (partitionBlocks, partition) => {
        const output = await run({ ...base, kind: 'reduce', taskId: `${LOCAL_JOB_ID}/reduce/${partition}`, index: partition, partition, blocks: joinJsonArray(partitionBlocks) });
        progress.done('reduce');
        if (output.kind !== 'reduce') throw new Error('a reduce task answered with a map output');
        return JSON.parse(new TextDecoder().decode(toUint8Array(output.pairs))) as KeyValue[];
      }),
    );
    // Each output is sorted and holds its own partition's keys: sorting them together is the cluster's k-way merge.
    const result = reduceOutputs.flat().sort(([a], [b]) => compareKeys(a, b));
    progress.succeeded();
    return result;
  } finally {
    pool.dispose();
  }
}

/** The input read into memory: paths become a texts input keyed by the path as given, as `submit` uploads them. */
async function localInput(input: ClientInput): Promise<InlineJobInput> {
  switch (input.kind) {
    case 'paths': {
      const files = await checkInputFiles(input.paths);
      return { kind: 'texts', files: await Promise.all(files.map(async (file) => ({ name: file.name, text: await readFile(file.path, 'utf8') }))) };
    }
    case 'files':
    case 'job':
      throw new InvalidJobError('INPUT_FILE', `a ${input.kind} input lives on a coordinator; a local run takes paths, texts, records or a range`);
    default:
      return input;
  }
}

/** The run's progress as a job summary, so a progress bar made for `submit` shows it unchanged. */
class LocalProgress {
  readonly #summary: JobSummary;

  constructor(
    name: string,
    mapTasks: number,
    reducers: number,
    inputBytes: number,
    private readonly report: ((progress: SubmitProgress) => void) | undefined,
  ) {
    const now = Date.now();
    this.#summary = {
      id: LOCAL_JOB_ID,
      name,
      state: 'mapping',
      progress: { map: { done: 0, total: mapTasks }, reduce: { done: 0, total: reducers } },
      submittedAtMs: now,
      startedAtMs: now,
      reducers,
      inputBytes,
      sourceDigest: '',
      running: 0,
      volunteersUsed: 1,
      retries: 0,
      backups: { started: 0, won: 0 },
      replication: 1,
      votes: { decided: 0, disputed: 0 },
    };
    this.#emit();
  }

  done(kind: 'map' | 'reduce'): void {
    this.#summary.progress[kind].done++;
    if (kind === 'map' && this.#summary.progress.map.done === this.#summary.progress.map.total) this.#summary.state = 'reducing';
    this.#emit();
  }

  succeeded(): void {
    this.#summary.state = 'succeeded';
    this.#summary.finishedAtMs = Date.now();
    this.#emit();
  }

  #emit(): void {
    this.report?.({ phase: this.#summary.state, jobId: LOCAL_JOB_ID, job: structuredClone(this.#summary) });
  }
}
