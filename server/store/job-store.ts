/**
 * Where jobs, tasks, intermediate data and results live. The scheduler holds the live
 * indexes in memory and writes every change through this interface, so a durable
 * implementation can replace the in-memory one without touching scheduling logic.
 * Methods are synchronous on purpose: an embedded database (better-sqlite3) is too, and
 * a scheduler decision must not interleave with another one half-written.
 */
import type { JobState, KeyValue } from '../../shared/job.ts';
import type { TaskKind, TaskState } from '../../shared/task.ts';

/** A job as stored: its definition and its lifecycle state. */
export interface JobRecord {
  id: string;
  name: string;
  source: string;
  sourceDigest: string;
  submittedAtMs: number;
  /** R, the number of reduce tasks and of partitions per map task. */
  reducers: number;
  /** M, the number of map tasks. */
  mapTasks: number;
  maxAttempts: number;
  replication: number;
  /** Size of the submitted input in UTF-8 bytes (0 for a range). */
  inputBytes: number;
  state: JobState;
}

/** One map or reduce task of a job; `id` is unique across jobs. */
export interface TaskRecord {
  id: string;
  jobId: string;
  kind: TaskKind;
  index: number;
  state: TaskState;
}

/**
 * The store's contract, checked against every implementation by
 * job-store.contract.test.ts. A method about a job the store does not hold throws,
 * except the getters that answer undefined (getJob, getResult).
 */
export interface JobStore {
  /** Saves a new job with its tasks and the encoded input of each map task. */
  insertJob(job: JobRecord, tasks: TaskRecord[], mapInputs: Uint8Array[]): void;
  updateJob(job: JobRecord): void;
  getJob(jobId: string): JobRecord | undefined;
  /** All jobs, oldest first. */
  listJobs(): JobRecord[];

  saveTask(task: TaskRecord): void;
  /** A job's tasks: map tasks by index, then reduce tasks by index. */
  listTasks(jobId: string): TaskRecord[];

  getMapInput(jobId: string, mapIndex: number): Uint8Array;
  /** Keeps one map task's output: one encoded partition block per partition. */
  putMapOutput(jobId: string, mapIndex: number, partitions: Uint8Array[]): void;
  /** Every map task's block for one partition, in map task order. */
  getPartitionBlocks(jobId: string, partition: number): Uint8Array[];
  putReduceOutput(jobId: string, partition: number, pairs: KeyValue[]): void;
  getReduceOutputs(jobId: string): KeyValue[][];

  putResult(jobId: string, result: KeyValue[]): void;
  getResult(jobId: string): KeyValue[] | undefined;
  /** Drops a job's map inputs, map outputs and reduce outputs (its result stays). */
  deleteIntermediate(jobId: string): void;
  /** Removes a job and everything of it: tasks, intermediate data, result (result retention). */
  deleteJob(jobId: string): void;

  /**
   * Makes every write so far durable now. A store may group writes and commit them a
   * little later; the scheduler flushes before it tells anyone about its state, so
   * whatever a reader was told survives a crash.
   */
  flush(): void;

  /**
   * Releases the store (a database handle, a file lock). Idempotent; nothing may be
   * called after it. The store's owner calls it: whoever opened it.
   */
  close(): void;
}
