/**
 * What a job worker offers over Comlink, separate from `Comlink.expose` so Node tests can
 * call it directly with another module loader. Every method answers a `WorkerResult`
 * and never rejects: a throw in module set-up, map, combine or reduce is a failed task,
 * reported as data, and the worker stays usable.
 */
import * as Comlink from 'comlink';
import type { TaskError } from '../shared/errors.ts';
import type { Bytes, FetchedMapInput, MapInputPayload, TaskOutput } from '../shared/protocol.ts';
import { InputPrefetch } from './fetched-input.ts';
import { runMapTaskPacked, runReduceTask, toJobModule, toTaskError, type JobModule, type PackedMapOutput } from './task-runtime.ts';

/** A worker call's answer: the value, or the job code's failure. */
export type WorkerResult<T> = { ok: true; value: T } | { ok: false; error: TaskError };

/** One task of a batch, as a worker runs it: a map task's input and R, or a reduce task's blocks. */
export type WorkerTask = { kind: 'map'; input: MapInputPayload | FetchedMapInput; partitions: number } | { kind: 'reduce'; blocks: Bytes };

/** A batch's answers, one per task in order, and the time the worker spent on them (its messages left out). */
export interface BatchAnswer {
  results: WorkerResult<TaskOutput>[];
  ms: number;
}

/** Evaluates a job module's source text and resolves to its namespace. */
export type ModuleImporter = (source: string) => Promise<unknown>;

/** The worker API as a plain object; `job-worker.ts` exposes it with the blob importer. */
export interface JobWorkerApi {
  /**
   * Imports the module with this digest once: its top-level code (the job's set-up)
   * runs here, the first time. A failed load is not cached, so a later call retries.
   */
  load(digest: string, source: string): Promise<WorkerResult<null>>;
  /** Runs a map task of a loaded module: its R partition blocks packed in one buffer, transferred, not copied. */
  runMap(digest: string, input: MapInputPayload, partitions: number): Promise<WorkerResult<PackedMapOutput>>;
  /** Runs a reduce task of a loaded module (`blocks` as `ReduceAssignment.blocks`): the sorted pairs, transferred. */
  runReduce(digest: string, blocks: Bytes): Promise<WorkerResult<Uint8Array>>;
  /**
   * Runs several tasks of a loaded module in one call, in order, with one answer each: a
   * message costs more than a tiny task, so a worker takes them by the batch. A task that
   * fails fails alone. Every output's buffer is transferred.
   */
  runBatch(digest: string, tasks: WorkerTask[]): Promise<BatchAnswer>;
  /**
   * Starts fetching a `FetchedMapInput` that a later `runBatch` will likely bring, while
   * this worker runs something else; `forget` drops it when its task went elsewhere. At
   * most a few are held (fetched-input.ts), so a wrong guess costs a fetch, not memory.
   */
  prefetch(url: string): void;
  forget(url: string): void;
}

/**
 * `takeViolation` answers (and forgets) a security-policy violation seen since it was
 * last asked, to be added to a failed task's message; the browser reports violations
 * as events, apart from the error the job code sees.
 */
export function createJobWorkerApi(importModule: ModuleImporter, takeViolation: () => string | undefined = () => undefined): JobWorkerApi {
  // One entry per job digest for the worker's lifetime. Evicting would not free much:
  // the engine keeps every imported module in its module map anyway.
  const modules = new Map<string, Promise<JobModule>>();
  const ahead = new InputPrefetch();

  const moduleFor = (digest: string): Promise<JobModule> =>
    modules.get(digest) ?? Promise.reject(new Error(`no job module with digest ${digest} is loaded in this worker`));

  const fail = async (thrown: unknown): Promise<{ ok: false; error: TaskError }> => {
    const error = toTaskError(thrown);
    // The browser dispatches the violation event as a task of its own, after the throw:
    // let it run before asking.
    await new Promise<void>((resolve) => setTimeout(() => resolve(), 0));
    const violation = takeViolation();
    return { ok: false, error: violation ? { ...error, message: `${error.message} (${violation})` } : error };
  };

  return {
    async load(digest, source) {
      let loading = modules.get(digest);
      if (!loading) {
        loading = importModule(source).then(toJobModule);
        modules.set(digest, loading);
      }
      try {
        await loading;
        return { ok: true, value: null };
      } catch (error) {
        if (modules.get(digest) === loading) modules.delete(digest);
        return fail(error);
      }
    },

    async runMap(digest, input, partitions) {
      try {
        const output = runMapTaskPacked(await moduleFor(digest), input, partitions);
        return Comlink.transfer({ ok: true, value: output }, [ownBuffer(output.blocks)]);
      } catch (error) {
        return fail(error);
      }
    },

    async runReduce(digest, blocks) {
      try {
        const pairs = runReduceTask(await moduleFor(digest), blocks);
        return Comlink.transfer({ ok: true, value: pairs }, [ownBuffer(pairs)]);
      } catch (error) {
        return fail(error);
      }
    },

    async runBatch(digest, tasks) {
      const started = performance.now();
      let module: JobModule;
      try {
        module = await moduleFor(digest);
      } catch (error) {
        const failed = await fail(error);
        return { results: tasks.map(() => failed), ms: performance.now() - started };
      }
      const results: WorkerResult<TaskOutput>[] = [];
      const transfers: ArrayBuffer[] = [];
      // Every fetched input starts at once, so the next task's bytes arrive while one runs.
      const inputs = tasks.map((task) => (task.kind === 'map' ? ahead.bytesOf(task.input) : undefined));
      for (const input of inputs) input?.catch(() => {});
      for (const [i, task] of tasks.entries()) {
        try {
          if (task.kind === 'map') {
            const output = runMapTaskPacked(module, await inputs[i]!, task.partitions);
            transfers.push(ownBuffer(output.blocks));
            results.push({ ok: true, value: { kind: 'map', ...output } });
          } else {
            const pairs = runReduceTask(module, task.blocks);
            transfers.push(ownBuffer(pairs));
            results.push({ ok: true, value: { kind: 'reduce', pairs } });
          }
        } catch (error) {
          results.push(await fail(error));
        }
      }
      return Comlink.transfer({ results, ms: performance.now() - started }, transfers);
    },

    prefetch(url) {
      ahead.start(url);
    },

    forget(url) {
      ahead.forget(url);
    },
  };
}

// TextEncoder and packParts output own a plain ArrayBuffer of exactly their size (never
// a SharedArrayBuffer), which is what makes it safe to transfer.
const ownBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer as ArrayBuffer;
