/**
 * The browser's `TaskExecutor`: one Web Worker per slot, each running `job-worker.ts`
 * behind Comlink, one batch of tasks at a time.
 *
 * Tasks handed over in the same turn (a claim's worth) are shared out among the idle
 * workers, several to a call: a worker message costs more than a tiny task, so one call
 * per task capped a tab at about a thousand tasks a second. A task that waits its turn
 * can still be given back (`unstarted`).
 *
 * Comlink calls have no timeout and hang forever on a dead or looping worker, so every
 * batch races its deadline (the tasks' `timeoutMs`), its tasks' abort signals and the
 * worker's `error` event. Whichever comes first settles the batch; if that is not the
 * worker's answer, the worker is terminated (the only way to stop job code that does not
 * return) and a fresh one takes its slot. A batch of several tasks that times out or
 * crashes does not blame them all: its unfinished tasks run again one at a time, each
 * under its own deadline, and only the guilty one fails.
 *
 *   idle ──batch──▶ busy ──answer──────────────────────────▶ idle
 *                    │ └─timeout / crash / every task aborted─▶ terminate, new worker ─▶ idle
 *                    └─(resized away while busy)─▶ retiring ──answer─▶ terminated
 */
import * as Comlink from 'comlink';
import { taskFailure } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import type { Bytes, TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import type { BatchAnswer, JobWorkerApi, WorkerTask } from './job-worker-api.ts';
import type { JobModuleSource } from './job-sources.ts';
import { TaskRunError, toTaskError } from './task-error.ts';
import { clampSlots, executorDisposed, nextTaskMs, taskRevoked, taskTimedOut, type TaskExecutor } from './task-executor.ts';

/** What the pool needs of a Worker; a real `Worker` fits, and tests pass a stand-in. */
export type WorkerLike = Comlink.Endpoint & { terminate(): void };

export interface WorkerPoolOptions {
  /** Workers to start with. */
  slots: number;
  /**
   * Starts one worker running the job worker API: a module Web Worker in a tab
   * (web/volunteer/browser-workers.ts), a worker thread in Node (node-volunteer/).
   */
  createWorker: () => WorkerLike;
  /** Most tasks in one worker call. Default 1,024. */
  maxBatch?: number;
}

/** setTimeout fires at once for delays beyond a signed 32-bit millisecond count. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_MAX_BATCH = 1024;

interface WorkerHandle {
  worker: WorkerLike;
  api: Comlink.Remote<JobWorkerApi>;
  /** Digests of the job modules this worker has imported. */
  loaded: Set<string>;
}

interface Slot {
  /** The slot's worker; none after a crash until the slot is next used. */
  handle: WorkerHandle | undefined;
  busy: boolean;
  /** Resized away while busy: terminated when its batch settles. */
  retiring: boolean;
  /** Ends the running batch this way and replaces the worker; set while busy. */
  interrupt: ((why: Interruption) => void) | undefined;
}

/** Why a batch ended before its answer: the error its tasks get, and whether a batch of several may be retried task by task instead. */
interface Interruption {
  error: TaskRunError;
  splittable: boolean;
}

/** A task handed to `run`, until it settles. */
interface PendingTask {
  readonly assignment: TaskAssignment;
  readonly job: JobModuleSource;
  readonly signal: AbortSignal;
  /** Runs in a batch of its own: a batch it was in timed out or crashed. */
  solo: boolean;
  /** The busy worker told to fetch this task's input ahead, which it takes next if it can. */
  prefetchedBy: WorkerHandle | undefined;
  settle(outcome: { output: TaskOutput } | { error: TaskRunError }): void;
}

export class WorkerPool implements TaskExecutor {
  readonly #createWorker: () => WorkerLike;
  readonly #maxBatch: number;
  #pool: Slot[] = [];
  /** Tasks waiting for a worker, in the order they came. */
  #waiting: PendingTask[] = [];
  #dispatchQueued = false;
  #disposed = false;
  #taskMs: number | undefined;

  constructor(options: WorkerPoolOptions) {
    this.#createWorker = options.createWorker;
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.resize(options.slots);
  }

