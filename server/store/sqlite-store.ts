/**
 * A JobStore in one SQLite file, `<dataDir>/tabreduce.db`, through better-sqlite3: a
 * coordinator killed with `kill -9` and started again on the same directory finds every
 * job, every task state, every map output already received and every result.
 *
 * Durability: WAL journal with `synchronous = NORMAL`. A commit is appended to the WAL
 * with write(2) before the call returns, so it sits in the OS page cache and survives
 * the death of the process (kill -9, an uncaught exception, OOM). Writes are grouped
 * into one commit (group-commit.ts); `durable()` says when a write is committed, and
 * every answer that says "stored" waits for it. Only an OS crash or a power cut can lose
 * the last few commits, since NORMAL syncs the WAL at checkpoints rather than at every
 * commit; even then the database stays consistent (it rolls back to an earlier commit,
 * never to half of one). Paying an fsync per commit (FULL) would cost
 * far more than the whole scheduler decision on the hot path (saveTask on every
 * answer), to guard against a failure that also takes the volunteers' tabs down with it.
 *
 * Layout (sqlite-schema.ts): the job and task records are JSON (their shapes belong to
 * shared/ and change with it; a column per field would drop a new field silently), with
 * the few fields the store itself queries copied into columns. A task has a row only once
 * it is first saved: a new job's 250,000 pending tasks would otherwise cost as many rows
 * (about 0.9 s of the 1.0 s a 100,000-task insert took). Map inputs and outputs are
 * BLOBs, one per map task (none for a range, computed when leased) and one per (map
 * task, partition), keyed so that a partition's blocks are one index range in map order.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit, isStorageError, type RollbackListener } from './group-commit.ts';
import { isEmptyBlock, type JobRecord, type JobStore, type TaskRecord } from './job-store.ts';
import { migrate, SCHEMA_VERSION, SchemaTooNewError } from './sqlite-schema.ts';

export { SCHEMA_VERSION, SchemaTooNewError };

/** The database file's name inside the data directory. */
export const DATABASE_FILE = 'tabreduce.db';


/**
 * How long writes nobody waits for gather before they are committed together, in ms.
 * Measured on 20,000 tiny tasks when this was chosen: a commit per write 600 tasks/s,
 * a commit per event-loop turn 1,500/s, grouped every 20 ms faster still.
 */
const COMMIT_EVERY_MS = 20;

interface JobRow {
  record: string;
}
interface TaskRow {
  state: string;
  id: string;
  job_id: string;
  kind: 'map' | 'reduce';
  idx: number;
}
interface IndexedRow<T> {
  i: number;
  v: T;
}
interface Shape {
  map_tasks: number;
  reducers: number;
}

/** Thrown when another coordinator holds the data directory's database. */
export class DataDirInUseError extends Error {
  constructor(file: string, cause: string) {
    super(`${file} is in use by another tabreduce coordinator; give each coordinator its own TABREDUCE_DATA_DIR (${cause})`);
    this.name = 'DataDirInUseError';
  }
}

/** A job begun (beginJob) and not yet finished: how many map inputs it has, and the error of a piece rolled back. */
interface Unfinished {
  mapTasks: number;
  inputsSaved: number;
  rolledBack?: unknown;
}

