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
 * Asking for work is event-driven: after an empty answer the client waits for
 * `work:available`, a freed slot, or the safety poll (`idlePollMs`), never a busy loop.
 * Leases of running tasks are renewed on a heartbeat about every leaseMs/3; in a tab the
 * beat comes from a worker, since the page's own timers are throttled in the background
 * (heartbeat.ts). A task that is revoked, loses its lease or belongs to a dropped
 * connection is aborted and never reported: the coordinator has already given it to
 * someone else.
 */
import { io as defaultIo, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { TaskError } from '../shared/errors.ts';
import { LIMITS } from '../shared/limits.ts';
import {
  VOLUNTEER_NAMESPACE,
  type Ack,
  type CoordinatorToVolunteerEvents,
  type JobSourceReply,
  type LeaseRef,
  type ResultReceipt,
  type TaskAssignment,
  type TaskOutput,
  type VolunteerToCoordinatorEvents,
  type VolunteerWelcome,
} from '../shared/protocol.ts';
import { toTaskError, truncate } from './task-error.ts';
import { startTimerHeartbeat, type Heartbeat, type StartHeartbeat } from './heartbeat.ts';
import type { TaskExecutor } from './task-executor.ts';
import { initialVolunteerState, type VolunteerState } from './volunteer-state.ts';

export type { VolunteerState, ConnectionStatus } from './volunteer-state.ts';

export type VolunteerSocket = Socket<CoordinatorToVolunteerEvents, VolunteerToCoordinatorEvents>;

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
/** Bounds on the renewal interval (leaseMs / 3), in ms, whatever lease the coordinator hands out. */
const RENEW_MIN_MS = 100;
const RENEW_MAX_MS = 60_000;
/** Job sources kept; older jobs are fetched again if they ever come back. */
const JOB_CACHE_SIZE = 32;
const AGENT_CHARS = 500;

interface RunningTask {
  assignment: TaskAssignment;
  controller: AbortController;
  /** The connection it was leased on; a result from an older one is never reported. */
  session: number;
  jobName: string | undefined;
  /** The job's source and identity once fetched: what the page shows and lets people read. */
  job: JobSourceReply | undefined;
  /** Handed to the executor (it may still wait there for a slot: see `unstarted`). */
  handedOver: boolean;
}

export class VolunteerClient {
  readonly #socket: VolunteerSocket;
  readonly #executor: TaskExecutor;
  readonly #agent: string;
  readonly #ackTimeoutMs: number;
  readonly #idlePollMs: number;
  readonly #helloRetryMs: number;
  readonly #startHeartbeat: StartHeartbeat;
  readonly #listeners = new Set<(state: VolunteerState) => void>();
  #state: VolunteerState;

  /** Bumped on every connect and disconnect: tags work with the connection it belongs to. */
  #session = 0;
  /** Welcomed on the current connection: only then may it ask for work. */
  #ready = false;
  #stopped = false;
  #leaseMs = 0;
  readonly #running = new Map<string, RunningTask>();
  /**
   * Tasks asked for on the current connection and not answered yet (by `task:request`
   * or with a result's `next`): several requests may be out, never for more tasks than
   * there is room for.
   */
  #asked = 0;
  /** Counts `work:available` hints, so a hint that arrives during a request is not lost. */
  #workHints = 0;
  /** A renewal is awaiting its ack: beats meanwhile are skipped (a tab unfrozen after a pause gets a burst of them). */
  #renewing = false;
  /** Job sources by job id; a pending fetch is shared by every task that needs it. */
  readonly #jobs = new Map<string, Promise<JobSourceReply>>();
  /** Drives renewal while welcomed; one per connection. */
  #heartbeat: Heartbeat | undefined;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why work is paused; asks for none while any reason holds. */
  readonly #pausedBecause = new Set<string>();
  /** Share of the workers' time given (the duty cycle); 1 gives all of it. */
  #share = 1;
  /** Slots resting after a task, under a share below 1. */
  #resting = 0;
  /** Time tasks ran on the executor, in ms: published as `workerMs` with the next state. */
  #workerMs = 0;

  constructor(options: VolunteerClientOptions) {
    this.#executor = options.executor;
    this.#agent = truncate(options.agent, AGENT_CHARS);
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs;
    this.#idlePollMs = options.idlePollMs ?? DEFAULTS.idlePollMs;
    this.#helloRetryMs = options.helloRetryMs ?? DEFAULTS.helloRetryMs;
    this.#startHeartbeat = options.heartbeat ?? startTimerHeartbeat;
    this.#state = initialVolunteerState(this.#executor.slots);
    if (options.onChange) this.#listeners.add(options.onChange);
    const io = options.io ?? defaultIo;
    this.#socket = io(options.url + VOLUNTEER_NAMESPACE, {
      autoConnect: false,
      // Each client gets its own connection (socket.io would otherwise share one per
      // origin), so several volunteers in one process stay independent.
      forceNew: true,
      ...options.socketOptions,
    });
    this.#socket.on('connect', () => this.#onConnect());
    this.#socket.on('disconnect', (reason) => this.#onDisconnect(reason));
    this.#socket.on('connect_error', (error) => this.#onConnectError(error));
    this.#socket.on('work:available', () => {
      this.#workHints++;
      this.#pump();
    });
    this.#socket.on('task:revoke', ({ taskIds }) => {
      if (!Array.isArray(taskIds)) return;
      for (const taskId of taskIds) this.#drop(taskId);
      this.#pump();
    });
  }

  /** The current state; a new object after every change (fit for React's useSyncExternalStore). */
  get state(): VolunteerState {
    return this.#state;
  }

  /** Calls `listener` after every state change; returns the function that unsubscribes it. */
  subscribe(listener: (state: VolunteerState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connects and starts volunteering. Calling it again does nothing. */
  start(): void {
    if (this.#stopped || this.#socket.active) return;
    this.#socket.connect();
    this.#pollTimer ??= setInterval(() => this.#pump(), this.#idlePollMs);
  }

  /** Changes how many tasks run at once, live: resizes the executor and tells the coordinator. */
  setSlots(slots: number): void {
    this.#executor.resize(slots);
    this.#update({ slots: this.#executor.slots });
    if (this.#ready) this.#socket.emit('volunteer:slots', { slots: this.#executor.slots });
    this.#pump();
  }

  /**
   * Stops taking work for `reason` (several may hold at once: paused by hand, tab
   * hidden, on battery). Tasks held but not started go back to the coordinator at once,
   * for other volunteers; tasks running finish and are reported.
   */
  pause(reason: string): void {
    if (this.#pausedBecause.has(reason)) return;
    this.#pausedBecause.add(reason);
    this.#update({ pausedBecause: [...this.#pausedBecause] });
    this.#returnUnstarted();
  }

  /** Lifts one reason to pause; work resumes once none is left. */
  resume(reason: string): void {
    if (!this.#pausedBecause.delete(reason)) return;
    this.#update({ pausedBecause: [...this.#pausedBecause] });
    this.#pump();
  }

  /**
   * Gives `share` (0 < share <= 1) of each worker's time: after a task that ran t ms, its
   * slot rests t·(1 − share)/share ms before taking another. Below 1 the tab holds no task
   * it is not running, so what it held unstarted goes back at once.
   */
  setShare(share: number): void {
    const next = Number.isFinite(share) ? Math.min(1, Math.max(0.05, share)) : 1;
    if (next === this.#share) return;
    const lowered = next < this.#share;
    this.#share = next;
    this.#update({ share: next });
    if (lowered) this.#returnUnstarted();
    else this.#pump();
  }

  /** Disconnects for good: running tasks are aborted and not reported. The executor is left to its owner. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#endSession();
    clearInterval(this.#pollTimer);
    this.#socket.disconnect();
    this.#socket.removeAllListeners();
    this.#update({ connection: 'disconnected', connected: false, volunteerId: undefined });
    this.#listeners.clear();
  }

  #onConnect(): void {
    this.#session++;
    this.#ready = false;
    this.#update({ connection: 'connecting', connected: false });
    void this.#hello();
  }

  #onDisconnect(reason: string): void {
    this.#endSession();
    this.#update({ connection: 'disconnected', connected: false, volunteerId: undefined });
    // Socket.IO reconnects by itself except when the server closed the socket on purpose.
    // Come back anyway, after a pause: an open volunteer tab should keep volunteering,
    // and whatever made the coordinator drop us (a restart, a refused message) may pass.
    if (reason === 'io server disconnect') this.#reconnectLater();
  }

  #onConnectError(error: Error): void {
    this.#setError(`cannot reach the coordinator: ${error.message}`);
    // `active` is false when the server refused the connection (not a network failure):
    // Socket.IO then gives up, so retry here.
    if (!this.#socket.active) this.#reconnectLater();
  }

  #reconnectLater(): void {
    if (this.#stopped) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (!this.#stopped && !this.#socket.active) this.#socket.connect();
    }, this.#helloRetryMs);
  }

  /** Forgets everything tied to the current connection: its runs, its lease renewals. */
  #endSession(): void {
    this.#session++;
    this.#ready = false;
    this.#asked = 0;
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    clearTimeout(this.#retryTimer);
    for (const taskId of [...this.#running.keys()]) this.#drop(taskId);
  }

  async #hello(): Promise<void> {
    const session = this.#session;
    let welcome: VolunteerWelcome;
    try {
      const reply: Ack<VolunteerWelcome> = await this.#socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck('volunteer:hello', { agent: this.#agent, slots: this.#executor.slots });
      if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
      welcome = reply.value;
    } catch (error) {
      if (session !== this.#session) return;
      this.#setError(`the coordinator did not welcome this volunteer: ${describe(error)}`);
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => {
        if (session === this.#session) void this.#hello();
      }, this.#helloRetryMs);
      return;
    }
    if (session !== this.#session) return;
    this.#ready = true;
    this.#leaseMs = welcome.leaseMs;
    this.#update({ connection: 'connected', connected: true, volunteerId: welcome.volunteerId, lastError: undefined });
    this.#heartbeat?.stop();
    const renewEveryMs = Math.min(RENEW_MAX_MS, Math.max(RENEW_MIN_MS, Math.floor(this.#leaseMs / 3) || RENEW_MIN_MS));
    this.#heartbeat = this.#startHeartbeat(renewEveryMs, () => void this.#renew());
    this.#pump();
  }

  /**
   * Tasks this volunteer holds at most: one running per slot, plus one waiting per slot,
   * so a worker that finishes finds its next input already here instead of waiting a
   * round trip for it.
   */
  #capacity(): number {
    if (this.#share < 1) return Math.max(0, this.#executor.slots - this.#resting);
    return this.#executor.slots * 2;
  }

  /** Hands back, in one message, every task held but not started; they are dropped here. */
  #returnUnstarted(): void {
    const waiting = new Set(this.#executor.unstarted?.() ?? []);
    const tasks = [...this.#running.values()].filter((task) => task.session === this.#session && (!task.handedOver || waiting.has(task.assignment.taskId)));
    if (tasks.length === 0 || !this.#ready) return;
    for (const task of tasks) this.#drop(task.assignment.taskId);
    this.#giveBack(tasks.map((task) => task.assignment));
  }

  /** Tells the coordinator it will not run these tasks, so they go to someone else now. */
  #giveBack(assignments: readonly TaskAssignment[]): void {
    const leases: LeaseRef[] = assignments.map(({ taskId, leaseToken }) => ({ taskId, leaseToken }));
    void this.#socket
      .timeout(this.#ackTimeoutMs)
      .emitWithAck('task:return', { leases: leases.slice(0, LIMITS.slotsPerVolunteer * 4) })
      .catch(() => {
        // Unanswered: the leases lapse at their deadline and the tasks run elsewhere then.
      });
  }

  /** Under a share below 1, the slot that ran a task for `ranMs` rests before asking for another. */
  #rest(ranMs: number): void {
    if (this.#share >= 1) return;
    this.#resting++;
    setTimeout(() => {
      this.#resting--;
      this.#pump();
    }, (ranMs * (1 - this.#share)) / this.#share);
  }

  /** Claims room for tasks to ask for: answers how many (0 when there is no room). */
  #claimRequest(): number {
    if (!this.#ready || this.#stopped || this.#pausedBecause.size > 0) return 0;
    const free = Math.min(this.#capacity() - this.#running.size - this.#asked, LIMITS.tasksPerRequest);
    if (free <= 0) return 0;
    this.#asked += free;
    return free;
  }

  /** The answer to a claim came (or never will, on this connection). */
  #settleClaim(claimed: number, session: number): void {
    if (session === this.#session) this.#asked = Math.max(0, this.#asked - claimed);
  }

  /** Asks for as many tasks as there is room for, unless a request is already out. */
  #pump(): void {
    const max = this.#claimRequest();
    if (max > 0) void this.#request(max);
  }

  async #request(max: number): Promise<void> {
    const session = this.#session;
    const hintsBefore = this.#workHints;
    let tasks: TaskAssignment[];
    try {
      const reply: Ack<{ tasks: TaskAssignment[] }> = await this.#socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck('task:request', { max });
      if (session !== this.#session) return;
      if (!reply.ok) {
        this.#setError(`the coordinator refused a request for work: ${reply.error.code}: ${reply.error.message}`);
        if (reply.error.code === 'NOT_READY') {
          // It forgot us (a restart): introduce ourselves again before asking.
          this.#ready = false;
          void this.#hello();
        }
        return;
      }
      tasks = Array.isArray(reply.value.tasks) ? reply.value.tasks : [];
    } catch (error) {
      if (session === this.#session) this.#setError(`a request for work went unanswered: ${describe(error)}`);
      return;
    } finally {
      this.#settleClaim(max, session);
    }
    this.#received(tasks, session, hintsBefore);
  }

  /** Starts the tasks a request (or a result's receipt) brought, and asks again if useful. */
  #received(tasks: readonly TaskAssignment[], session: number, hintsBefore: number): void {
    // Asked for before a pause or a lower share (a result's `next` is often in flight):
    // what no longer fits goes straight back.
    const surplus: TaskAssignment[] = [];
    for (const assignment of tasks) {
      if (this.#pausedBecause.size > 0 || this.#running.size >= this.#capacity()) surplus.push(assignment);
      else this.#start(assignment, session);
    }
    if (surplus.length > 0) this.#giveBack(surplus);
    // Got work, or new work was announced while asking: ask again for what is still free.
    // An empty answer ends the loop until the next hint, freed slot or safety poll.
    if (tasks.length > 0 || this.#workHints !== hintsBefore) this.#pump();
  }

  #start(assignment: TaskAssignment, session: number): void {
    if (this.#running.has(assignment.taskId)) return;
    const task: RunningTask = { assignment, controller: new AbortController(), session, jobName: undefined, job: undefined, handedOver: false };
    this.#running.set(assignment.taskId, task);
    this.#update({});
    void this.#run(task).finally(() => this.#release(task, true));
  }

  /** Frees the task's slot (once) and asks for more work to fill it. */
  #release(task: RunningTask, askForMore: boolean): void {
    if (this.#running.get(task.assignment.taskId) !== task) return;
    this.#running.delete(task.assignment.taskId);
    this.#update({});
    if (askForMore) this.#pump();
  }

  async #run(task: RunningTask): Promise<void> {
    const { assignment, controller } = task;
    let job: JobSourceReply;
    try {
      job = await this.#jobSource(assignment.jobId);
    } catch (error) {
      if (!this.#wanted(task)) return;
      await this.#reportFailure(task, {
        name: 'JobSourceUnavailable',
        message: `could not fetch the source of job ${assignment.jobId}: ${describe(error)}`,
      });
      return;
    }
    task.jobName = job.name;
    task.job = job;
    this.#update({});

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
    // The slot is free now. The result carries the request for more work (`next`), so a
    // task costs one round trip, not two.
    this.#release(task, false);
    const session = this.#session;
    const hintsBefore = this.#workHints;
    const next = this.#claimRequest();
    // undefined until the coordinator answered the request riding on this result.
    let received: TaskAssignment[] | undefined;
    try {
      const reply: Ack<ResultReceipt> = await this.#socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck('task:complete', { taskId: assignment.taskId, leaseToken: assignment.leaseToken, output, next });
      if (session !== this.#session) return;
      if (reply.ok) {
        received = Array.isArray(reply.value.tasks) ? reply.value.tasks : [];
        if (this.#wanted(task)) this.#update({ tasksDone: this.#state.tasksDone + 1 });
      } else if (this.#wanted(task)) {
        this.#setError(`the result of task ${assignment.taskId} was refused: ${reply.error.code}: ${reply.error.message}`);
      }
    } catch (error) {
      if (this.#wanted(task)) this.#setError(`the result of task ${assignment.taskId} went unacknowledged: ${describe(error)}`);
    } finally {
      this.#settleClaim(next, session);
    }
    if (next === 0 || session !== this.#session) return;
    // Refused or unanswered, the request did not happen: ask on its own.
    if (received) this.#received(received, session, hintsBefore);
    else this.#pump();
  }

  /** A task ran on a worker for `ms` (its wait for a slot included, rarely more than nothing). */
  #ran(ms: number): void {
    // No state update of its own: the release that follows every run publishes it.
    this.#workerMs += ms;
    this.#rest(ms);
  }

  async #reportFailure(task: RunningTask, error: TaskError): Promise<void> {
    const { taskId, leaseToken } = task.assignment;
    this.#update({
      tasksFailed: this.#state.tasksFailed + 1,
      lastError: truncate(`task ${taskId}${task.jobName ? ` of ${task.jobName}` : ''} failed: ${error.name}: ${error.message}`, 500),
    });
    try {
      const reply: Ack<ResultReceipt> = await this.#socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck('task:fail', { taskId, leaseToken, error });
      if (!reply.ok && this.#wanted(task)) {
        this.#setError(`the failure of task ${taskId} was not recorded: ${reply.error.code}: ${reply.error.message}`);
      }
    } catch (thrown) {
      if (this.#wanted(task)) this.#setError(`the failure of task ${taskId} went unacknowledged: ${describe(thrown)}`);
    }
  }

  /** Still ours to report: not revoked, not lost, and leased on the live connection. */
  #wanted(task: RunningTask): boolean {
    return !task.controller.signal.aborted && task.session === this.#session && !this.#stopped;
  }

  /** Aborts a run and forgets it; whatever it produces is never reported. */
  #drop(taskId: string): void {
    const task = this.#running.get(taskId);
    if (!task) return;
    this.#running.delete(taskId);
    task.controller.abort();
    this.#update({});
  }

  #jobSource(jobId: string): Promise<JobSourceReply> {
    const cached = this.#jobs.get(jobId);
    if (cached) return cached;
    const fetching = (async () => {
      const reply: Ack<JobSourceReply> = await this.#socket.timeout(this.#ackTimeoutMs).emitWithAck('job:source', { jobId });
      if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
      return reply.value;
    })();
    this.#jobs.set(jobId, fetching);
    // A failed fetch is forgotten so the next task of the job asks again.
    fetching.catch(() => {
      if (this.#jobs.get(jobId) === fetching) this.#jobs.delete(jobId);
    });
    if (this.#jobs.size > JOB_CACHE_SIZE) this.#jobs.delete(this.#jobs.keys().next().value!);
    return fetching;
  }

  async #renew(): Promise<void> {
    if (!this.#ready || this.#renewing) return;
    const session = this.#session;
    const leases: LeaseRef[] = [];
    for (const task of this.#running.values()) {
      if (task.session === session) leases.push({ taskId: task.assignment.taskId, leaseToken: task.assignment.leaseToken });
    }
    if (leases.length === 0) return;
    this.#renewing = true;
    try {
      const reply: Ack<{ renewed: string[]; lost: string[] }> = await this.#socket
        .timeout(this.#ackTimeoutMs)
        .emitWithAck('task:renew', { leases: leases.slice(0, LIMITS.slotsPerVolunteer * 4) });
      if (session !== this.#session) return;
      if (!reply.ok) {
        this.#setError(`lease renewal was refused: ${reply.error.code}: ${reply.error.message}`);
        return;
      }
      // A lost lease means someone else may already be running the task: stop ours.
      for (const taskId of reply.value.lost) this.#drop(taskId);
      if (reply.value.lost.length > 0) this.#pump();
    } catch (error) {
      if (session === this.#session) this.#setError(`lease renewal went unanswered: ${describe(error)}`);
    } finally {
      this.#renewing = false;
    }
  }

  #setError(message: string): void {
    this.#update({ lastError: truncate(message, 500) });
  }

  /** Publishes a new state: the patch plus the fields derived from the running tasks. */
  #update(patch: Partial<VolunteerState>): void {
    const currentJobs: string[] = [];
    const runningJobs: JobSourceReply[] = [];
    for (const task of this.#running.values()) {
      if (task.jobName !== undefined && !currentJobs.includes(task.jobName)) currentJobs.push(task.jobName);
      if (task.job && !runningJobs.some((job) => job.jobId === task.job!.jobId)) runningJobs.push(task.job);
    }
    this.#state = {
      ...this.#state,
      ...patch,
      slots: this.#executor.slots,
      running: this.#running.size,
      currentJobs,
      runningJobs,
      workerMs: this.#workerMs,
    };
    for (const listener of this.#listeners) listener(this.#state);
  }
}

function describe(error: unknown): string {
  return toTaskError(error).message;
}
