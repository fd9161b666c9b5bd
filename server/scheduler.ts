/**
 * The scheduler: which volunteer runs which task, under which lease, and what happens
 * to a job when its tasks finish, fail or are abandoned. It knows nothing of Socket.IO
 * or HTTP: the gateway turns events into calls here, and calls carry the time, so the
 * whole policy is testable with a fake clock.
 *
 * Pull model: a volunteer asks for up to `max` tasks when it has free worker slots.
 * Free slots are shared fairly among running jobs: each pick goes to the job with the
 * fewest tasks running, the oldest job first among equals, so a huge job never starves
 * a small one.
 */
import { joinJsonArray } from '../shared/byte-packing.ts';
import { TabreduceError, type TaskError } from '../shared/errors.ts';
import {
  isTerminal,
  transitionJob,
  type ClusterSummary,
  type JobEvent,
  type JobSummary,
  type KeyValue,
  type PastAttempt,
  type TaskSummary,
} from '../shared/job.ts';
import type { TaskAssignment, TaskOutput, JobSourceReply } from '../shared/protocol.ts';
import { defaultMaxAnswers, losers } from '../shared/quorum.ts';
import {
  defaultBackoffMs,
  findLease,
  initialTaskState,
  mayRunCopy,
  transitionTask,
  TaskTransitionError,
  wantsCopy,
  type TaskEvent,
  type Lease,
  type TaskKind,
  type TaskPolicy,
  type TaskState,
} from '../shared/task.ts';
import type { JobPlan } from './job-planner.ts';
import type { JobRecord, JobStore, TaskRecord } from './store/job-store.ts';
import { checkMapOutput, checkReduceOutput, mergeReduceOutputs } from './task-output.ts';
import { TaskQueue } from './task-queue.ts';
import { decodeMapInput, toPayload } from './map-input.ts';
import { outputDigest, isSpotChecked } from './verification.ts';

export interface SchedulerOptions {
  /** How long a lease lasts without renewal, in ms. */
  leaseMs: number;
  /** How long a tab lets one task run before it kills the worker, in ms. */
  taskTimeoutMs: number;
  /** Delay before a failed task may run again, by attempts started so far. */
  backoffMs?: (attemptsStarted: number) => number;
  /** When idle slots may run backup copies of slow tasks (speculative execution). */
  backups?: BackupPolicy;
  /** How long a finished job (and its result) is kept, in ms; 0 keeps it forever. */
  resultRetentionMs?: number;
  /** Lost votes after which a volunteer's results are refused and it gets no work. Default 3. */
  maxStrikes?: number;
  newLeaseToken: () => string;
}

/**
 * Backup copies: once a phase has nothing left to hand out, a volunteer with a free slot
 * may get a second copy of the task that has run longest, if it has run for at least
 * `minRunningMs` and `slowdownFactor` times the phase's mean task time so far.
 */
export interface BackupPolicy {
  enabled: boolean;
  minRunningMs: number;
  slowdownFactor: number;
}

export const DEFAULT_BACKUP_POLICY: BackupPolicy = { enabled: true, minRunningMs: 5000, slowdownFactor: 1.5 };

/** What the scheduler tells the outside world; the gateway turns these into messages. */
export interface SchedulerListener {
  /** Tasks became leasable: these idle volunteers should ask. */
  workAvailable(volunteerIds: string[]): void;
  /** A volunteer must stop these tasks (job cancelled or failed). */
  revoke(volunteerId: string, taskIds: string[], reason: string): void;
  /** Something the dashboard shows changed. */
  changed(): void;
  /** A job ended (succeeded, failed or cancelled): its intermediate data is gone. */
  jobEnded?(jobId: string): void;
}

/** How a volunteer's answers fared in votes on replicated tasks. */
interface Reputation {
  agreed: number;
  strikes: number;
}

interface Volunteer {
  id: string;
  agent: string;
  slots: number;
  connectedAtMs: number;
  leases: Set<string>;
  tasksDone: number;
  tasksFailed: number;
  /**
   * Slots it asked work for and did not get at its last request: it waits for a
   * `work:available` before asking again, so only such volunteers are woken, not all.
   */
  hungry: number;
  /** Lease-to-answer time of every answer it sent, summed, for its mean task time. */
  answeredMs: number;
  answers: number;
  /** Task input sent to it and output received from it, in bytes. */
  bytesSent: number;
  bytesReceived: number;
}

/** The live index of one job: its tasks, its queue of leasable tasks, its counters. */
interface JobRun {
  job: JobRecord;
  tasks: { map: TaskRecord[]; reduce: TaskRecord[] };
  /** Indices of pending tasks of the current phase, in the order they should run. */
  queue: TaskQueue;
  /** Leases held on this job's tasks, backups included. */
  running: number;
  /** Tasks of the current phase with at least one live lease. */
  leased: Set<TaskRecord>;
  done: { map: number; reduce: number };
  /** Total and count of the winning attempts' durations, per phase, for backup decisions. */
  doneMs: { map: number; reduce: number };
  retries: number;
  backups: { started: number; won: number };
  /** Tasks decided by a vote, and those of them where some answer disagreed. */
  votes: { decided: number; disputed: number };
  volunteersUsed: Set<string>;
  /** Attempts that ended without the accepted answer, by task id, for the dashboard's timeline. */
  pastAttempts: Map<string, PastAttempt[]>;
}