/** A durable JobStore: one SQLite database in a data directory. */
export class SqliteStore implements JobStore {
  /** The database file's path. */
  readonly file: string;
  private readonly db: Database.Database;
  // Prepared once: preparing costs more than running these small statements.
  private readonly statements: Statements;
  private readonly insertJobTx: Database.Transaction<(job: JobRecord, stored: boolean, mapInputs: readonly Uint8Array[]) => void>;
  private readonly putMapInputsTx: Database.Transaction<(jobId: string, firstIndex: number, mapInputs: readonly Uint8Array[]) => void>;
  private readonly fillJobTx: Database.Transaction<(job: JobRecord, mapInputs: readonly Uint8Array[]) => void>;
  private readonly dropUnfinishedTx: Database.Transaction<(jobId: string) => void>;
  private readonly putMapOutputTx: Database.Transaction<(jobId: string, mapIndex: number, partitions: Uint8Array[]) => void>;
  private readonly putResultTx: Database.Transaction<(jobId: string, chunks: Uint8Array[]) => void>;
  private readonly deleteIntermediateTx: Database.Transaction<(jobId: string) => void>;
  private readonly deleteJobTx: Database.Transaction<(jobId: string) => void>;
  private readonly commits: GroupCommit;
  private readonly unfinished = new Map<string, Unfinished>();
  /**
   * The shapes of jobs read so far: they never change, and putMapOutput asked for one per
   * task (2.7% of the coordinator's time in a run of tiny tasks). Cleared on any rollback,
   * which may have taken away the job a shape was read of.
   */
  private readonly shapes = new Map<string, Shape>();
  private rolledBack: RollbackListener = () => {};

  /**
   * Opens (creating it and the directory if need be) `<directory>/tabreduce.db`.
   * `busyTimeoutMs` (default 0) is how long to wait for a lock another process holds:
   * the lock is held by a live coordinator for as long as it runs, so waiting only
   * delays the refusal.
   */
  constructor(directory: string, options: { busyTimeoutMs?: number } = {}) {
    mkdirSync(directory, { recursive: true });
    this.file = path.join(directory, DATABASE_FILE);
    const db = new Database(this.file, { timeout: options.busyTimeoutMs ?? 0 });
    this.db = db;
    try {
      // One coordinator per data directory: two would schedule the same jobs twice. The
      // exclusive lock is taken now and held until close (the OS drops it if the process
      // dies, so a restart after kill -9 is not blocked).
      db.pragma('locking_mode = EXCLUSIVE');
      try {
        db.exec('BEGIN EXCLUSIVE; COMMIT;');
      } catch (error) {
        throw new DataDirInUseError(this.file, (error as Error).message);
      }
      // The page size stays SQLite's 4 KiB: every commit appends whole pages to the WAL,
      // and saveTask commits once per call (measured: 24k saves/s at 4 KiB, 17k at 8 KiB,
      // 11k at 16 KiB). Larger pages would speed up big blobs, which are not the hot path.
      db.pragma('journal_mode = WAL');
      // See the file's header for why NORMAL is durable enough here.
      db.pragma('synchronous = NORMAL');
      // Catches a write for a job the store does not hold, as the memory store does.
      db.pragma('foreign_keys = ON');
      // Checkpoint (copy the WAL into the database, with an fsync each side) every ~40 MB
      // of WAL rather than SQLite's default ~4 MB: fewer fsyncs, at the price of fewer but
      // longer pauses. Measured: a 20 MB job's insertJob 250 -> 90 ms, 64 KB-block map
      // output 80 -> 110 MB/s, saveTask 24k -> 29k/s.
      db.pragma('wal_autocheckpoint = 10000');
      // The WAL file keeps its largest size after a checkpoint unless told otherwise; a
      // burst of large map outputs would otherwise leave it that large for good.
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      migrate(db, this.file);
      // What a crash in the middle of a large submission left: never answered, never whole.
      try {
        db.transaction(() => {
          db.exec('DELETE FROM map_inputs WHERE job_id IN (SELECT id FROM jobs WHERE stored = 0)');
          db.exec('DELETE FROM tasks WHERE job_id IN (SELECT id FROM jobs WHERE stored = 0)');
          db.exec('DELETE FROM jobs WHERE stored = 0');
        })();
      } catch (error) {
        // A full disk may refuse even a delete (the WAL grows first): the rows are hidden
        // from every read all the same, and the next start tries again.
        if (!isStorageError(error)) throw error;
      }
    } catch (error) {
      db.close();
      throw error;
    }

    this.statements = prepareStatements(db);
    this.commits = new GroupCommit(db, COMMIT_EVERY_MS);
    // A piece of an unfinished job rolled back: its finish must fail, not make a job with holes whole.
    this.commits.onRollback((jobIds, error) => {
      for (const jobId of jobIds) {
        const unfinished = this.unfinished.get(jobId);
        if (unfinished) unfinished.rolledBack ??= error;
      }
      this.shapes.clear();
      this.rolledBack(jobIds, error);
    });

    const s = this.statements;
    // A piece of map inputs lands whole or not at all, like every other write here.
    this.putMapInputsTx = db.transaction((jobId: string, firstIndex: number, mapInputs: readonly Uint8Array[]) => {
      mapInputs.forEach((input, offset) => s.putMapInput.run(jobId, firstIndex + offset, input));
    });
    this.insertJobTx = db.transaction((job: JobRecord, stored: boolean, mapInputs: readonly Uint8Array[]) => {
      s.insertJob.run(job.id, JSON.stringify(job), job.state.status, job.submittedAtMs, job.mapTasks, job.reducers, stored ? 1 : 0);
      this.putMapInputsTx(job.id, 0, mapInputs);
    });
    this.fillJobTx = db.transaction((job: JobRecord, mapInputs: readonly Uint8Array[]) => {
      const { changes } = s.fillJob.run(JSON.stringify(job), job.state.status, job.mapTasks, job.reducers, job.id);
      if (changes === 0) throw noJob(job.id);
      this.putMapInputsTx(job.id, 0, mapInputs);
    });
    this.dropUnfinishedTx = db.transaction((jobId: string) => {
      s.deleteUnfinishedInputs.run(jobId);
      s.deleteUnfinishedJob.run(jobId);
    });
    // A map task's R blocks land together or not at all, so a restart never sees half an output.
    this.putMapOutputTx = db.transaction((jobId: string, mapIndex: number, partitions: Uint8Array[]) => {
      partitions.forEach((block, partition) => {
        if (!isEmptyBlock(block)) s.putMapOutput.run(jobId, partition, mapIndex, block);
      });
    });
    this.putResultTx = db.transaction((jobId: string, chunks: Uint8Array[]) => {
      s.deleteResult.run(jobId);
      chunks.forEach((pairs, chunk) => s.putResultChunk.run(jobId, chunk, pairs));
    });
    this.deleteIntermediateTx = db.transaction((jobId: string) => {
      s.deleteMapInputs.run(jobId);
      s.deleteMapOutputs.run(jobId);
      s.deleteReduceOutputs.run(jobId);
    });
    // Children first: the foreign keys refuse a job row deleted before its rows elsewhere,
    // which also catches a table forgotten here.
    this.deleteJobTx = db.transaction((jobId: string) => {
      this.deleteIntermediateTx(jobId);
      s.deleteResult.run(jobId);
      s.deleteTasks.run(jobId);
      s.deleteJob.run(jobId);
    });
  }

