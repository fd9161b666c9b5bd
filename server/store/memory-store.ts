import { isEmptyBlock, type JobRecord, type JobStore, type TaskRecord } from './job-store.ts';

interface StoredJob {
  job: JobRecord;
  tasks: Map<string, TaskRecord>;
  mapInputs: (Uint8Array | undefined)[];
  /** mapOutputs[mapIndex][partition] */
  mapOutputs: (Uint8Array[] | undefined)[];
  reduceOutputs: (Uint8Array | undefined)[];
  result?: Uint8Array[];
}

/** A JobStore in process memory: fast, and gone when the coordinator stops. */
export class MemoryStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();
  /** Jobs begun and not finished (beginJob): held apart, so that nothing else sees them. */
  private readonly unfinished = new Map<string, StoredJob>();

  insertJob(job: JobRecord, mapInputs: readonly Uint8Array[]): void {
    this.refuseTaken(job.id);
    if (mapInputs.length !== job.mapTasks && !(job.range && mapInputs.length === 0)) throw new Error(`job ${job.id} has ${job.mapTasks} map tasks and ${mapInputs.length} inputs`);
    this.jobs.set(job.id, newStoredJob(job, [...mapInputs]));
  }

  beginJob(job: JobRecord): void {
    this.refuseTaken(job.id);
    this.unfinished.set(job.id, newStoredJob(job, []));
  }

  putMapInputs(jobId: string, firstIndex: number, mapInputs: readonly Uint8Array[]): void {
    const stored = this.requireUnfinished(jobId);
    if (firstIndex !== stored.mapInputs.length) throw new Error(`job ${jobId}: map inputs from ${firstIndex} given, ${stored.mapInputs.length} expected next`);
    stored.mapInputs.push(...mapInputs);
  }

  finishJob(jobId: string): void {
    const stored = this.requireUnfinished(jobId);
    const expected = stored.job.range ? 0 : stored.job.mapTasks;
    if (stored.mapInputs.length !== expected) throw new Error(`job ${jobId} has ${expected} map tasks and ${stored.mapInputs.length} inputs saved`);
    this.unfinished.delete(jobId);
    this.jobs.set(jobId, stored);
  }

  dropUnfinishedJob(jobId: string): void {
    this.unfinished.delete(jobId);
  }

  updateJob(job: JobRecord): void {
    this.require(job.id).job = job;
  }

  fillJob(job: JobRecord, mapInputs: readonly Uint8Array[]): void {
    const stored = this.require(job.id);
    if (stored.job.mapTasks !== 0) throw new Error(`job ${job.id} has its map tasks already`);
    if (mapInputs.length !== job.mapTasks) throw new Error(`job ${job.id} has ${job.mapTasks} map tasks and ${mapInputs.length} inputs`);
    stored.job = job;
    stored.mapInputs = [...mapInputs];
  }

  getJob(jobId: string): JobRecord | undefined {
    return this.jobs.get(jobId)?.job;
  }

  listJobs(): JobRecord[] {
    return [...this.jobs.values()].map((stored) => stored.job);
  }

  saveTask(task: TaskRecord): void {
    // A copy: the caller goes on changing its record, and what is stored must not follow.
    this.require(task.jobId).tasks.set(task.id, { ...task });
  }

  listTasks(jobId: string): TaskRecord[] {
    return [...this.require(jobId).tasks.values()].sort(
      (a, b) => (a.kind === b.kind ? a.index - b.index : a.kind === 'map' ? -1 : 1),
    );
  }

  getMapInput(jobId: string, mapIndex: number): Uint8Array {
    const input = this.require(jobId).mapInputs[mapIndex];
    if (!input) throw new Error(`job ${jobId} has no input for map task ${mapIndex}`);
    return input;
  }

  putMapOutput(jobId: string, mapIndex: number, partitions: Uint8Array[]): void {
    this.require(jobId).mapOutputs[mapIndex] = partitions;
  }

  getPartitionBlocks(jobId: string, partition: number): Uint8Array[] {
    const stored = this.require(jobId);
    const blocks: Uint8Array[] = [];
    for (let mapIndex = 0; mapIndex < stored.job.mapTasks; mapIndex++) {
      const block = stored.mapOutputs[mapIndex]?.[partition];
      if (block && !isEmptyBlock(block)) blocks.push(block);
    }
    return blocks;
  }

  putReduceOutput(jobId: string, partition: number, pairs: Uint8Array): void {
    this.require(jobId).reduceOutputs[partition] = pairs;
  }

  getReduceOutputs(jobId: string): Uint8Array[] {
    const stored = this.require(jobId);
    return Array.from({ length: stored.job.reducers }, (_, partition) => {
      const pairs = stored.reduceOutputs[partition];
      if (!pairs) throw new Error(`job ${jobId} lacks reduce output ${partition}`);
      return pairs;
    });
  }

  putResult(jobId: string, chunks: Uint8Array[]): void {
    this.require(jobId).result = chunks;
  }

  resultChunks(jobId: string): number {
    return this.jobs.get(jobId)?.result?.length ?? 0;
  }

  getResultChunk(jobId: string, chunk: number): Uint8Array {
    const bytes = this.require(jobId).result?.[chunk];
    if (!bytes) throw new Error(`job ${jobId} has no result chunk ${chunk}`);
    return bytes;
  }

  deleteIntermediate(jobId: string): void {
    const stored = this.require(jobId);
    stored.mapInputs = [];
    stored.mapOutputs = [];
    stored.reduceOutputs = [];
  }

  deleteJob(jobId: string): void {
    this.require(jobId);
    this.jobs.delete(jobId);
  }

  /** Nothing to release: the data goes with the process. */
  flush(): void {
    // Nothing is durable here, so nothing waits to be.
  }

  /** Nothing here outlives the process, so there is nothing to wait for. */
  durable(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing is ever rolled back here: there is no commit to fail. */
  onRollback(): void {}

  close(): void {}

  private refuseTaken(jobId: string): void {
    if (this.jobs.has(jobId) || this.unfinished.has(jobId)) throw new Error(`job ${jobId} already exists`);
  }

  private requireUnfinished(jobId: string): StoredJob {
    const stored = this.unfinished.get(jobId);
    if (!stored) throw new Error(`no unfinished job ${jobId}: call beginJob first`);
    return stored;
  }

  private require(jobId: string): StoredJob {
    const stored = this.jobs.get(jobId);
    if (!stored) throw new Error(`no job ${jobId} in the store`);
    return stored;
  }
}

function newStoredJob(job: JobRecord, mapInputs: Uint8Array[]): StoredJob {
  return { job, tasks: new Map(), mapInputs, mapOutputs: [], reduceOutputs: [] };
}