interface LeaseEntry {
  run: JobRun;
  task: TaskRecord;
  volunteerId: string;
}

const NOBODY_MESSAGE = 'say volunteer:hello before asking for work';
const DEFAULT_MAX_STRIKES = 3;

export class Scheduler {
  private readonly runs = new Map<string, JobRun>();
  private readonly leases = new Map<string, LeaseEntry>();
  private readonly volunteers = new Map<string, Volunteer>();
  private readonly policyCache = new Map<string, TaskPolicy>();
  /** Kept after a volunteer leaves, so the dashboard can still show who was struck out. */
  private readonly reputations = new Map<string, Reputation>();
  private readonly spotChecked = new WeakMap<TaskRecord, boolean>();

  constructor(
    private readonly store: JobStore,
    private readonly options: SchedulerOptions,
    private readonly listener: SchedulerListener,
  ) {
    const nowMs = Date.now();
    for (const job of store.listJobs()) this.recover(job, store.listTasks(job.id), nowMs);
  }

  // ── Jobs ────────────────────────────────────────────────────────────────────────

  submit(plan: JobPlan, nowMs: number): JobRecord {
    if (this.runs.has(plan.id)) throw new TabreduceError('CONFLICT', `job ${plan.id} exists already`);
    const job: JobRecord = {
      id: plan.id,
      name: plan.name,
      source: plan.source,
      sourceDigest: plan.sourceDigest,
      submittedAtMs: nowMs,
      reducers: plan.reducers,
      mapTasks: plan.mapInputs.length,
      maxAttempts: plan.maxAttempts,
      replication: plan.replication,
      ...(plan.submitter ? { submitter: plan.submitter } : {}),
      ...(plan.spotCheck && plan.spotCheckSalt ? { spotCheck: plan.spotCheck, spotCheckSalt: plan.spotCheckSalt } : {}),
      inputBytes: plan.inputBytes,
      state: { status: 'queued' },
    };
    const tasks = [
      ...plan.mapInputs.map((_, index) => newTask(job.id, 'map', index)),
      ...Array.from({ length: plan.reducers }, (_, index) => newTask(job.id, 'reduce', index)),
    ];
    this.store.insertJob(job, tasks, plan.mapInputs);
    this.runs.set(job.id, this.indexJob(job, tasks));
    this.wake(plan.mapInputs.length);
    this.listener.changed();
    return job;
  }

  cancel(jobId: string, nowMs: number): JobSummary {
    const run = this.requireRun(jobId);
    if (isTerminal(run.job.state)) {
      throw new TabreduceError('CONFLICT', `job ${jobId} is already ${run.job.state.status}`);
    }
    this.moveJob(run, { type: 'cancel' }, nowMs);
    this.endJob(run, 'the job was cancelled');
    return this.summarize(run);
  }

  getJob(jobId: string): JobSummary | undefined {
    this.store.flush();
    const run = this.runs.get(jobId);
    return run && this.summarize(run);
  }

  /** All jobs, newest first. */
  listJobs(): JobSummary[] {
    this.store.flush();
    return [...this.runs.values()].reverse().map((run) => this.summarize(run));
  }

  getTasks(jobId: string): TaskSummary[] {
    this.store.flush();
    const run = this.requireRun(jobId);
    return [...run.tasks.map, ...run.tasks.reduce].map((task) => summarizeTask(task, run.pastAttempts.get(task.id)));
  }

  /**
   * A job's source for a volunteer: only while it holds a lease on one of the job's
   * tasks, so the volunteer channel cannot be used to read other people's jobs.
   */
  getSourceForVolunteer(volunteerId: string, jobId: string): JobSourceReply {
    const volunteer = this.volunteers.get(volunteerId);
    if (!volunteer) throw new TabreduceError('NOT_READY', NOBODY_MESSAGE);
    const holds = [...volunteer.leases].some((token) => this.leases.get(token)?.run.job.id === jobId);
    if (!holds) throw new TabreduceError('FORBIDDEN', `this volunteer holds no task of job ${jobId}; a volunteer reads only the code it runs`);
    return this.getSource(jobId);
  }

  getSource(jobId: string): JobSourceReply {
    const { job } = this.requireRun(jobId);
    return { jobId: job.id, name: job.name, source: job.source, digest: job.sourceDigest, ...(job.submitter ? { submitter: job.submitter } : {}) };
  }

  getResult(jobId: string): KeyValue[] {
    const run = this.requireRun(jobId);
    if (run.job.state.status !== 'succeeded') {
      throw new TabreduceError('CONFLICT', `job ${jobId} is ${run.job.state.status}; a result exists only once it has succeeded`);
    }
    const result = this.store.getResult(jobId);
    if (!result) throw new TabreduceError('INTERNAL', `the result of job ${jobId} is missing from the store`);
    return result;
  }

  // ── Volunteers ──────────────────────────────────────────────────────────────────

