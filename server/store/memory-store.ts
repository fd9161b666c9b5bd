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

  insertJob(job: JobRecord, tasks: TaskRecord[], mapInputs: Uint8Array[]): void {
    if (this.jobs.has(job.id)) throw new Error(`job ${job.id} already exists`);
    this.jobs.set(job.id, {
      job,
      tasks: new Map(tasks.map((task) => [task.id, task])),
      mapInputs: [...mapInputs],
      mapOutputs: [],
      reduceOutputs: [],
    });
  }

  updateJob(job: JobRecord): void {
    this.require(job.id).job = job;
  }

  getJob(jobId: string): JobRecord | undefined {
    return this.jobs.get(jobId)?.job;
  }

  listJobs(): JobRecord[] {
    return [...this.jobs.values()].map((stored) => stored.job);
  }

  saveTask(task: TaskRecord): void {
    this.require(task.jobId).tasks.set(task.id, task);
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

  private require(jobId: string): StoredJob {
    const stored = this.jobs.get(jobId);
    if (!stored) throw new Error(`no job ${jobId} in the store`);
    return stored;
  }
}
