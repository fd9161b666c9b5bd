/**
 * Where jobs, tasks, intermediate data and results live. The scheduler holds the live
 * indexes in memory and writes every change through this interface, so a durable
 * implementation can replace the in-memory one without touching scheduling logic.
 * Methods are synchronous on purpose: an embedded database (better-sqlite3) is too, and
 * a scheduler decision must not interleave with another one half-written. Only
 * `durable()` waits, for the disk, and only an answer that says "stored" waits on it.
 */
import type { JobState } from '../../shared/job-lifecycle.ts';
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
  /** Who submitted it, as volunteers see it; absent if not said. */
  submitter?: string;
  /** Distinct volunteers whose answers must agree on each task. */
  replication: number;
  /** With replication 1: the fraction of tasks run twice and compared (0 or absent: none). */
  spotCheck?: number;
  /** The secret that picks the spot-checked tasks (server/verification.ts). */
  spotCheckSalt?: string;
  /** Size of the submitted input in UTF-8 bytes (0 for a range). */
  inputBytes: number;
  /**
   * A range input's split: map task i reads [from + i * recordsPerTask, min(to, from + (i +
   * 1) * recordsPerTask)), computed when it is leased (server/map-input.ts), so such a job
   * stores no map inputs. Absent for other inputs, and for range jobs stored by a version
   * that stored their inputs.
   */
  range?: RangeSplit;
  /**
   * A job whose input is another job's result, until that job succeeds: it has no map
   * or reduce tasks yet (0 of each), and `fillJob` gives it them (server/scheduler/pipeline.ts).
   */
  awaiting?: AwaitedInput;
  state: JobState;
}

/** What a job waiting on another's result needs to be planned once that result exists. */
export interface AwaitedInput {
  jobId: string;
  recordsPerTask?: number;
  reducers?: number;
}

/** How a range input is cut into map tasks. */
export interface RangeSplit {
  from: number;
  to: number;
  recordsPerTask: number;
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
 * except the getters that answer undefined or nothing (getJob, resultChunks).
 */
export interface JobStore {
  /**
   * Saves a new job with the encoded input of each map task (none for a range job), in one
   * write. Its tasks are not written: a task never saved is pending with no attempt, and
   * `listTasks` leaves it out, so a job of 250,000 tasks costs one row, not 250,000.
   */
  insertJob(job: JobRecord, mapInputs: readonly Uint8Array[]): void;
  /**
   * Starts saving a job too large for one write: its map inputs follow in pieces
   * (`putMapInputs`), each its own write, so the event loop can serve others between them.
   * Until `finishJob`, the store answers as if it did not hold the job (getJob, listJobs,
   * and every method that needs a job), and a crash or `dropUnfinishedJob` leaves nothing
   * of it: a half-stored job is never found again.
   */
  beginJob(job: JobRecord): void;
  /** Saves the inputs of map tasks `firstIndex`, `firstIndex + 1`, ... of a begun job; pieces come in task order. */
  putMapInputs(jobId: string, firstIndex: number, mapInputs: readonly Uint8Array[]): void;
  /**
   * Makes a begun job whole, once every map input is saved; throws (and drops the job)
   * when one of its pieces was rolled back (the commit's error) or some are missing.
   */
  finishJob(jobId: string): void;
  /**
   * Drops what is saved of a job begun and not finished (or whose finish was rolled back);
   * nothing if there is none. Never throws: what it cannot drop now, the next open does.
   */
  dropUnfinishedJob(jobId: string): void;
  updateJob(job: JobRecord): void;
  /**
   * Gives a job saved without tasks (it was `awaiting` another's result) its map tasks:
   * its record becomes `job` (its task counts included) and its map inputs are saved, in
   * one write, so a crash leaves the job either still waiting or whole.
   */
  fillJob(job: JobRecord, mapInputs: readonly Uint8Array[]): void;
  getJob(jobId: string): JobRecord | undefined;
  /** All jobs, oldest first. */
  listJobs(): JobRecord[];

  saveTask(task: TaskRecord): void;
  /**
   * A job's saved tasks: map tasks by index, then reduce tasks by index. A task never saved
   * is not listed: it is pending with no attempt (`initialTaskState`), as at its job's insert.
   */
  listTasks(jobId: string): TaskRecord[];

  getMapInput(jobId: string, mapIndex: number): Uint8Array;
  /**
   * Keeps one map task's output: one encoded partition block per partition. Empty blocks
   * (`[]`) are not kept: with many reducers and small map outputs most blocks are empty,
   * and storing them cost the coordinator more than the rest of a task's bookkeeping.
   */
  putMapOutput(jobId: string, mapIndex: number, partitions: Uint8Array[]): void;
  /**
   * The map tasks' non-empty blocks for one partition, in map task order. The store cannot
   * tell a missing block from an empty one: that every map task is done is the task
   * states' to say (the scheduler reads a partition only then).
   */
  getPartitionBlocks(jobId: string, partition: number): Uint8Array[];
  /** Keeps one reduce task's checked output: UTF-8 JSON of its `[key, value]` pairs, sorted by key. */
  putReduceOutput(jobId: string, partition: number, pairs: Uint8Array): void;
  /** Every reduce output, in partition order; throws while one is missing. */
  getReduceOutputs(jobId: string): Uint8Array[];

  /** Keeps a job's result as its chunks (server/result-data.ts): JSON arrays whose entries, in order, are the result. */
  putResult(jobId: string, chunks: Uint8Array[]): void;
  /** How many chunks the job's result has: 0 when it has none (an empty result is one chunk, `[]`). */
  resultChunks(jobId: string): number;
  /**
   * One chunk of a job's result, 0 to resultChunks - 1: a result is read a chunk at a
   * time, so serving a large one never holds it whole nor blocks for long.
   */
  getResultChunk(jobId: string, chunk: number): Uint8Array;
  /** Drops a job's map inputs, map outputs and reduce outputs (its result stays). */
  deleteIntermediate(jobId: string): void;
  /** Removes a job and everything of it: tasks, intermediate data, result (result retention). */
  deleteJob(jobId: string): void;

  /**
   * Commits every write so far now. A store may group writes and commit them a little
   * later; the scheduler flushes before it tells anyone about its state, so whatever a
   * reader was told survives a crash. Never throws for a commit that fails: see
   * `onRollback`.
   */
  flush(): void;

  /**
   * Resolves once every write made so far is committed; rejects with the store's error
   * when the commit meant to hold them failed (those writes are then rolled back, and
   * `onRollback` was told). Call it in the same synchronous turn as the writes it must
   * cover: this is what an acknowledgement that says "stored" waits for. Waiters of one
   * turn share one commit, made soon (not after the grouping delay).
   */
  durable(): Promise<void>;

  /**
   * Sets the one listener told, synchronously and before any further write, when a
   * failed commit (a full disk, an I/O error) rolled back writes: `jobIds` are the jobs
   * those writes touched, which the store now holds as they were at the last commit
   * before them. A later call replaces the listener.
   */
  onRollback(listener: (jobIds: ReadonlySet<string>, error: unknown) => void): void;

  /**
   * Releases the store (a database handle, a file lock). Idempotent; nothing may be
   * called after it. The store's owner calls it: whoever opened it.
   */
  close(): void;
}

export { isEmptyBlock } from '../../shared/byte-packing.ts';