  /** One write: the job's row and its map inputs, in one commit; a job this large blocks the loop while it runs (see beginJob). */
  insertJob(job: JobRecord, mapInputs: readonly Uint8Array[]): void {
    this.refuseTaken(job.id);
    if (mapInputs.length !== job.mapTasks && !(job.range && mapInputs.length === 0)) throw new Error(`job ${job.id} has ${job.mapTasks} map tasks and ${mapInputs.length} inputs`);
    this.commits.write(job.id, () => this.insertJobTx(job, true, mapInputs));
  }

  beginJob(job: JobRecord): void {
    this.refuseTaken(job.id);
    this.commits.write(job.id, () => this.insertJobTx(job, false, []));
    this.unfinished.set(job.id, { mapTasks: job.range ? 0 : job.mapTasks, inputsSaved: 0 });
  }

  putMapInputs(jobId: string, firstIndex: number, mapInputs: readonly Uint8Array[]): void {
    const unfinished = this.requireUnfinished(jobId);
    if (firstIndex !== unfinished.inputsSaved) throw new Error(`job ${jobId}: map inputs from ${firstIndex} given, ${unfinished.inputsSaved} expected next`);
    this.commits.write(jobId, () => this.putMapInputsTx(jobId, firstIndex, mapInputs));
    unfinished.inputsSaved += mapInputs.length;
  }

