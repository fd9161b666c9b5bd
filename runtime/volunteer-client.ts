/**
 * The volunteer's side of the wire: connects to the coordinator, pulls tasks while it
 * has free slots, runs them on a `TaskExecutor` and reports the results.
 *
 *   connect ─▶ volunteer:hello ─▶ welcomed ─▶ task:request (max = free slots) ─┐
 *      ▲                                          ▲                            │ tasks
 *      │ (Socket.IO reconnects)                   │ slot freed, work:available,│
 *      │                                          │ or the slow safety poll    ▼
 *   disconnect: abort and drop every run          └── task:complete / task:fail ◀─ run
 *
 * What is here is the work loop (ask, run, report, ask again); the rest lives in parts
 * that each own one thing: coordinator-connection.ts the socket, its lifecycle (the pure
 * volunteer-lifecycle.ts) and heartbeat; work-demand.ts (pure) how many tasks to ask for;
 * running-tasks.ts the tasks held; coordinator-call.ts every acknowledged message.
 *
 * Asking for work is event-driven: after an empty answer the client waits for
 * `work:available`, a freed slot, or the safety poll (`idlePollMs`), never a busy loop.
 * Leases of running tasks are renewed on a heartbeat about every leaseMs/3; in a tab the
 * beat comes from a worker, since the page's own timers are throttled in the background
 * (heartbeat.ts). A task that is revoked, loses its lease or belongs to a dropped
 * connection is aborted and never reported: the coordinator has already given it to
 * someone else.
 */