  connect(volunteerId: string, agent: string, slots: number, nowMs: number): void {
    const existing = this.volunteers.get(volunteerId);
    if (existing) {
      existing.agent = agent;
      existing.slots = slots;
    } else {
      this.volunteers.set(volunteerId, {
        id: volunteerId,
        agent,
        slots,
        connectedAtMs: nowMs,
        leases: new Set(),
        tasksDone: 0,
        answeredMs: 0,
        answers: 0,
        bytesSent: 0,
        bytesReceived: 0,
        tasksFailed: 0,
        hungry: 0,
      });
    }
    this.listener.changed();
  }

  setSlots(volunteerId: string, slots: number): void {
    const volunteer = this.volunteers.get(volunteerId);
    if (!volunteer) return;
    volunteer.slots = slots;
    this.listener.changed();
  }

  /**
   * A volunteer went away: its leases are abandoned now rather than at their deadline.
   * `reason` says how, for the tasks' error (the last attempt's error is the job's).
   */
  disconnect(volunteerId: string, nowMs: number, reason = 'the volunteer disconnected'): void {
    const volunteer = this.volunteers.get(volunteerId);
    if (!volunteer) return;
    for (const token of [...volunteer.leases]) this.abandon(token, reason, nowMs);
    this.volunteers.delete(volunteerId);
    this.listener.changed();
  }

  cluster(): ClusterSummary {
    const volunteerList = [...this.volunteers.values()].map((volunteer) => ({
      id: volunteer.id,
      agent: volunteer.agent,
      slots: volunteer.slots,
      running: volunteer.leases.size,
      tasksDone: volunteer.tasksDone,
      tasksFailed: volunteer.tasksFailed,
      connectedAtMs: volunteer.connectedAtMs,
      ...(volunteer.answers > 0 ? { meanTaskMs: Math.round(volunteer.answeredMs / volunteer.answers) } : {}),
      bytesSent: volunteer.bytesSent,
      bytesReceived: volunteer.bytesReceived,
      ...this.reputationOf(volunteer.id),
    }));
    return {
      volunteers: volunteerList.length,
      slots: volunteerList.reduce((sum, volunteer) => sum + volunteer.slots, 0),
      busySlots: this.leases.size,
      volunteerList,
    };
  }

  // ── Tasks ───────────────────────────────────────────────────────────────────────

  /** Leases up to `max` tasks to a volunteer, fairly across running jobs. */
  requestTasks(volunteerId: string, max: number, nowMs: number): TaskAssignment[] {
    const volunteer = this.volunteers.get(volunteerId);
    if (!volunteer) throw new TabreduceError('NOT_READY', NOBODY_MESSAGE);
    this.refuseStruckOut(volunteerId);
    const assignments: TaskAssignment[] = [];
    try {
      while (assignments.length < max) {
        const picked = this.pickTask(volunteerId, nowMs);
        if (picked) {
          assignments.push(this.lease(picked.run, picked.task, volunteer, nowMs, false));
          continue;
        }
        const slow = this.pickBackup(volunteer.id, nowMs);
        if (!slow) break;
        assignments.push(this.lease(slow.run, slow.task, volunteer, nowMs, true));
      }
    } catch (error) {
      // Tasks leased before the failure must reach the volunteer, or they would sit
      // leased to it until their deadline; the failure is a bug, and is reported when
      // nothing was leased.
      if (assignments.length === 0) throw error;
    }
    volunteer.hungry = max - assignments.length;
    if (assignments.length > 0) this.listener.changed();
    return assignments;
  }