  finishJob(jobId: string): void {
    const unfinished = this.requireUnfinished(jobId);
    if (unfinished.inputsSaved !== unfinished.mapTasks) throw new Error(`job ${jobId} has ${unfinished.mapTasks} map tasks and ${unfinished.inputsSaved} inputs saved`);
    this.unfinished.delete(jobId);
    // A new seq too: listJobs orders by it, and the job joins the list now, as it joins the scheduler's.
    this.commits.write(jobId, () => {
      if (this.statements.finishJob.run(jobId).changes === 0) throw new Error(`job ${jobId} was not begun in this store`);
    });
  }

  dropUnfinishedJob(jobId: string): void {
    this.unfinished.delete(jobId);
    // Called on the way out of a failure, which may be this store's close: the next open drops the job then.
    if (this.db.open) this.commits.write(jobId, () => this.dropUnfinishedTx(jobId));
  }

  updateJob(job: JobRecord): void {
    this.commits.write(job.id, () => {
      const { changes } = this.statements.updateJob.run(JSON.stringify(job), job.state.status, job.id);
      if (changes === 0) throw noJob(job.id);
    });
  }

  fillJob(job: JobRecord, mapInputs: readonly Uint8Array[]): void {
    const held = this.shape(job.id);
    if (held.map_tasks !== 0) throw new Error(`job ${job.id} has its map tasks already`);
    if (mapInputs.length !== job.mapTasks) throw new Error(`job ${job.id} has ${job.mapTasks} map tasks and ${mapInputs.length} inputs`);
    // Its shape changes here, and only here: a job's M and R are otherwise fixed.
    this.shapes.delete(job.id);
    this.commits.write(job.id, () => this.fillJobTx(job, mapInputs));
  }

  getJob(jobId: string): JobRecord | undefined {
    const row = this.statements.getJob.get(jobId);
    return row && (JSON.parse(row.record) as JobRecord);
  }

  listJobs(): JobRecord[] {
    return this.statements.listJobs.all().map((row) => JSON.parse(row.record) as JobRecord);
  }

  /** The hot path (every answer, failure and return; not leases, see the scheduler): one prepared upsert, inside the group's transaction. */
  saveTask(task: TaskRecord): void {
    this.commits.write(task.jobId, () =>
      this.statements.saveTask.run(task.jobId, task.kind, task.index, task.id, task.state.status, JSON.stringify(task.state)),
    );
  }

  /**
   * What is on disk is always the state between two calls, never half of one; a crash
   * loses at most the last 20 ms of changes nobody waited for, whose tasks simply run
   * again. Transaction functions called inside a group nest as savepoints.
   */
  flush(): void {
    if (this.db.open) this.commits.flush();
  }

  durable(): Promise<void> {
    return this.commits.durable();
  }

  onRollback(listener: RollbackListener): void {
    this.rolledBack = listener;
  }

  listTasks(jobId: string): TaskRecord[] {
    const rows = this.statements.listTasks.all(jobId);
    // A job with no task saved yet has no rows: whether it exists is the jobs table's to say.
    if (rows.length === 0) this.shape(jobId);
    return rows.map((row) => ({ id: row.id, jobId: row.job_id, kind: row.kind, index: row.idx, state: JSON.parse(row.state) }));
  }

  getMapInput(jobId: string, mapIndex: number): Uint8Array {
    const input = this.statements.getMapInput.get(jobId, mapIndex);
    if (!input) throw new Error(`job ${jobId} has no input for map task ${mapIndex}`);
    return input;
  }

  putMapOutput(jobId: string, mapIndex: number, partitions: Uint8Array[]): void {
    // Empty blocks are not written, so a job that is gone would not be noticed by the insert.
    this.shape(jobId);
    let only = -1;
    let blocks = 0;
    partitions.forEach((block, partition) => {
      if (!isEmptyBlock(block)) (blocks++, (only = partition));
    });
    if (blocks === 0) return;
    // One row is one statement, atomic as it is: the savepoint around it cost two more.
    if (blocks === 1) this.commits.write(jobId, () => this.statements.putMapOutput.run(jobId, only, mapIndex, partitions[only]!));
    else this.commits.write(jobId, () => this.putMapOutputTx(jobId, mapIndex, partitions));
  }

