/**
 * A `TaskExecutor` that runs the task runtime on the calling thread: for Node (tests,
 * a headless volunteer). It cannot interrupt job code that never returns, so it only
 * checks its abort signal between steps and has no deadline of its own.
 */
import { LIMITS } from '../shared/limits.ts';
import type { TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import { TaskRunError, toTaskError } from '../runtime/task-error.ts';
import { runMapTaskPacked, runReduceTask, toJobModule, type JobModule } from '../runtime/task-runtime.ts';
import { mapInputBytes } from '../runtime/fetched-input.ts';
import type { JobModuleSource } from '../runtime/job-sources.ts';
import { importFromDataUrl } from './data-url-import.ts';
import { clampSlots, executorDisposed, nextTaskMs, taskRevoked, type TaskExecutor } from '../runtime/task-executor.ts';

/** Work, in ms, whose mean time a task is one measure of the running mean (a worker batch holds about 50). */
const MEASURE_WINDOW_MS = 20;

export interface InProcessExecutorOptions {
  /** Slots announced; tasks still run one at a time. Default 1. */
  slots?: number;
}

export class InProcessExecutor implements TaskExecutor {
  #slots: number;
  #disposed = false;
  #taskMs: number | undefined;
  /** Tasks run, and their time, since the running mean last took a measure. */
  #window = { tasks: 0, ms: 0 };
  /** Loaded job modules by source digest; a failed load is dropped so the next task retries. */
  readonly #modules = new Map<string, Promise<JobModule>>();

  constructor(options: InProcessExecutorOptions = {}) {
    this.#slots = clampSlots(options.slots ?? 1, LIMITS.slotsPerVolunteer);
  }

  get slots(): number {
    return this.#slots;
  }

  /** Running mean of a task's run time, in ms: what lets the client claim tiny tasks by the batch. */
  get taskMs(): number | undefined {
    return this.#taskMs;
  }

  async run(assignment: TaskAssignment, job: JobModuleSource, signal: AbortSignal): Promise<TaskOutput> {
    const check = () => {
      if (this.#disposed) throw executorDisposed();
      if (signal.aborted) throw taskRevoked();
    };
    check();
    let module: JobModule;
    try {
      module = await this.#load(job);
    } catch (error) {
      throw new TaskRunError(toTaskError(error));
    }
    check();
    let output: TaskOutput;
    let ms: number;
    try {
      // The input is in hand before the clock starts: timed across an await, a task counted
      // the work of every task that ran meanwhile (a batch of 25 tiny tasks measured each as
      // 25 of them), and the client asked for ever smaller batches.
      const input = assignment.kind === 'map' ? await mapInputBytes(assignment.input) : undefined;
      const started = performance.now();
      output =
        assignment.kind === 'map'
          ? { kind: 'map', ...runMapTaskPacked(module, input!, assignment.partitions) }
          : { kind: 'reduce', pairs: runReduceTask(module, assignment.blocks) };
      ms = performance.now() - started;
    } catch (error) {
      throw new TaskRunError(toTaskError(error));
    }
    this.#measured(ms);
    // Revoked while it ran: the answer is no longer wanted.
    check();
    return output;
  }

  /**
   * Folds a task's time into the mean a window of tasks at a time, as a worker pool folds
   * a batch's: one task of a few µs that a GC pause lands in moved the mean of single
   * tasks tenfold, the client's room for tasks shrank as much, and what it had just been
   * leased went back (19,000 of 30,000 tiny tasks in bench/coordinator-alone.ts).
   */
  #measured(ms: number): void {
    const window = this.#window;
    window.tasks++;
    window.ms += ms;
    if (this.#taskMs !== undefined && window.ms < MEASURE_WINDOW_MS) return;
    this.#taskMs = nextTaskMs(this.#taskMs, window.ms / window.tasks);
    this.#window = { tasks: 0, ms: 0 };
  }

  resize(slots: number): void {
    this.#slots = clampSlots(slots, LIMITS.slotsPerVolunteer);
  }

  dispose(): void {
    this.#disposed = true;
    this.#modules.clear();
  }

  #load(job: JobModuleSource): Promise<JobModule> {
    let loading = this.#modules.get(job.digest);
    if (!loading) {
      loading = importFromDataUrl(job.source).then(toJobModule);
      this.#modules.set(job.digest, loading);
      loading.catch(() => {
        if (this.#modules.get(job.digest) === loading) this.#modules.delete(job.digest);
      });
    }
    return loading;
  }
}
