/**
 * The browser's `TaskExecutor`: one Web Worker per slot, each running `job-worker.ts`
 * behind Comlink, one task at a time.
 *
 * Comlink calls have no timeout and hang forever on a dead or looping worker, so every
 * task races its own deadline (`assignment.timeoutMs`), its abort signal and the
 * worker's `error` event. Whichever comes first settles the task; if that is not the
 * worker's answer, the worker is terminated (the only way to stop job code that does not
 * return) and a fresh one takes its slot.
 *
 *   idle ──run──▶ busy ──answer──────────────────────────▶ idle
 *                  │ └─timeout / abort / crash─▶ terminate, new worker ─▶ idle
 *                  └─(resized away while busy)─▶ retiring ──answer─▶ terminated
 */
import * as Comlink from 'comlink';
import { taskFailure } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import type { Bytes, JobSourceReply, TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import type { JobWorkerApi, WorkerResult } from './job-worker-api.ts';
import { TaskRunError, toTaskError } from './task-error.ts';
import { clampSlots, executorDisposed, taskRevoked, taskTimedOut, type TaskExecutor } from './task-executor.ts';

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
}

/** setTimeout fires at once for delays beyond a signed 32-bit millisecond count. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
  /** Resized away while busy: terminated when its task settles. */
  retiring: boolean;
  /** Settles the running task with this error and replaces the worker; set while busy. */
  interrupt: ((error: TaskRunError) => void) | undefined;
}

interface Waiter {
  taskId: string;
  /** Hands the waiter a slot, or nothing when the pool is disposed. */
  take(slot: Slot | undefined): void;
}

export class WorkerPool implements TaskExecutor {
  readonly #createWorker: () => WorkerLike;
  #pool: Slot[] = [];
  /** Runs waiting for a slot: only when a caller asks for more tasks than there are slots. */
  #waiting: Waiter[] = [];
  #disposed = false;

  constructor(options: WorkerPoolOptions) {
    this.#createWorker = options.createWorker;
    this.resize(options.slots);
  }

  get slots(): number {
    return this.#pool.filter((slot) => !slot.retiring).length;
  }

  /** Workers alive right now, retiring ones included (for tests and diagnostics). */
  get workerCount(): number {
    return this.#pool.filter((slot) => slot.handle).length;
  }

  /**
   * Runs a task on the next free worker. The task's input buffers are transferred to
   * the worker, so they are detached afterwards. The deadline counts from when a
   * worker takes the task.
   */
  run(assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    if (this.#disposed) return Promise.reject(executorDisposed());
    if (signal.aborted) return Promise.reject(taskRevoked());
    // A free slot takes the task synchronously, so an abort, a crash or dispose() right
    // after run() returns already finds the task in place.
    const idle = this.#takeIdle();
    if (idle) return this.#execute(idle, assignment, job, signal);
    return new Promise<TaskOutput>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((entry) => entry !== waiter);
        reject(taskRevoked());
      };
      const waiter: Waiter = {
        taskId: assignment.taskId,
        take: (slot) => {
          signal.removeEventListener('abort', onAbort);
          if (slot) resolve(this.#execute(slot, assignment, job, signal));
          else reject(executorDisposed());
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  unstarted(): string[] {
    return this.#waiting.map((waiter) => waiter.taskId);
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
    // Shrinking: idle workers go now, busy ones after their task.
    const excess = active.length - target;
    if (excess > 0) {
      const victims = [...active.filter((slot) => !slot.busy), ...active.filter((slot) => slot.busy)].slice(0, excess);
      for (const slot of victims) {
        if (slot.busy) slot.retiring = true;
        else this.#remove(slot);
      }
    }
    this.#serveWaiting();
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const waiter of waiting) waiter.take(undefined);
    for (const slot of [...this.#pool]) {
      if (slot.interrupt) slot.interrupt(executorDisposed());
      else this.#remove(slot);
    }
  }

  #takeIdle(): Slot | undefined {
    const idle = this.#pool.find((slot) => !slot.busy && !slot.retiring);
    if (idle) idle.busy = true;
    return idle;
  }

  #execute(slot: Slot, assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    return new Promise<TaskOutput>((resolve, reject) => {
      const handle = (slot.handle ??= this.#spawn(slot));
      let timer: ReturnType<typeof setTimeout> | undefined;

      const settle = (killWorker: boolean, report: () => void) => {
        if (slot.interrupt !== interrupt) return; // settled already: a late answer or a second alarm
        slot.interrupt = undefined;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (killWorker) {
          this.#terminate(slot);
          // Start the replacement now so it boots while the slot waits for its next task.
          if (!slot.retiring && !this.#disposed) slot.handle = this.#spawn(slot);
        }
        this.#release(slot);
        report();
      };
      const interrupt = (error: TaskRunError) => settle(true, () => reject(error));
      const onAbort = () => interrupt(taskRevoked());

      slot.interrupt = interrupt;
      const { timeoutMs } = assignment;
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        timer = setTimeout(() => interrupt(taskTimedOut(timeoutMs)), Math.min(timeoutMs, MAX_TIMER_MS));
      }
      signal.addEventListener('abort', onAbort, { once: true });

      callWorker(handle, assignment, job).then(
        (result) => settle(false, () => (result.ok ? resolve(result.value) : reject(new TaskRunError(result.error)))),
        // The worker API never rejects, so a rejection is the channel failing (e.g. an
        // input that cannot be cloned): do not trust that worker again.
        (error: unknown) =>
          interrupt(new TaskRunError(taskFailure('WorkerCrashed', `the worker call failed: ${toTaskError(error).message}`))),
      );
    });
  }

  #spawn(slot: Slot): WorkerHandle {
    const worker = this.#createWorker();
    const handle: WorkerHandle = { worker, api: Comlink.wrap<JobWorkerApi>(worker), loaded: new Set() };
    worker.addEventListener('error', (event: unknown) => {
      if (slot.handle !== handle) return;
      const detail = (event as { message?: string } | undefined)?.message;
      const crashed = new TaskRunError(taskFailure('WorkerCrashed', `the worker stopped: ${detail || 'it failed to start or crashed'}`));
      if (slot.interrupt) slot.interrupt(crashed);
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
    else this.#serveWaiting();
  }

  #serveWaiting(): void {
    while (this.#waiting.length > 0) {
      const idle = this.#takeIdle();
      if (!idle) return;
      this.#waiting.shift()!.take(idle);
    }
  }
}

/** Loads the job module into the worker if needed, then runs the task there. */
async function callWorker(handle: WorkerHandle, assignment: TaskAssignment, job: JobSourceReply): Promise<WorkerResult<TaskOutput>> {
  if (!handle.loaded.has(job.digest)) {
    const loaded = await handle.api.load(job.digest, job.source);
    if (!loaded.ok) return loaded;
    handle.loaded.add(job.digest);
  }
  if (assignment.kind === 'map') {
    const { input } = assignment;
    const result = await handle.api.runMap(job.digest, Comlink.transfer(input, transferable([input.bytes])), assignment.partitions);
    return result.ok ? { ok: true, value: { kind: 'map', ...result.value } } : result;
  }
  const { blocks } = assignment;
  const result = await handle.api.runReduce(job.digest, Comlink.transfer(blocks, transferable([blocks])));
  return result.ok ? { ok: true, value: { kind: 'reduce', pairs: result.value } } : result;
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