  getPartitionBlocks(jobId: string, partition: number): Uint8Array[] {
    this.shape(jobId);
    return this.statements.getPartitionBlocks.all(jobId, partition).map((row) => row.v);
  }

  putReduceOutput(jobId: string, partition: number, pairs: Uint8Array): void {
    this.commits.write(jobId, () => this.statements.putReduceOutput.run(jobId, partition, pairs));
  }

  getReduceOutputs(jobId: string): Uint8Array[] {
    const { reducers } = this.shape(jobId);
    return inOrder(this.statements.getReduceOutputs.all(jobId), reducers, (partition) => `job ${jobId} lacks reduce output ${partition}`).map(asBytes);
  }

  putResult(jobId: string, chunks: Uint8Array[]): void {
    this.shape(jobId);
    this.commits.write(jobId, () => this.putResultTx(jobId, chunks));
  }

  resultChunks(jobId: string): number {
    return this.statements.countResultChunks.get(jobId) ?? 0;
  }

  getResultChunk(jobId: string, chunk: number): Uint8Array {
    const bytes = this.statements.getResultChunk.get(jobId, chunk);
    if (bytes === undefined) throw new Error(`job ${jobId} has no result chunk ${chunk}`);
    return asBytes(bytes);
  }

  deleteIntermediate(jobId: string): void {
    this.shape(jobId);
    this.commits.write(jobId, () => this.deleteIntermediateTx(jobId));
  }

  deleteJob(jobId: string): void {
    this.shape(jobId);
    this.shapes.delete(jobId);
    this.commits.write(jobId, () => this.deleteJobTx(jobId));
  }

  close(): void {
    this.flush();
    if (this.db.open) this.db.close();
  }

  /** Refuses a job id taken by a job held, or by one begun and not finished. */
  private refuseTaken(jobId: string): void {
    if (this.statements.taken.get(jobId)) throw new Error(`job ${jobId} already exists`);
  }

  private requireUnfinished(jobId: string): Unfinished {
    const unfinished = this.unfinished.get(jobId);
    if (!unfinished) throw new Error(`no unfinished job ${jobId}: call beginJob first`);
    // The rows of a rolled-back piece are gone (maybe the job's own row too): the job cannot be made whole.
    if (unfinished.rolledBack !== undefined) {
      this.dropUnfinishedJob(jobId);
      throw unfinished.rolledBack;
    }
    return unfinished;
  }