  complete(volunteerId: string, taskId: string, leaseToken: string, output: TaskOutput, nowMs: number): void {
    this.refuseStruckOut(volunteerId);
    const entry = this.requireLease(volunteerId, taskId, leaseToken);
    const { run, task } = entry;
    // Decode and check before the transition, so a malformed answer leaves the lease live
    // and is refused like any other bad request; the task will be retried elsewhere when
    // the lease lapses.
    let mapBlocks: Uint8Array[] | undefined;
    let reducePairs: KeyValue[] | undefined;
    if (task.kind === 'map') {
      if (output.kind !== 'map') throw new TabreduceError('BAD_RESULT', `task ${taskId} is a map task; send a map output`);
      mapBlocks = checkMapOutput(output.blocks, output.offsets, run.job.reducers);
    } else {
      if (output.kind !== 'reduce') throw new TabreduceError('BAD_RESULT', `task ${taskId} is a reduce task; send a reduce output`);
      reducePairs = checkReduceOutput(output.pairs, task.index, run.job.reducers);
    }
    const policy = this.policy(run.job, task);
    const digest = policy.replication > 1 ? outputDigest(output) : '';
    const lease = findLease(task.state, leaseToken);
    const before = task.state;
    const next = this.nextState(run, task, { type: 'complete', token: leaseToken, digest }, nowMs);
    // The output is stored before the task is marked done, so a crash in between leaves a
    // task that runs again rather than a done task without its output. Under a vote the
    // answer that decides is always one for the winning digest (shared/quorum.ts), so
    // the output in hand is the accepted one.
    if (next.status === 'done') {
      if (mapBlocks) this.store.putMapOutput(run.job.id, task.index, mapBlocks);
      if (reducePairs) this.store.putReduceOutput(run.job.id, task.index, reducePairs);
    }
    this.applyState(task, next);
    const volunteer = this.volunteers.get(volunteerId);
    if (volunteer) {
      volunteer.tasksDone++;
      volunteer.answers++;
      if (lease) volunteer.answeredMs += nowMs - lease.leasedAtMs;
      volunteer.bytesReceived += output.kind === 'map' ? output.blocks.byteLength : output.pairs.byteLength;
    }
    run.volunteersUsed.add(volunteerId);

    if (next.status !== 'done' && next.status !== 'failed') {
      // A vote that decided nothing: this copy is over, the others run on, and the task
      // waits in the queue for a volunteer that has not answered it yet.
      this.releaseLease(leaseToken);
      if (next.status === 'pending' || wantsCopy(next, nowMs, policy)) {
        run.queue.pushFront(task.index);
        this.wakeForCopy(task);
      }
      if (next.status === 'pending') run.leased.delete(task);
      this.listener.changed();
      return;
    }
    // Decided: every other copy of this task is stopped.
    for (const [token, other] of [...this.leases]) {
      if (other.task === task) {
        this.releaseLease(token);
        if (token !== leaseToken) {
          const copy = before.status === 'leased' ? before.leases.find((held) => held.token === token) : undefined;
          if (copy) recordAttempt(run, task, copy, 'superseded', nowMs);
          this.listener.revoke(other.volunteerId, [task.id], 'this task has its answer');
        }
      }
    }
    run.leased.delete(task);
    if (next.status === 'failed') {
      this.moveJob(run, { type: 'fail', error: { ...next.error, taskId: task.id } }, nowMs);
      this.endJob(run, `job failed: task ${task.id}: ${next.error.message}`);
      return;
    }
    if (next.votes && next.digest !== undefined) {
      countVote(run, next.votes, next.digest);
      this.tally(next.votes.map((vote) => vote.volunteerId), losers(next.votes, next.digest), nowMs);
    }
    if (lease?.backup) run.backups.won++;
    run.doneMs[task.kind] += next.durationMs;
    run.done[task.kind]++;
    if (task.kind === 'map' && run.done.map === run.job.mapTasks) this.startReducePhase(run, nowMs);
    if (task.kind === 'reduce' && run.done.reduce === run.job.reducers) this.finishJob(run, nowMs);
    this.listener.changed();
  }

  /** Job code failed (threw, timed out, returned garbage) on a volunteer. */
  fail(volunteerId: string, taskId: string, leaseToken: string, error: TaskError, nowMs: number): void {
    const { run, task } = this.requireLease(volunteerId, taskId, leaseToken);
    const volunteer = this.volunteers.get(volunteerId);
    if (volunteer) volunteer.tasksFailed++;
    this.settleUnsuccessful(run, task, leaseToken, { type: 'fail', token: leaseToken, error }, nowMs);
  }

  /**
   * Takes back tasks a volunteer holds but never started (it paused, or took on less):
   * each goes to the front of its queue with no attempt spent, for someone else.
   * Answers the task ids taken back; leases already gone are skipped.
   */
  returnTasks(volunteerId: string, leases: { taskId: string; leaseToken: string }[], nowMs: number): string[] {
    const returned: string[] = [];
    for (const { taskId, leaseToken } of leases) {
      const entry = this.leases.get(leaseToken);
      if (!entry || entry.volunteerId !== volunteerId || entry.task.id !== taskId) continue;
      const { run, task } = entry;
      const lease = findLease(task.state, leaseToken);
      this.moveTask(run, task, { type: 'return', token: leaseToken }, nowMs);
      if (lease) recordAttempt(run, task, lease, 'returned', nowMs);
      this.releaseLease(leaseToken);
      if (task.state.status === 'pending') {
        run.leased.delete(task);
        run.queue.pushFront(task.index);
      } else if (wantsCopy(task.state, nowMs, this.policy(run.job, task))) {
        run.queue.pushFront(task.index);
      }
      returned.push(taskId);
    }
    if (returned.length > 0) {
      const volunteer = this.volunteers.get(volunteerId);
      // It gave work back: it wants none until it asks again.
      if (volunteer) volunteer.hungry = 0;
      this.wake(returned.length, (other) => other !== volunteerId);
      this.listener.changed();
    }
    return returned;
  }

  /** Renews live leases; returns the task ids renewed and those whose lease is gone. */
  renew(volunteerId: string, leases: { taskId: string; leaseToken: string }[], nowMs: number) {
    const renewed: string[] = [];
    const lost: string[] = [];
    for (const { taskId, leaseToken } of leases) {
      const entry = this.leases.get(leaseToken);
      if (!entry || entry.volunteerId !== volunteerId || entry.task.id !== taskId) {
        lost.push(taskId);
        continue;
      }
      const next = transitionTask(
        entry.task.state,
        { type: 'renew', token: leaseToken, deadlineMs: nowMs + this.options.leaseMs },
        nowMs,
        this.policy(entry.run.job, entry.task),
      );
      if (next instanceof TaskTransitionError) {
        lost.push(taskId);
        continue;
      }
      entry.task.state = next;
      renewed.push(taskId);
    }
    return { renewed, lost };
  }