  get slots(): number {
    return this.#pool.filter((slot) => !slot.retiring).length;
  }

  /** Running mean of a task's time on a worker, in ms (a batch's time shared by its tasks); undefined before the first answer. */
  get taskMs(): number | undefined {
    return this.#taskMs;
  }

  /** Workers alive right now, retiring ones included (for tests and diagnostics). */
  get workerCount(): number {
    return this.#pool.filter((slot) => slot.handle).length;
  }

  /**
   * Runs a task on the next free worker, batched with the tasks handed over in the same
   * turn. The task's input buffers are transferred to the worker, so they are detached
   * afterwards. The deadline counts from when a worker takes the batch.
   */
  run(assignment: TaskAssignment, job: JobModuleSource, signal: AbortSignal): Promise<TaskOutput> {
    if (this.#disposed) return Promise.reject(executorDisposed());
    if (signal.aborted) return Promise.reject(taskRevoked());
    return new Promise<TaskOutput>((resolve, reject) => {
      const onAbort = () => {
        // Waiting: it simply leaves the queue. Running: its batch hears of it (#execute).
        const at = this.#waiting.indexOf(task);
        if (at >= 0) {
          this.#waiting.splice(at, 1);
          forgetPrefetch(task);
        }
        task.settle({ error: taskRevoked() });
      };
      let settled = false;
      const task: PendingTask = {
        assignment,
        job,
        signal,
        solo: false,
        prefetchedBy: undefined,
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if ('output' in outcome) resolve(outcome.output);
          else reject(outcome.error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(task);
      this.#queueDispatch();
    });
  }

  unstarted(): string[] {
    return this.#waiting.map((task) => task.assignment.taskId);
  }

  resize(slots: number): void {
    if (this.#disposed) return;
    const target = clampSlots(slots, LIMITS.slotsPerVolunteer);
    const active = this.#pool.filter((slot) => !slot.retiring);
    // Growing: un-retire busy slots before starting new workers.
    for (const slot of this.#pool) {
      if (active.length >= target) break;
      if (slot.retiring) {
        slot.retiring = false;
        active.push(slot);
      }
    }
    while (active.length < target) {
      const slot: Slot = { handle: undefined, busy: false, retiring: false, interrupt: undefined };
      slot.handle = this.#spawn(slot);
      this.#pool.push(slot);
      active.push(slot);
    }
    // Shrinking: idle workers go now, busy ones after their batch.
    const excess = active.length - target;
    if (excess > 0) {
      const victims = [...active.filter((slot) => !slot.busy), ...active.filter((slot) => slot.busy)].slice(0, excess);
      for (const slot of victims) {
        if (slot.busy) slot.retiring = true;
        else this.#remove(slot);
      }
    }
    this.#queueDispatch();
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const task of waiting) task.settle({ error: executorDisposed() });
    for (const slot of [...this.#pool]) {
      if (slot.interrupt) slot.interrupt({ error: executorDisposed(), splittable: false });
      else this.#remove(slot);
    }
  }

  /**
   * Dispatches at the end of this turn rather than at once, so that every task handed
   * over in the turn is there to be shared out.
   */
  #queueDispatch(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(() => {
      this.#dispatchQueued = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#waiting.length > 0 && !this.#disposed) {
      const idle = this.#pool.filter((slot) => !slot.busy && !slot.retiring);
      if (idle.length === 0) break;
      // An even share of what waits for each idle worker, so no worker idles while another holds a queue.
      const slot = idle[0]!;
      const batch = this.#takeBatch(slot, Math.ceil(this.#waiting.length / idle.length));
      slot.busy = true;
      this.#execute(slot, batch);
    }
    this.#prefetchAhead();
  }

  /**
   * Takes up to `size` waiting tasks of one job for `slot`, in order, starting with the
   * first one its worker fetched ahead, else the first no other worker did; a solo task
   * goes alone. A task taken from under another worker's prefetch is forgotten there.
   */
  #takeBatch(slot: Slot, size: number): PendingTask[] {
    const mine = this.#waiting.findIndex((task) => task.prefetchedBy !== undefined && task.prefetchedBy === slot.handle);
    const start = mine >= 0 ? mine : Math.max(0, this.#waiting.findIndex((task) => task.prefetchedBy === undefined));
    const [first] = this.#waiting.splice(start, 1) as [PendingTask];
    const batch = [first];
    if (!first.solo) {
      const limit = Math.min(size, this.#maxBatch);
      for (let i = 0; i < this.#waiting.length && batch.length < limit; ) {
        const task = this.#waiting[i]!;
        if (!task.solo && task.job.digest === first.job.digest && (task.prefetchedBy === undefined || task.prefetchedBy === slot.handle)) {
          batch.push(task);
          this.#waiting.splice(i, 1);
        } else i++;
      }
    }
    for (const task of batch) if (task.prefetchedBy !== slot.handle) forgetPrefetch(task);
    return batch;
  }

  /**
   * Every busy worker fetches ahead the input of one waiting task, which it takes when it
   * is free: its next split is then in hand when it finishes this one, instead of a fetch
   * away. Only fetched inputs (large splits) are worth it; a worker being replaced gets none.
   */
  #prefetchAhead(): void {
    const busy = this.#pool.filter((slot) => slot.busy && !slot.retiring && slot.handle !== undefined && slot.interrupt !== undefined);
    if (busy.length === 0) return;
    const fetching = new Set(this.#waiting.map((task) => task.prefetchedBy));
    for (const task of this.#waiting) {
      const { assignment } = task;
      if (task.prefetchedBy !== undefined || assignment.kind !== 'map' || !('url' in assignment.input)) continue;
      const slot = busy.find((candidate) => !fetching.has(candidate.handle));
      if (!slot) return;
      fetching.add(slot.handle);
      task.prefetchedBy = slot.handle;
      slot.handle!.api.prefetch(assignment.input.url).catch(() => {});
    }
  }

  #execute(slot: Slot, batch: PendingTask[]): void {
    const handle = (slot.handle ??= this.#spawn(slot));
    const live = new Set(batch);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const aborts = new Map<PendingTask, () => void>();

    const finish = (killWorker: boolean) => {
      slot.interrupt = undefined;
      clearTimeout(timer);
      for (const [task, onAbort] of aborts) task.signal.removeEventListener('abort', onAbort);
      if (killWorker) {
        this.#terminate(slot);
        // Start the replacement now so it boots while the slot waits for its next batch.
        if (!slot.retiring && !this.#disposed) slot.handle = this.#spawn(slot);
      }
      this.#release(slot);
    };
    const interrupt = (why: Interruption) => {
      if (slot.interrupt !== interrupt) return; // settled already: a late answer or a second alarm
      const unfinished = [...live];
      // This worker is about to go, with whatever it fetched ahead.
      for (const task of this.#waiting) if (task.prefetchedBy === handle) task.prefetchedBy = undefined;
      if (why.splittable && batch.length > 1) {
        // Which task hung or crashed the worker is unknown: each runs again alone.
        for (const task of unfinished) task.solo = true;
        this.#waiting.unshift(...unfinished);
      } else {
        for (const task of unfinished) task.settle({ error: why.error });
      }
      finish(true);
    };
    slot.interrupt = interrupt;

    const timeoutMs = Math.min(...batch.map((task) => task.assignment.timeoutMs));
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      timer = setTimeout(() => interrupt({ error: taskTimedOut(timeoutMs), splittable: true }), Math.min(timeoutMs, MAX_TIMER_MS));
    }
    for (const task of batch) {
      // The task's own listener (run) settles it as revoked; the batch only stops
      // waiting for it, and stops the worker once nothing in it is wanted.
      const onAbort = () => {
        live.delete(task);
        if (live.size === 0) interrupt({ error: taskRevoked(), splittable: false });
      };
      aborts.set(task, onAbort);
      task.signal.addEventListener('abort', onAbort, { once: true });
    }

    callWorker(handle, batch[0]!.job, batch.map((task) => task.assignment)).then(
      ({ results, ms: batchMs }) => {
        if (slot.interrupt !== interrupt) return;
        // The worker's own time: the messages around a batch are what batching saves, so
        // counting them would shrink batches just when messages are slow.
        const ms = batchMs / batch.length;
        if (batchMs > 0) this.#taskMs = nextTaskMs(this.#taskMs, ms);
        batch.forEach((task, i) => {
          if (!live.has(task)) return;
          const result = results[i];
          if (result?.ok) task.settle({ output: result.value });
          else task.settle({ error: new TaskRunError(result ? result.error : taskFailure('WorkerCrashed', 'the worker answered fewer tasks than it was given')) });
        });
        finish(false);
      },
      // The worker API never rejects, so a rejection is the channel failing (e.g. an
      // input that cannot be cloned): do not trust that worker again.
      (error: unknown) =>
        interrupt({ error: new TaskRunError(taskFailure('WorkerCrashed', `the worker call failed: ${toTaskError(error).message}`)), splittable: true }),
    );
  }

  #spawn(slot: Slot): WorkerHandle {
    const worker = this.#createWorker();
    const handle: WorkerHandle = { worker, api: Comlink.wrap<JobWorkerApi>(worker), loaded: new Set() };
    worker.addEventListener('error', (event: unknown) => {
      if (slot.handle !== handle) return;
      const detail = (event as { message?: string } | undefined)?.message;
      const crashed = new TaskRunError(taskFailure('WorkerCrashed', `the worker stopped: ${detail || 'it failed to start or crashed'}`));
      if (slot.interrupt) slot.interrupt({ error: crashed, splittable: true });
      // Idle: replaced lazily on its next task, so a worker that can never start (a
      // CSP that forbids it, say) fails one task at a time instead of respawning in a loop.
      else this.#terminate(slot);
    });
    return handle;
  }

  #terminate(slot: Slot): void {
    slot.handle?.worker.terminate();
    slot.handle = undefined;
  }

  #remove(slot: Slot): void {
    this.#terminate(slot);
    this.#pool = this.#pool.filter((entry) => entry !== slot);
  }

  #release(slot: Slot): void {
    slot.busy = false;
    if (slot.retiring || this.#disposed) this.#remove(slot);
    this.#dispatch();
  }
}

/** Tells the worker that fetched a task's input ahead to drop it: the task went elsewhere, or away. */
function forgetPrefetch(task: PendingTask): void {
  const { assignment, prefetchedBy } = task;
  task.prefetchedBy = undefined;
  if (prefetchedBy && assignment.kind === 'map' && 'url' in assignment.input) prefetchedBy.api.forget(assignment.input.url).catch(() => {});
}

/** Loads the job module into the worker if needed, then runs the tasks there, one answer each. */
async function callWorker(handle: WorkerHandle, job: JobModuleSource, assignments: TaskAssignment[]): Promise<BatchAnswer> {
  if (!handle.loaded.has(job.digest)) {
    const loaded = await handle.api.load(job.digest, job.source);
    if (!loaded.ok) return { results: assignments.map(() => loaded), ms: 0 };
    handle.loaded.add(job.digest);
  }
  const inputs: Bytes[] = [];
  const tasks = assignments.map((assignment): WorkerTask => {
    if (assignment.kind === 'map') {
      if (!('url' in assignment.input)) inputs.push(assignment.input.bytes);
      return { kind: 'map', input: assignment.input, partitions: assignment.partitions };
    }
    inputs.push(assignment.blocks);
    return { kind: 'reduce', blocks: assignment.blocks };
  });
  return handle.api.runBatch(job.digest, Comlink.transfer(tasks, transferable(inputs)));
}

/**
 * The buffers that can be moved to a worker instead of copied: whole ArrayBuffers, and
 * the buffers of views that span all of theirs. A view into a larger shared buffer (a
 * pooled Node Buffer) is copied, since moving it would detach unrelated data.
 */
function transferable(items: readonly Bytes[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const item of items) {
    if (item instanceof ArrayBuffer) buffers.add(item);
    else if (item.buffer instanceof ArrayBuffer && item.byteOffset === 0 && item.byteLength === item.buffer.byteLength) {
      buffers.add(item.buffer);
    }
  }
  return [...buffers];
}