  /** A job's M and R; throws when the store does not hold the job. */
  private shape(jobId: string): Shape {
    let shape = this.shapes.get(jobId);
    if (!shape) {
      shape = this.statements.shape.get(jobId);
      if (!shape) throw noJob(jobId);
      this.shapes.set(jobId, shape);
    }
    return shape;
  }
}

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    insertJob: db.prepare<[string, string, string, number, number, number, number]>(
      'INSERT INTO jobs (id, record, status, submitted_at_ms, map_tasks, reducers, stored) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    finishJob: db.prepare<[string]>('UPDATE jobs SET stored = 1, seq = (SELECT max(seq) + 1 FROM jobs) WHERE id = ? AND stored = 0'),
    deleteUnfinishedInputs: db.prepare<[string]>('DELETE FROM map_inputs WHERE job_id = (SELECT id FROM jobs WHERE id = ? AND stored = 0)'),
    deleteUnfinishedJob: db.prepare<[string]>('DELETE FROM jobs WHERE id = ? AND stored = 0'),
    // Every read of jobs but this one sees whole jobs only (stored = 1).
    taken: db.prepare<[string], number>('SELECT 1 FROM jobs WHERE id = ?').pluck(),
    updateJob: db.prepare<[string, string, string]>('UPDATE jobs SET record = ?, status = ? WHERE id = ? AND stored = 1'),
    fillJob: db.prepare<[string, string, number, number, string]>('UPDATE jobs SET record = ?, status = ?, map_tasks = ?, reducers = ? WHERE id = ? AND stored = 1 AND map_tasks = 0'),
    getJob: db.prepare<[string], JobRow>('SELECT record FROM jobs WHERE id = ? AND stored = 1'),
    listJobs: db.prepare<[], JobRow>('SELECT record FROM jobs WHERE stored = 1 ORDER BY seq'),
    shape: db.prepare<[string], Shape>('SELECT map_tasks, reducers FROM jobs WHERE id = ? AND stored = 1'),
    saveTask: db.prepare<[string, string, number, string, string, string]>(
      `INSERT INTO tasks (job_id, kind, idx, id, status, state) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, kind, idx) DO UPDATE SET id = excluded.id, status = excluded.status, state = excluded.state`,
    ),
    listTasks: db.prepare<[string], TaskRow>('SELECT job_id, kind, idx, id, state FROM tasks WHERE job_id = ? ORDER BY kind, idx'),
    putMapInput: db.prepare<[string, number, Uint8Array]>('INSERT INTO map_inputs (job_id, map_index, data) VALUES (?, ?, ?)'),
    getMapInput: db.prepare<[string, number], Buffer>('SELECT data FROM map_inputs WHERE job_id = ? AND map_index = ?').pluck(),
    // REPLACE: a task that runs again (a backup copy, a retry after a restart) overwrites.
    putMapOutput: db.prepare<[string, number, number, Uint8Array]>(
      'INSERT OR REPLACE INTO map_outputs (job_id, partition, map_index, data) VALUES (?, ?, ?, ?)',
    ),
    getPartitionBlocks: db.prepare<[string, number], IndexedRow<Buffer>>(
      'SELECT map_index AS i, data AS v FROM map_outputs WHERE job_id = ? AND partition = ? ORDER BY map_index',
    ),
    putReduceOutput: db.prepare<[string, number, Uint8Array]>('INSERT OR REPLACE INTO reduce_outputs (job_id, partition, pairs) VALUES (?, ?, ?)'),
    getReduceOutputs: db.prepare<[string], IndexedRow<Uint8Array | string>>(
      'SELECT partition AS i, pairs AS v FROM reduce_outputs WHERE job_id = ? ORDER BY partition',
    ),
    putResultChunk: db.prepare<[string, number, Uint8Array]>('INSERT INTO results (job_id, chunk, pairs) VALUES (?, ?, ?)'),
    countResultChunks: db.prepare<[string], number>('SELECT count(*) FROM results WHERE job_id = ?').pluck(),
    getResultChunk: db.prepare<[string, number], Uint8Array | string>('SELECT pairs FROM results WHERE job_id = ? AND chunk = ?').pluck(),
    deleteMapInputs: db.prepare<[string]>('DELETE FROM map_inputs WHERE job_id = ?'),
    deleteMapOutputs: db.prepare<[string]>('DELETE FROM map_outputs WHERE job_id = ?'),
    deleteReduceOutputs: db.prepare<[string]>('DELETE FROM reduce_outputs WHERE job_id = ?'),
    deleteResult: db.prepare<[string]>('DELETE FROM results WHERE job_id = ?'),
    deleteTasks: db.prepare<[string]>('DELETE FROM tasks WHERE job_id = ?'),
    deleteJob: db.prepare<[string]>('DELETE FROM jobs WHERE id = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

const noJob = (jobId: string) => new Error(`no job ${jobId} in the store`);

/** The values of rows numbered 0..count-1, checking that none is missing. */
function inOrder<T>(rows: IndexedRow<T>[], count: number, missing: (index: number) => string): T[] {
  for (let index = 0; index < count; index++) {
    if (rows[index]?.i !== index) throw new Error(missing(index));
  }
  return rows.slice(0, count).map((row) => row.v);
}

/**
 * Reduce outputs and result chunks are written as BLOBs; a store written by an earlier
 * version holds the same JSON as TEXT. Both read back as the same bytes.
 */
function asBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? textEncoder.encode(value) : value;
}

const textEncoder = new TextEncoder();