  /**
   * Housekeeping, called on a timer: abandons leases past their deadline, says whether
   * tasks that were backing off can now run, and forgets finished jobs past retention.
   */
  tick(nowMs: number): void {
    for (const [token, entry] of [...this.leases]) {
      const lease = findLease(entry.task.state, token);
      if (lease && nowMs > lease.deadlineMs) this.abandon(token, 'the lease expired without an answer', nowMs);
    }
    this.dropExpiredJobs(nowMs);
    // Retries coming out of backoff, and tasks turning slow enough for a backup copy,
    // appear with the passing of time alone: wake whoever waits for work.
    const hungry = [...this.volunteers.values()].find((volunteer) => volunteer.hungry > 0);
    if (!hungry) return;
    const leasable = [...this.runs.values()].some((run) => !isTerminal(run.job.state) && run.queue.some(this.leasableNow(run, nowMs)));
    if (leasable || this.pickBackup(hungry.id, nowMs)) this.wake(Number.POSITIVE_INFINITY);
  }

  /** Wakes waiting volunteers, enough of them to take `leasable` tasks; `may` narrows who can take them. */
  private wake(leasable: number, may?: (volunteerId: string) => boolean): void {
    const woken: string[] = [];
    for (const volunteer of this.volunteers.values()) {
      if (leasable <= 0) break;
      if (volunteer.hungry <= 0 || (may && !may(volunteer.id)) || this.isStruckOut(volunteer.id)) continue;
      woken.push(volunteer.id);
      leasable -= volunteer.hungry;
      volunteer.hungry = 0;
    }
    if (woken.length > 0) this.listener.workAvailable(woken);
  }

  /** Wakes one waiting volunteer that may run a copy of this replicated task (a vote needs distinct volunteers). */
  private wakeForCopy(task: TaskRecord): void {
    this.wake(1, (volunteerId) => mayRunCopy(task.state, volunteerId));
  }

  private dropExpiredJobs(nowMs: number): void {
    const retentionMs = this.options.resultRetentionMs ?? 0;
    if (retentionMs <= 0) return;
    let dropped = false;
    for (const [jobId, run] of this.runs) {
      const state = run.job.state;
      if ('finishedAtMs' in state && nowMs - state.finishedAtMs > retentionMs) {
        this.store.deleteJob(jobId);
        this.runs.delete(jobId);
        dropped = true;
      }
    }
    if (dropped) this.listener.changed();
  }

  // ── Internals ───────────────────────────────────────────────────────────────────

  private indexJob(job: JobRecord, tasks: TaskRecord[]): JobRun {
    const run: JobRun = {
      job,
      tasks: { map: [], reduce: [] },
      queue: new TaskQueue(),
      running: 0,
      leased: new Set(),
      done: { map: 0, reduce: 0 },
      doneMs: { map: 0, reduce: 0 },
      retries: 0,
      backups: { started: 0, won: 0 },
      votes: { decided: 0, disputed: 0 },
      volunteersUsed: new Set(),
      pastAttempts: new Map(),
    };
    for (const task of tasks) {
      run.tasks[task.kind][task.index] = task;
      if (task.state.status === 'done') {
        run.done[task.kind]++;
        run.doneMs[task.kind] += task.state.durationMs;
        run.volunteersUsed.add(task.state.volunteerId);
        if (task.state.byBackup) run.backups.won++;
        if (task.state.votes) countVote(run, task.state.votes, task.state.digest);
      }
      run.retries += Math.max(0, task.state.attemptsStarted - 1);
    }
    if (!isTerminal(job.state)) run.queue = new TaskQueue(this.pendingIndices(run));
    return run;
  }

  /**
   * Re-indexes a job found in the store at start-up. Leases did not survive the restart,
   * so leased tasks go back to pending; a phase whose last task finished just before the
   * crash, but whose job state was not yet moved on, is moved on now.
   */
  private recover(job: JobRecord, tasks: TaskRecord[], nowMs: number): void {
    if (!isTerminal(job.state)) {
      for (const task of tasks) {
        if (task.state.status !== 'leased') continue;
        const next = transitionTask(task.state, { type: 'requeue' }, nowMs, this.policy(job, task));
        if (next instanceof TaskTransitionError) throw next;
        task.state = next;
        this.store.saveTask(task);
      }
    }
    const run = this.indexJob(job, tasks);
    this.runs.set(job.id, run);
    if (run.job.state.status === 'mapping' && run.done.map === job.mapTasks) this.startReducePhase(run, nowMs);
    if (run.job.state.status === 'reducing' && run.done.reduce === job.reducers) this.finishJob(run, nowMs);
  }

  private currentPhase(run: JobRun): TaskKind {
    return run.job.state.status === 'reducing' ? 'reduce' : 'map';
  }

  private pendingIndices(run: JobRun): number[] {
    return run.tasks[this.currentPhase(run)]
      .filter((task) => task.state.status === 'pending')
      .map((task) => task.index);
  }

  /**
   * Whether a queued task of the current phase may take a copy now: pending and out of
   * backoff, or short of copies for its vote; and, given a volunteer, one that volunteer
   * may run (a vote needs distinct volunteers).
   */
  private leasableNow(run: JobRun, nowMs: number, volunteerId?: string): (index: number) => boolean {
    const tasks = run.tasks[this.currentPhase(run)];
    return (index) => {
      const task = tasks[index]!;
      return wantsCopy(task.state, nowMs, this.policy(run.job, task)) && (volunteerId === undefined || mayRunCopy(task.state, volunteerId));
    };
  }