import { io as defaultIo, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { taskFailure, type TaskError } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import type { JobSourceReply, LeaseRef, TaskAssignment, TaskBatch, TaskOutput } from '../shared/protocol.ts';
import { packReports, unpackTaskBatch, type TaskEnd } from '../shared/task-batch.ts';
import { describeFailure } from './coordinator-call.ts';
import { CoordinatorConnection } from './coordinator-connection.ts';
import { startTimerHeartbeat, type StartHeartbeat } from './heartbeat.ts';
import { JobSources, type JobModuleSource } from './job-sources.ts';
import { ReportQueue, type ReportOutcome } from './report-queue.ts';
import { RunningTasks, type RunningTask } from './running-tasks.ts';
import { toTaskError, truncate } from './task-error.ts';
import type { TaskExecutor } from './task-executor.ts';
import { connectionView } from './volunteer-lifecycle.ts';
import { initialVolunteerState, type VolunteerState } from './volunteer-state.ts';
import { askAgainAfterAnswer, initialWorkDemand, mayHoldAnother, restMs, tasksToAskFor, transitionDemand } from './work-demand.ts';
import type { DemandEvent, WorkDemand } from './work-demand.ts';

export type { VolunteerState, ConnectionStatus } from './volunteer-state.ts';
export type { VolunteerSocket } from './coordinator-call.ts';

export interface VolunteerClientOptions {
  /** The coordinator's origin, e.g. `window.location.origin` or `http://localhost:3000`. */
  url: string;
  /** Runs the tasks; its `slots` is what this volunteer announces. Owned by the caller (not disposed by `stop`). */
  executor: TaskExecutor;
  /** Describes this volunteer to the coordinator, e.g. the user agent (cut to 500 characters). */
  agent: string;
  /** socket.io-client's `io`, replaceable for tests. Default: the real one. */
  io?: typeof defaultIo;
  /** Called with the new state after every change. */
  onChange?: (state: VolunteerState) => void;
  /** How long to wait for any ack from the coordinator, in ms. Default 15,000. */
  ackTimeoutMs?: number;
  /** Safety re-poll for work while slots are free and no `work:available` came, in ms. Default 5,000. */
  idlePollMs?: number;
  /** Wait before retrying a refused or unanswered hello, or reconnecting after the server closed the socket, in ms. Default 2,000. */
  helloRetryMs?: number;
  /**
   * Where the lease-renewal beat comes from. Default: `setInterval` on this thread, right
   * for Node; a browser tab should pass `workerHeartbeat()`, whose beat survives
   * background-tab timer throttling.
   */
  heartbeat?: StartHeartbeat;
  /** Extra Socket.IO options (transports, reconnection delays). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

const DEFAULTS = { ackTimeoutMs: 15_000, idlePollMs: 5_000, helloRetryMs: 2_000 } as const;
const AGENT_CHARS = 500;
/** Leases named in one renewal or return, at most: what the coordinator's schema accepts. */
const LEASES_PER_MESSAGE = LIMITS.tasksPerMessage;

/** What the client counts itself; the rest of its state is derived when published. */
type Counts = Pick<VolunteerState, 'tasksDone' | 'tasksFailed' | 'lastError'>;

export class VolunteerClient {
  readonly #connection: CoordinatorConnection;
  readonly #executor: TaskExecutor;
  readonly #idlePollMs: number;
  /** The coordinator's origin, against which fetched inputs' paths are resolved. */
  readonly #origin: string;
  readonly #listeners = new Set<(state: VolunteerState) => void>();
  readonly #jobs = new JobSources((jobId) => this.#connection.call('job:source', { jobId }));
  readonly #running = new RunningTasks();
  readonly #reports = new ReportQueue((session, ends) => this.#sendReport(session, ends));
  #demand: WorkDemand = initialWorkDemand();
  #state: VolunteerState;
  #counts: Counts;
  /** Something changed since `#state` was built; listeners hear of it at the end of the turn. */
  #stale = false;
  #notifyQueued = false;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  /** Time tasks ran on the executor, in ms: published as `workerMs` with the next state. */
  #workerMs = 0;

  constructor(options: VolunteerClientOptions) {
    this.#executor = options.executor;
    this.#idlePollMs = options.idlePollMs ?? DEFAULTS.idlePollMs;
    this.#origin = options.url;
    this.#state = initialVolunteerState(this.#executor.slots);
    this.#counts = { tasksDone: this.#state.tasksDone, tasksFailed: this.#state.tasksFailed, lastError: this.#state.lastError };
    if (options.onChange) this.#listeners.add(options.onChange);
    this.#connection = new CoordinatorConnection(
      {
        url: options.url,
        agent: truncate(options.agent, AGENT_CHARS),
        slots: () => this.#executor.slots,
        io: options.io ?? defaultIo,
        ackTimeoutMs: options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs,
        retryMs: options.helloRetryMs ?? DEFAULTS.helloRetryMs,
        heartbeat: options.heartbeat ?? startTimerHeartbeat,
        socketOptions: options.socketOptions,
      },
      {
        changed: () => this.#publish({}),
        failed: (message) => this.#setError(message),
        welcomed: () => {
          this.#publish({ lastError: undefined });
          this.#pump();
        },
        ended: () => {
          this.#changeDemand({ type: 'connection-lost' });
          for (const taskId of this.#running.taskIds()) this.#drop(taskId);
        },
        beat: () => void this.#renew(),
        workAvailable: () => {
          this.#changeDemand({ type: 'work-hint' });
          this.#pump();
        },
        revoked: (taskIds) => {
          for (const taskId of taskIds) this.#drop(taskId);
          this.#pump();
        },
        // Another volunteer is idle at a phase's end: what waits here for a slot is better run there now.
        yieldRequested: (max) => this.#returnUnstarted(max),
      },
    );
  }

  /** The current state; a new object after every change (fit for React's useSyncExternalStore). */
  get state(): VolunteerState {
    if (this.#stale) this.#rebuild();
    return this.#state;
  }

  /** Calls `listener` after every state change; returns the function that unsubscribes it. */
  subscribe(listener: (state: VolunteerState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connects and starts volunteering. Calling it again does nothing. */
  start(): void {
    if (!this.#connection.start()) return;
    this.#pollTimer ??= setInterval(() => this.#pump(), this.#idlePollMs);
  }

  /** Changes how many tasks run at once, live: resizes the executor and tells the coordinator. */
  setSlots(slots: number): void {
    const before = this.#executor.slots;
    this.#executor.resize(slots);
    this.#publish({});
    this.#connection.announceSlots(this.#executor.slots);
    // Fewer workers: what waited for the ones gone goes back for others now (at 0 it
    // would wait for ever); the tasks still wanted are asked for again.
    if (this.#executor.slots < before) this.#returnUnstarted();
    this.#pump();
  }

  /**
   * Stops taking work for `reason` (several may hold at once: paused by hand, tab
   * hidden, on battery). Tasks held but not started go back to the coordinator at once,
   * for other volunteers; tasks running finish and are reported.
   */
  pause(reason: string): void {
    if (!this.#changeDemand({ type: 'pause', reason })) return;
    this.#publish({});
    this.#returnUnstarted();
  }

  /** Lifts one reason to pause; work resumes once none is left. */
  resume(reason: string): void {
    if (!this.#changeDemand({ type: 'resume', reason })) return;
    this.#publish({});
    this.#pump();
  }

  /**
   * Gives `share` (0 < share <= 1) of each worker's time: after a task that ran t ms, its
   * slot rests t·(1 − share)/share ms before taking another. Below 1 the tab holds no task
   * it is not running, so what it held unstarted goes back at once.
   */
  setShare(share: number): void {
    const before = this.#demand.share;
    if (!this.#changeDemand({ type: 'set-share', share })) return;
    this.#publish({});
    if (this.#demand.share < before) this.#returnUnstarted();
    else this.#pump();
  }

  /** Disconnects for good: running tasks are aborted and not reported. The executor is left to its owner. */
  stop(): void {
    clearInterval(this.#pollTimer);
    if (this.#connection.stop()) this.#listeners.clear();
  }

  /** Applies a demand event; false when it changed nothing. */
  #changeDemand(event: DemandEvent): boolean {
    const next = transitionDemand(this.#demand, event);
    if (next === this.#demand) return false;
    this.#demand = next;
    return true;
  }

  /**
   * Hands back, in one message, the tasks held but not started (at most `max`, the ones
   * that came last and so would start last); they are dropped here.
   */
  #returnUnstarted(max = Number.POSITIVE_INFINITY): void {
    const session = this.#connection.session;
    if (!this.#connection.ready || session === undefined) return;
    const unstarted = this.#running.unstarted(session, new Set(this.#executor.unstarted?.() ?? []));
    const tasks = unstarted.slice(Math.max(0, unstarted.length - max));
    if (tasks.length === 0) return;
    for (const task of tasks) this.#drop(task.assignment.taskId);
    this.#giveBack(tasks.map((task) => task.assignment));
  }

  /** Tells the coordinator it will not run these tasks, so they go to someone else now. */
  #giveBack(assignments: readonly TaskAssignment[]): void {
    const leases: LeaseRef[] = assignments.map(({ taskId, leaseToken }) => ({ taskId, leaseToken }));
    // Not awaited: unanswered, the leases lapse at their deadline and the tasks run elsewhere then.
    void this.#connection.call('task:return', { leases: leases.slice(0, LEASES_PER_MESSAGE) });
  }

  /** Claims room for tasks to ask for: answers how many (0 when there is none, or it is not welcomed). */
  #claimRequest(): number {
    if (!this.#connection.ready) return 0;
    const tasks = tasksToAskFor(this.#demand, this.#executor.slots, this.#running.size, this.#executor.taskMs);
    this.#changeDemand({ type: 'asked', tasks });
    return tasks;
  }

  /** The answer to a claim came (or never will, on this connection). */
  #settleClaim(tasks: number, session: number): void {
    if (this.#connection.isCurrent(session)) this.#changeDemand({ type: 'answered', tasks });
  }

  /** Asks for as many tasks as there is room for, beyond those already asked for. */
  #pump(): void {
    const max = this.#claimRequest();
    if (max > 0) void this.#request(max);
  }

  async #request(max: number): Promise<void> {
    const session = this.#connection.session!;
    const workHintsBefore = this.#demand.workHints;
    const reply = await this.#connection.call('tasks:claim', { max });
    this.#settleClaim(max, session);
    if (!this.#connection.isCurrent(session)) return;
    if (!reply.ok) {
      this.#setError(describeFailure(reply.failure, { refused: 'the coordinator refused a request for work', unanswered: 'a request for work went unanswered' }));
      // It forgot us (a restart): introduce ourselves again before asking.
      if (reply.failure.kind === 'refused' && reply.failure.error.code === 'NOT_READY') this.#connection.forgotten(session);
      return;
    }
    this.#received(this.#tasksIn(reply.value), session, workHintsBefore);
  }

  /** Starts the tasks a request (or a result's receipt) brought, and asks again if useful. */
  #received(tasks: readonly TaskAssignment[], session: number, workHintsBefore: number): void {
    const surplus: TaskAssignment[] = [];
    for (const assignment of tasks) {
      if (mayHoldAnother(this.#demand, this.#executor.slots, this.#running.size, this.#executor.taskMs)) this.#start(assignment, session);
      else surplus.push(assignment);
    }
    if (surplus.length > 0) this.#giveBack(surplus);
    if (askAgainAfterAnswer(this.#demand, workHintsBefore, tasks.length)) this.#pump();
  }

  #start(assignment: TaskAssignment, session: number): void {
    const task = this.#running.add(assignment, session);
    if (!task) return;
    this.#publish({});
    void this.#run(task).finally(() => this.#release(task, true));
  }

  /** Frees the task's slot (once) and asks for more work to fill it. */
  #release(task: RunningTask, askForMore: boolean): void {
    if (!this.#running.release(task)) return;
    this.#publish({});
    if (askForMore) this.#pump();
  }

  async #run(task: RunningTask): Promise<void> {
    const { assignment, controller } = task;
    const fetching = this.#jobs.get(assignment.jobId);
    // Code already here for another job (a pipeline's next step, a resubmission): the task
    // starts now, and the job's name reaches the page when its own fetch answers.
    let job: JobModuleSource | undefined = this.#jobs.module(assignment.sourceDigest);
    if (job) {
      fetching.then((reply) => this.#showJob(task, reply), () => {});
    } else {
      try {
        job = this.#showJob(task, await fetching);
      } catch (error) {
        if (!this.#wanted(task)) return;
        await this.#reportFailure(task, taskFailure('JobSourceUnavailable', `could not fetch the source of job ${assignment.jobId}: ${toTaskError(error).message}`));
        return;
      }
    }

    let output: TaskOutput;
    task.handedOver = true;
    const started = performance.now();
    try {
      output = await this.#executor.run(assignment, job, controller.signal);
    } catch (error) {
      if (!this.#wanted(task)) return;
      this.#ran(performance.now() - started);
      this.#release(task, true);
      await this.#reportFailure(task, toTaskError(error));
      return;
    }
    if (!this.#wanted(task)) return;
    this.#ran(performance.now() - started);
    // The slot is free now. The report carries the request for more work (`next`), so a
    // batch costs one round trip, not two.
    this.#release(task, false);
    const session = task.session;
    const reply = await this.#reports.add(session, { taskId: assignment.taskId, leaseToken: assignment.leaseToken, output });
    if (!this.#connection.isCurrent(session) || !this.#wanted(task)) return;
    if (reply.ok) this.#publish({ tasksDone: this.#counts.tasksDone + 1 });
    else {
      const what = `the result of task ${assignment.taskId}`;
      this.#setError(describeFailure(reply.failure, { refused: `${what} was refused`, unanswered: `${what} went unacknowledged` }));
    }
  }

  /**
   * Sends the ends of tasks leased on `session` as one report, asking in the same round
   * trip for the work there is room for; answers each end's outcome.
   */
  async #sendReport(session: number, ends: TaskEnd[]): Promise<ReportOutcome[]> {
    if (!this.#connection.isCurrent(session)) return ends.map(() => ({ ok: false, failure: { kind: 'unanswered', reason: 'the connection it was leased on is gone' } }));
    const workHintsBefore = this.#demand.workHints;
    const next = this.#claimRequest();
    const reply = await this.#connection.call('tasks:report', { ...packReports(ends), next });
    this.#settleClaim(next, session);
    if (!reply.ok) {
      // Refused or unanswered, the request for work did not happen: ask on its own.
      if (next > 0 && this.#connection.isCurrent(session)) this.#pump();
      return ends.map(() => ({ ok: false, failure: reply.failure }));
    }
    if (next > 0 && this.#connection.isCurrent(session)) this.#received(this.#tasksIn(reply.value), session, workHintsBefore);
    return ends.map((_, i): ReportOutcome => {
      const outcome = reply.value.outcomes?.[i];
      return outcome ? { ok: false, failure: { kind: 'refused', error: outcome } } : { ok: true };
    });
  }

  /** The tasks a batch brought; none, with the reason shown, when it cannot be read. */
  #tasksIn(batch: TaskBatch | undefined): TaskAssignment[] {
    if (!batch || !Array.isArray(batch.tasks)) return [];
    try {
      // A fetched input's path, made absolute: a worker thread has no page to resolve it against.
      return unpackTaskBatch(batch).map((task) =>
        task.kind === 'map' && 'url' in task.input ? { ...task, input: { ...task.input, url: new URL(task.input.url, this.#origin).href } } : task,
      );
    } catch (error) {
      this.#setError(`the coordinator sent tasks that cannot be read: ${toTaskError(error).message}`);
      return [];
    }
  }

  /** The job a task belongs to, for the page (its name, its code to read); answers it. */
  #showJob(task: RunningTask, job: JobSourceReply): JobSourceReply {
    task.job = job;
    this.#publish({});
    return job;
  }

  /** A task ran on a worker for `ms` (its wait for a slot included, rarely more than nothing). */
  #ran(ms: number): void {
    // No state update of its own: the release that follows every run publishes it. A task
    // waits its turn in the executor with its batch: the executor's own measure leaves that out.
    this.#workerMs += Math.min(ms, this.#executor.taskMs ?? ms);
    // Under a share below 1, the slot rests before asking for another task.
    const restingMs = restMs(this.#demand, ms);
    if (restingMs === undefined) return;
    this.#changeDemand({ type: 'rest-started' });
    setTimeout(() => {
      this.#changeDemand({ type: 'rest-ended' });
      this.#pump();
    }, restingMs);
  }

  async #reportFailure(task: RunningTask, error: TaskError): Promise<void> {
    const { taskId, leaseToken } = task.assignment;
    const jobName = task.job?.name;
    this.#publish({
      tasksFailed: this.#counts.tasksFailed + 1,
      lastError: truncate(`task ${taskId}${jobName ? ` of ${jobName}` : ''} failed: ${error.name}: ${error.message}`, 500),
    });
    const reply = await this.#reports.add(task.session, { taskId, leaseToken, error });
    if (!reply.ok && this.#wanted(task)) {
      const what = `the failure of task ${taskId}`;
      this.#setError(describeFailure(reply.failure, { refused: `${what} was not recorded`, unanswered: `${what} went unacknowledged` }));
    }
  }

  /** Still ours to report: not revoked, not lost, and leased on the live connection. */
  #wanted(task: RunningTask): boolean {
    return !task.controller.signal.aborted && this.#connection.isCurrent(task.session);
  }

  /** Aborts a run and forgets it; whatever it produces is never reported. */
  #drop(taskId: string): void {
    if (this.#running.drop(taskId)) this.#publish({});
  }

  async #renew(): Promise<void> {
    const session = this.#connection.session;
    if (session === undefined) return;
    const leases = this.#running.leases(session);
    if (leases.length === 0 || !this.#connection.beginRenewal()) return;
    const reply = await this.#connection.call('task:renew', { leases: leases.slice(0, LEASES_PER_MESSAGE) });
    this.#connection.endRenewal(session);
    if (!this.#connection.isCurrent(session)) return;
    if (!reply.ok) {
      this.#setError(describeFailure(reply.failure, { refused: 'lease renewal was refused', unanswered: 'lease renewal went unanswered' }));
      return;
    }
    // A lost lease means someone else may already be running the task: stop ours.
    const lost = Array.isArray(reply.value?.lost) ? reply.value.lost : [];
    for (const taskId of lost) this.#drop(taskId);
    if (lost.length > 0) this.#pump();
  }

  #setError(message: string): void {
    this.#publish({ lastError: truncate(message, 500) });
  }

  /**
   * Records the patch and marks the state stale; listeners hear once, at the end of the
   * turn. A batch of a few hundred tasks changes it a few hundred times: building it, and
   * re-rendering a page, once per change cost more than the tasks.
   */
  #publish(patch: Partial<Counts>): void {
    Object.assign(this.#counts, patch);
    this.#stale = true;
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      if (!this.#stale) return;
      const state = this.state;
      for (const listener of this.#listeners) listener(state);
    });
  }

  /** Builds the state: the counts plus what is derived from the lifecycle, the demand and the running tasks. */
  #rebuild(): void {
    this.#stale = false;
    const session = this.#connection.session;
    const waiting = session === undefined ? 0 : this.#running.unstarted(session, new Set(this.#executor.unstarted?.() ?? [])).length;
    this.#state = {
      ...this.#state,
      ...this.#counts,
      ...connectionView(this.#connection.lifecycle),
      ...this.#running.jobs(),
      slots: this.#executor.slots,
      running: this.#running.size - waiting,
      waiting,
      pausedBecause: [...this.#demand.pausedBecause],
      share: this.#demand.share,
      workerMs: this.#workerMs,
    };
  }
}