  private pickTask(volunteerId: string, nowMs: number): { run: JobRun; task: TaskRecord } | undefined {
    let best: JobRun | undefined;
    for (const run of this.runs.values()) {
      if (isTerminal(run.job.state) || run.queue.size === 0) continue;
      if (best && run.running >= best.running) continue;
      if (run.queue.some(this.leasableNow(run, nowMs, volunteerId))) best = run;
    }
    if (!best) return undefined;
    const index = best.queue.takeFirst(this.leasableNow(best, nowMs, volunteerId))!;
    return { run: best, task: best.tasks[this.currentPhase(best)][index]! };
  }

  /**
   * The task most worth a backup copy on this volunteer: in a job whose current phase
   * has nothing left to hand out, the single-copy task that has run longest, if it is
   * slow by the backup policy and runs elsewhere.
   */
  private pickBackup(volunteerId: string, nowMs: number): { run: JobRun; task: TaskRecord } | undefined {
    const policy = this.options.backups ?? DEFAULT_BACKUP_POLICY;
    if (!policy.enabled) return undefined;
    let best: { run: JobRun; task: TaskRecord; leasedAtMs: number } | undefined;
    for (const run of this.runs.values()) {
      if (isTerminal(run.job.state) || run.queue.size > 0) continue;
      const phase = this.currentPhase(run);
      const meanMs = run.done[phase] > 0 ? run.doneMs[phase] / run.done[phase] : 0;
      const slowAfterMs = Math.max(policy.minRunningMs, meanMs * policy.slowdownFactor);
      for (const task of run.leased) {
        const state = task.state;
        if (state.status !== 'leased' || state.leases.length !== 1) continue;
        const [only] = state.leases;
        // A vote needs distinct volunteers: not the one running it, nor one that answered it.
        if (!mayRunCopy(state, volunteerId) || nowMs - only!.leasedAtMs < slowAfterMs) continue;
        if (!best || only!.leasedAtMs < best.leasedAtMs) best = { run, task, leasedAtMs: only!.leasedAtMs };
      }
    }
    return best;
  }

  private lease(run: JobRun, task: TaskRecord, volunteer: Volunteer, nowMs: number, backup: boolean): TaskAssignment {
    const token = this.options.newLeaseToken();
    if (run.job.state.status === 'queued') this.moveJob(run, { type: 'start' }, nowMs);
    const lease = { token, volunteerId: volunteer.id, leasedAtMs: nowMs, deadlineMs: nowMs + this.options.leaseMs, backup };
    this.moveTask(run, task, backup ? { type: 'backup', lease } : { type: 'lease', lease }, nowMs);
    // A replicated task runs on several volunteers: its next copy joins the back of the
    // queue, so it goes to whoever asks when it comes round, not to the next asker. A
    // cheat holding two connections, asking from both in turn, would get both copies.
    if (!backup && wantsCopy(task.state, nowMs, this.policy(run.job, task))) {
      run.queue.push(task.index);
      this.wakeForCopy(task);
    }
    if (backup) run.backups.started++;
    else if (task.state.attemptsStarted > 1) run.retries++;
    run.leased.add(task);
    this.leases.set(token, { run, task, volunteerId: volunteer.id });
    volunteer.leases.add(token);
    run.running++;
    const base = {
      taskId: task.id,
      jobId: run.job.id,
      index: task.index,
      leaseToken: token,
      sourceDigest: run.job.sourceDigest,
      timeoutMs: this.options.taskTimeoutMs,
    };
    const assignment: TaskAssignment =
      task.kind === 'map'
        ? { ...base, kind: 'map', partitions: run.job.reducers, input: toPayload(decodeMapInput(this.store.getMapInput(run.job.id, task.index))) }
        : { ...base, kind: 'reduce', partition: task.index, blocks: joinJsonArray(this.store.getPartitionBlocks(run.job.id, task.index)) };
    volunteer.bytesSent += assignment.kind === 'map' ? assignment.input.bytes.byteLength : assignment.blocks.byteLength;
    return assignment;
  }

  private requireLease(volunteerId: string, taskId: string, leaseToken: string): LeaseEntry {
    const entry = this.leases.get(leaseToken);
    if (!entry || entry.volunteerId !== volunteerId || entry.task.id !== taskId) {
      throw new TabreduceError('LEASE_INVALID', `no live lease ${leaseToken} on task ${taskId} for this volunteer`);
    }
    return entry;
  }

  private releaseLease(token: string): void {
    const entry = this.leases.get(token);
    if (!entry) return;
    this.leases.delete(token);
    this.volunteers.get(entry.volunteerId)?.leases.delete(token);
    entry.run.running--;
  }

  private abandon(token: string, reason: string, nowMs: number): void {
    const entry = this.leases.get(token);
    if (!entry) return;
    this.settleUnsuccessful(entry.run, entry.task, token, { type: 'abandon', token, reason }, nowMs);
  }

  /** A lease ended without an answer: the task retries, or the job fails. */
  private settleUnsuccessful(
    run: JobRun,
    task: TaskRecord,
    token: string,
    event: Extract<TaskEvent, { type: 'fail' | 'abandon' }>,
    nowMs: number,
  ): void {
    const lease = findLease(task.state, token);
    this.moveTask(run, task, event, nowMs);
    if (lease) recordAttempt(run, task, lease, event.type === 'fail' ? 'failed' : 'lost', nowMs);
    this.releaseLease(token);
    const state = task.state;
    if (state.status !== 'leased') run.leased.delete(task);
    if (state.status === 'failed') {
      this.moveJob(run, { type: 'fail', error: { ...state.error, taskId: task.id } }, nowMs);
      this.endJob(run, `job failed: task ${task.id}: ${state.error.message}`);
    } else if (state.status === 'pending') {
      run.queue.push(task.index);
      // A retry waits out its backoff; tick() wakes volunteers once it may run.
      if (state.notBeforeMs <= nowMs) this.wake(1);
    } else if (wantsCopy(state, nowMs, this.policy(run.job, task))) {
      // One copy of a replicated task was lost while others run: it needs a replacement.
      run.queue.pushFront(task.index);
      this.wakeForCopy(task);
    }
    this.listener.changed();
  }

  private startReducePhase(run: JobRun, nowMs: number): void {
    this.moveJob(run, { type: 'maps-done' }, nowMs);
    run.queue = new TaskQueue(this.pendingIndices(run));
    this.wake(run.queue.size);
  }

  private finishJob(run: JobRun, nowMs: number): void {
    const result = mergeReduceOutputs(this.store.getReduceOutputs(run.job.id));
    this.store.putResult(run.job.id, result);
    this.moveJob(run, { type: 'reduces-done' }, nowMs);
    this.dropIntermediate(run);
  }

  private dropIntermediate(run: JobRun): void {
    this.store.deleteIntermediate(run.job.id);
    this.listener.jobEnded?.(run.job.id);
  }

  /** A job ended early: revoke its running tasks everywhere and drop its queue. */
  private endJob(run: JobRun, reason: string): void {
    run.queue.clear();
    run.leased.clear();
    const byVolunteer = new Map<string, string[]>();
    for (const [token, entry] of [...this.leases]) {
      if (entry.run !== run) continue;
      this.releaseLease(token);
      byVolunteer.set(entry.volunteerId, [...(byVolunteer.get(entry.volunteerId) ?? []), entry.task.id]);
    }
    for (const [volunteerId, taskIds] of byVolunteer) this.listener.revoke(volunteerId, taskIds, reason);
    this.dropIntermediate(run);
    this.listener.changed();
  }

  private moveTask(run: JobRun, task: TaskRecord, event: TaskEvent, nowMs: number): void {
    this.applyState(task, this.nextState(run, task, event, nowMs));
  }

  private nextState(run: JobRun, task: TaskRecord, event: TaskEvent, nowMs: number): TaskState {
    const next = transitionTask(task.state, event, nowMs, this.policy(run.job, task));
    if (next instanceof TaskTransitionError) throw new TabreduceError('LEASE_INVALID', `task ${task.id}: ${next.message}`);
    return next;
  }

  private applyState(task: TaskRecord, next: TaskState): void {
    task.state = next;
    this.store.saveTask(task);
  }

  // ── Reputation ──────────────────────────────────────────────────────────────────

  private reputationOf(volunteerId: string): { agreed: number; strikes: number; struckOut: boolean } {
    const reputation = this.reputations.get(volunteerId) ?? { agreed: 0, strikes: 0 };
    return { ...reputation, struckOut: this.isStruckOut(volunteerId) };
  }

  /** Out of strikes: its results are refused and it gets no work. */
  private isStruckOut(volunteerId: string): boolean {
    return (this.reputations.get(volunteerId)?.strikes ?? 0) >= (this.options.maxStrikes ?? DEFAULT_MAX_STRIKES);
  }

  /** Counts a decided vote: the losers get a strike, and a volunteer out of strikes loses its work. */
  private tally(voters: string[], lost: string[], nowMs: number): void {
    for (const volunteerId of new Set(voters)) {
      const reputation = this.reputations.get(volunteerId) ?? { agreed: 0, strikes: 0 };
      if (lost.includes(volunteerId)) reputation.strikes++;
      else reputation.agreed++;
      this.reputations.set(volunteerId, reputation);
    }
    for (const volunteerId of lost) {
      if (!this.isStruckOut(volunteerId)) continue;
      const volunteer = this.volunteers.get(volunteerId);
      if (!volunteer) continue;
      volunteer.hungry = 0;
      const taskIds: string[] = [];
      for (const token of [...volunteer.leases]) {
        const entry = this.leases.get(token);
        if (entry) taskIds.push(entry.task.id);
        this.abandon(token, 'the volunteer running it was struck out for wrong answers', nowMs);
      }
      if (taskIds.length > 0) this.listener.revoke(volunteerId, taskIds, 'this volunteer lost too many votes; its results are refused');
      // Woken, it asks for work and hears why there is none, rather than waiting for its next poll.
      this.listener.workAvailable([volunteerId]);
    }
  }

  private refuseStruckOut(volunteerId: string): void {
    if (this.isStruckOut(volunteerId)) {
      const { strikes } = this.reputationOf(volunteerId);
      throw new TabreduceError('FORBIDDEN', `this volunteer's answers lost ${strikes} votes against other volunteers'; its results are refused and it gets no more work`);
    }
  }

  private moveJob(run: JobRun, event: JobEvent, nowMs: number): void {
    const next = transitionJob(run.job.state, event, nowMs);
    if (next instanceof Error) throw new TabreduceError('CONFLICT', `job ${run.job.id}: ${next.message}`);
    run.job = { ...run.job, state: next };
    this.store.updateJob(run.job);
  }

  /** 2 for the tasks a spot-checked job verifies, else 1; hashed once per task. */
  private spotCheckReplication(job: JobRecord, task: TaskRecord): number {
    let checked = this.spotChecked.get(task);
    if (checked === undefined) {
      checked = isSpotChecked(job, task.id);
      this.spotChecked.set(task, checked);
    }
    return checked ? 2 : 1;
  }

  /** A task's policy: its job's attempts, and its replication (the job's, or 2 if spot-checked). */
  private policy(job: JobRecord, task: TaskRecord): TaskPolicy {
    const replication = job.replication > 1 ? job.replication : job.spotCheck ? this.spotCheckReplication(job, task) : 1;
    const key = `${job.maxAttempts}/${replication}`;
    let policy = this.policyCache.get(key);
    if (!policy) {
      policy = { maxAttempts: job.maxAttempts, backoffMs: this.options.backoffMs ?? defaultBackoffMs, replication, maxAnswers: defaultMaxAnswers(replication) };
      this.policyCache.set(key, policy);
    }
    return policy;
  }

  private requireRun(jobId: string): JobRun {
    const run = this.runs.get(jobId);
    if (!run) throw new TabreduceError('NOT_FOUND', `no job ${jobId}`);
    return run;
  }

  private summarize(run: JobRun): JobSummary {
    const { job } = run;
    const state = job.state;
    return {
      id: job.id,
      name: job.name,
      state: state.status,
      progress: {
        map: { done: run.done.map, total: job.mapTasks },
        reduce: { done: run.done.reduce, total: job.reducers },
      },
      ...(state.status === 'failed' ? { error: state.error } : {}),
      submittedAtMs: job.submittedAtMs,
      ...('startedAtMs' in state ? { startedAtMs: state.startedAtMs } : {}),
      ...('finishedAtMs' in state ? { finishedAtMs: state.finishedAtMs } : {}),
      reducers: job.reducers,
      inputBytes: job.inputBytes,
      sourceDigest: job.sourceDigest,
      running: run.running,
      volunteersUsed: run.volunteersUsed.size,
      retries: run.retries,
      backups: { ...run.backups },
      replication: job.replication,
      ...(job.spotCheck ? { spotCheck: job.spotCheck } : {}),
      votes: { ...run.votes },
    };
  }
}

function countVote(run: JobRun, votes: readonly { digest: string }[], winner: string | undefined): void {
  run.votes.decided++;
  if (votes.some((vote) => vote.digest !== winner)) run.votes.disputed++;
}

function newTask(jobId: string, kind: TaskKind, index: number): TaskRecord {
  return { id: `${jobId}/${kind}/${index}`, jobId, kind, index, state: initialTaskState() };
}

/** Attempts kept per task at most: a task that fails this often fails its job long before. */
const MAX_PAST_ATTEMPTS = 32;

function recordAttempt(run: JobRun, task: TaskRecord, lease: Lease, outcome: PastAttempt['outcome'], nowMs: number): void {
  const attempts = run.pastAttempts.get(task.id) ?? [];
  if (attempts.length >= MAX_PAST_ATTEMPTS) attempts.shift();
  attempts.push({ volunteerId: lease.volunteerId, startedAtMs: lease.leasedAtMs, endedAtMs: nowMs, outcome, backup: lease.backup });
  run.pastAttempts.set(task.id, attempts);
}

function summarizeTask(task: TaskRecord, pastAttempts: PastAttempt[] | undefined): TaskSummary {
  const state = task.state;
  return {
    ...(pastAttempts ? { pastAttempts } : {}),
    id: task.id,
    kind: task.kind,
    index: task.index,
    status: state.status,
    attemptsStarted: state.attemptsStarted,
    ...(state.status === 'leased' ? { volunteerId: state.leases[0]!.volunteerId, copies: state.leases.length, startedAtMs: state.leases[0]!.leasedAtMs } : {}),
    ...(state.status === 'done'
      ? { volunteerId: state.volunteerId, durationMs: state.durationMs, startedAtMs: state.finishedAtMs - state.durationMs, finishedAtMs: state.finishedAtMs, byBackup: state.byBackup }
      : {}),
    ...(state.status === 'failed' ? { lastError: state.error } : {}),
    ...((state.status === 'pending' || state.status === 'leased') && state.lastError ? { lastError: state.lastError } : {}),
    ...(state.votes
      ? {
          votes: state.votes.map((vote) => ({
            volunteerId: vote.volunteerId,
            digest: vote.digest.slice(0, 12),
            ...(state.status === 'done' ? { agreed: vote.digest === state.digest } : {}),
          })),
        }
      : {}),
  };
}
