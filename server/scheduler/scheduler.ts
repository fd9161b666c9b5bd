/**
 * The scheduler: which volunteer runs which task, under which lease, and what happens
 * to a job when its tasks finish, fail or are abandoned. It knows nothing of Socket.IO
 * or HTTP: the gateway turns events into calls here, and calls carry the time, so the
 * whole policy is testable with a fake clock.
 *
 * Pull model: a volunteer asks for up to `max` tasks when it has free worker slots;
 * dispatch.ts chooses them, fairly across running jobs.
 *
 * State has one owner each. A task's state (shared/task.ts) is the truth about its
 * leases; the lease table indexes them; the job run (job-run.ts) holds the queue and
 * the counters. Every task transition goes through `#applyTaskChange`, which derives
 * from the change alone (task-effects.ts) what the lease table, the queue, the waiting
 * volunteers and the other copies' holders must hear, so no call site keeps them in
 * step by hand.
 */
import { TabreduceError, toWireError, type TaskError, type WireError } from '../../shared/errors.ts';
import { isTerminal } from '../../shared/job-lifecycle.ts';
import type { ClusterSummary, JobSummary, TaskSummary } from '../../shared/job.ts';
import type { JobSourceReply, TaskAssignment, TaskOutput } from '../../shared/protocol.ts';
import { losers } from '../../shared/quorum.ts';
import type { TaskEnd } from '../../shared/task-batch.ts';
import { findLease, mayRunCopy, transitionTask, TaskTransitionError, type Lease, type TaskEvent, type TaskState } from '../../shared/task.ts';
import type { JobPlan } from '../job-planner.ts';
import type { JobRecord, JobStore, TaskRecord } from '../store/job-store.ts';
import { chunksOf, resultEntries, type StoredResultAtHand } from '../result-data.ts';
import type { SchedulerService, SettleRefusal } from '../scheduler-service.ts';
import { outputDigest } from '../verification.ts';
import { DEFAULT_BACKUP_POLICY, fairShare, pickBackup, pickDonor, takeTask, wakeOnTime, type DispatchView } from './dispatch.ts';
import { JobEnds } from './job-ends.ts';
import { JobIntake } from './job-intake.ts';
import { countDone, countVote, queueOfPending, recordAttempt, type JobRun } from './job-run.ts';
import { LeaseTable } from './lease-table.ts';
import { recoverRun, resyncRuns } from './recovery.ts';
import { DEFAULT_MAX_STRIKES, Reputations } from './reputation.ts';
import { countLiveTasks, summarizeCluster, summarizeJob, summarizeTask, type TaskCounts } from './summaries.ts';
import { assignmentsReady, checkOutput, leasedInputBytes, leasedTask, outputBytes, storeOutput, type LeasedTask } from './task-data.ts';
import { deriveTaskEffects } from './task-effects.ts';
import { NO_METRICS, type SchedulerListener, type SchedulerMetrics, type SchedulerOptions } from './scheduler-options.ts';
import { TaskPolicies } from './task-policy.ts';
import { VolunteerRegistry, type Volunteer } from './volunteers.ts';

const NOBODY_MESSAGE = 'say volunteer:hello before asking for work';
/** Task events after which the store already holds what recovery would make of the task (see #applyTaskChange). */
const UNSTORED_EVENTS: ReadonlySet<TaskEvent['type']> = new Set(['lease', 'backup', 'renew', 'return']);

/** The in-memory SchedulerService: its answers are at hand (but where a file is read, or a job stored in turns), each commit left to `store.durable()`. */
export class Scheduler implements SchedulerService {
  readonly #runs = new Map<string, JobRun>();
  readonly #leases = new LeaseTable();
  readonly #volunteers = new VolunteerRegistry();
  readonly #reputations: Reputations;
  readonly #policies: TaskPolicies;
  readonly #dispatch: DispatchView;
  readonly #intake: JobIntake;
  readonly #jobs: JobEnds;
  readonly #metrics: SchedulerMetrics;

  constructor(
    private readonly store: JobStore,
    private readonly options: SchedulerOptions,
    private readonly listener: SchedulerListener,
  ) {
    this.#reputations = new Reputations(options.maxStrikes ?? DEFAULT_MAX_STRIKES);
    this.#policies = new TaskPolicies(options.backoffMs);
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#jobs = new JobEnds({
      store,
      runs: this.#runs,
      leases: this.#leases,
      listener,
      wake: (leasable) => this.#wake(leasable),
      resultOf: (jobId) => [...resultEntries(chunksOf(this.getResult(jobId)))],
      maxMessageBytes: options.maxMessageBytes,
    });
    // A submitted job goes live in the turn its last piece is written (job-intake.ts).
    this.#intake = new JobIntake(store, (jobId) => this.#runs.has(jobId), (run) => {
      this.#runs.set(run.job.id, run);
      this.#wake(run.job.mapTasks);
      this.#jobs.settleAwaiting(run, Date.now());
      this.listener.changed();
    });
    const runs = this.#runs;
    const policies = this.#policies;
    this.#dispatch = {
      get runs() {
        return runs.values();
      },
      leases: this.#leases,
      policy: (run, task) => policies.of(run.job, task),
    };
    // Before recovery, whose own writes may be the first a full disk refuses.
    store.onRollback((jobIds, error) => this.#resync(jobIds, error));
    const nowMs = Date.now();
    for (const job of store.listJobs()) this.#runs.set(job.id, recoverRun(store, this.#policies, job, nowMs));
    // A job whose awaited job ended just before a crash, its own planning lost with it.
    for (const run of [...this.#runs.values()]) this.#jobs.settleAwaiting(run, nowMs);
  }

  // ── Jobs ────────────────────────────────────────────────────────────────────────

  /** Adds a job in one go (tests, small jobs); written, not committed: a "stored" answer waits on `store.durable()`. */
  submit(plan: JobPlan, nowMs: number): JobRecord {
    return this.#intake.submitNow(plan, nowMs);
  }

  /** Adds a job a slice of the event loop at a time; resolves once it is committed (job-intake.ts). */
  submitInTurns(plan: JobPlan, nowMs: number, turnMs?: number): Promise<JobRecord> {
    return this.#intake.submitInTurns(plan, nowMs, turnMs);
  }

  cancel(jobId: string, nowMs: number): JobSummary {
    const run = this.#requireRun(jobId);
    if (isTerminal(run.job.state)) {
      throw new TabreduceError('CONFLICT', `job ${jobId} is already ${run.job.state.status}`);
    }
    this.#jobs.move(run, { type: 'cancel' }, nowMs);
    this.#jobs.stop(run, 'the job was cancelled');
    return this.#summarize(run);
  }

  getJob(jobId: string): JobSummary | undefined {
    this.store.flush();
    const run = this.#runs.get(jobId);
    return run && this.#summarize(run);
  }

  /** All jobs, newest first. */
  listJobs(): JobSummary[] {
    this.store.flush();
    return [...this.#runs.values()].reverse().map((run) => this.#summarize(run));
  }

  getTasks(jobId: string): TaskSummary[] {
    this.store.flush();
    const run = this.#requireRun(jobId);
    return [...run.tasks.all('map'), ...run.tasks.all('reduce')].map((task) => summarizeTask(task, run.pastAttempts.get(task.id)));
  }

  /** A job's source for a volunteer holding one of its tasks: the volunteer channel reads no other job's code. */
  getSourceForVolunteer(volunteerId: string, jobId: string): JobSourceReply {
    this.#requireVolunteer(volunteerId);
    if (!this.#leases.ofVolunteer(volunteerId).some((entry) => entry.jobId === jobId)) {
      throw new TabreduceError('FORBIDDEN', `this volunteer holds no task of job ${jobId}; a volunteer reads only the code it runs`);
    }
    return this.getSource(jobId);
  }

  getSource(jobId: string): JobSourceReply {
    const { job } = this.#requireRun(jobId);
    return { jobId: job.id, name: job.name, source: job.source, digest: job.sourceDigest, ...(job.submitter ? { submitter: job.submitter } : {}) };
  }

  /** A leased map task's input, for a `FetchedMapInput`: the lease token is the capability, good while the lease lives. */
  leasedInput(leaseToken: string): Promise<Uint8Array> {
    const entry = this.#leases.get(leaseToken);
    if (!entry || entry.task.kind !== 'map') throw new TabreduceError('LEASE_INVALID', 'no live lease on a map task has this token: it ended (done, revoked or expired), or never was');
    return leasedInputBytes(this.store, this.#runs.get(entry.jobId)!.job, entry.task);
  }

  /** A succeeded job's result, to be read a chunk at a time (server/result-data.ts). */
  getResult(jobId: string): StoredResultAtHand {
    const run = this.#requireRun(jobId);
    if (run.job.state.status !== 'succeeded') {
      throw new TabreduceError('CONFLICT', `job ${jobId} is ${this.#summarize(run).state}; a result exists only once it has succeeded`);
    }
    const chunks = this.store.resultChunks(jobId);
    if (chunks === 0) throw new TabreduceError('INTERNAL', `the result of job ${jobId} is missing from the store`);
    return { chunks, chunk: (index) => this.store.getResultChunk(jobId, index) };
  }

  // ── Volunteers ──────────────────────────────────────────────────────────────────

  connect(volunteerId: string, agent: string, slots: number, nowMs: number): void {
    this.#volunteers.connect(volunteerId, agent, slots, nowMs);
    this.listener.changed();
  }

  setSlots(volunteerId: string, slots: number): void {
    const volunteer = this.#volunteers.get(volunteerId);
    if (!volunteer) return;
    volunteer.slots = slots;
    this.listener.changed();
  }

  /** A volunteer went away: its leases are abandoned now, not at their deadline; `reason` says how, for the tasks' error. */
  disconnect(volunteerId: string, nowMs: number, reason = 'the volunteer disconnected'): void {
    if (!this.#volunteers.get(volunteerId)) return;
    for (const entry of this.#leases.ofVolunteer(volunteerId)) this.#abandon(entry.token, reason, nowMs);
    this.#volunteers.delete(volunteerId);
    this.listener.changed();
  }

  cluster(): ClusterSummary {
    return summarizeCluster(this.#volunteers.all(), this.#leases, this.#reputations);
  }

  /** The tasks of jobs still running, by kind and state, for `GET /metrics`. */
  liveTaskCounts(): TaskCounts {
    return countLiveTasks(this.#runs.values(), this.#leases);
  }

  // ── Tasks ───────────────────────────────────────────────────────────────────────

  /**
   * Leases up to `max` tasks to a volunteer, fairly across running jobs. The answer is
   * at hand unless some map input must be read from an uploaded file first; then it
   * is a promise, so the read never blocks the event loop.
   */
  requestTasks(volunteerId: string, max: number, nowMs: number): TaskAssignment[] | Promise<TaskAssignment[]> {
    const volunteer = this.#requireVolunteer(volunteerId);
    this.#reputations.refuseStruckOut(volunteerId);
    // It asks: what it holds now is what it wants, whatever it was asked to hand back.
    volunteer.yieldsAsked = 0;
    const allowed = Math.min(max, fairShare(this.#dispatch, this.#volunteers.size, volunteer.slots));
    const leased: LeasedTask[] = [];
    try {
      while (leased.length < allowed) {
        const picked = takeTask(this.#dispatch, volunteerId, nowMs);
        if (picked) {
          leased.push(this.#lease(picked.run, picked.task, volunteer, nowMs, false));
          continue;
        }
        const slow = pickBackup(this.#dispatch, this.options.backups ?? DEFAULT_BACKUP_POLICY, volunteerId, nowMs);
        if (!slow) break;
        leased.push(this.#lease(slow.run, slow.task, volunteer, nowMs, true));
      }
    } catch (error) {
      // Tasks leased before the failure must reach the volunteer, or they would sit
      // leased to it until their deadline; the failure is a bug, and is reported when
      // nothing was leased.
      if (leased.length === 0) throw error;
    }
    volunteer.hungry = allowed - leased.length;
    if (leased.length > 0) this.listener.changed();
    else if (allowed > 0) this.#askToYield(volunteerId);
    return assignmentsReady(leased, ({ assignment }, error) => {
      this.#abandon(assignment.leaseToken, `the coordinator could not read the task's input: ${error.message}`, nowMs);
      this.listener.changed();
    });
  }

  complete(volunteerId: string, taskId: string, leaseToken: string, output: TaskOutput, nowMs: number): void {
    this.#reputations.refuseStruckOut(volunteerId);
    const { task, jobId } = this.#leases.require(volunteerId, taskId, leaseToken);
    const run = this.#runs.get(jobId)!;
    // Checked before the transition, so a malformed answer leaves the lease live and is
    // refused like any other bad request; the task will be retried elsewhere when the
    // lease lapses.
    const checked = checkOutput(task, run.job, output);
    const policy = this.#policies.of(run.job, task);
    const bytes = outputBytes(output);
    const event: TaskEvent = { type: 'complete', token: leaseToken, digest: policy.replication > 1 ? outputDigest(output) : '', outputBytes: bytes };
    const lease = findLease(task.state, leaseToken);
    const after = this.#nextState(run, task, event, nowMs);
    // The output is stored before the task is marked done, so a crash in between leaves a
    // task that runs again rather than a done task without its output. Under a vote the
    // answer that decides is always one for the winning digest (shared/quorum.ts), so
    // the output in hand is the accepted one.
    if (after.status === 'done') storeOutput(this.store, run.job, task, checked);
    this.#volunteers.recordAnswer(volunteerId, lease ? nowMs - lease.leasedAtMs : undefined, bytes);
    this.#metrics.bytesReceived(bytes);
    run.volunteersUsed.add(volunteerId);
    this.#applyTaskChange(run, task, event, after, nowMs);
    this.listener.changed();
  }

  /** Job code failed (threw, timed out, returned garbage) on a volunteer. */
  fail(volunteerId: string, taskId: string, leaseToken: string, error: TaskError, nowMs: number): void {
    const { task, jobId } = this.#leases.require(volunteerId, taskId, leaseToken);
    const volunteer = this.#volunteers.get(volunteerId);
    if (volunteer) volunteer.tasksFailed++;
    this.#metrics.taskFailed(task.kind);
    this.#move(this.#runs.get(jobId)!, task, { type: 'fail', token: leaseToken, error }, nowMs);
    this.listener.changed();
  }

  /** The ends of a `tasks:report`, each alone: a refused one leaves the others recorded. */
  settle(volunteerId: string, ends: readonly TaskEnd[], nowMs: number): (SettleRefusal | null)[] {
    return ends.map((end) => {
      try {
        if ('output' in end) this.complete(volunteerId, end.taskId, end.leaseToken, end.output, nowMs);
        else this.fail(volunteerId, end.taskId, end.leaseToken, end.error, nowMs);
        return null;
      } catch (error) {
        const refusal = toWireError(error);
        return refusal.code === 'INTERNAL' ? { ...refusal, cause: error } : refusal;
      }
    });
  }

  /**
   * Takes back tasks a volunteer holds but never started (it paused, or took on less):
   * each goes to the front of its queue with no attempt spent, for someone else.
   * Answers the task ids taken back; leases already gone are skipped.
   */
  returnTasks(volunteerId: string, leases: { taskId: string; leaseToken: string }[], nowMs: number): string[] {
    const returned: string[] = [];
    for (const { taskId, leaseToken } of leases) {
      const entry = this.#leases.find(volunteerId, taskId, leaseToken);
      if (!entry) continue;
      this.#move(this.#runs.get(entry.jobId)!, entry.task, { type: 'return', token: leaseToken }, nowMs);
      returned.push(taskId);
    }
    if (returned.length > 0) {
      const volunteer = this.#volunteers.get(volunteerId);
      // It gave work back: it wants none until it asks again.
      if (volunteer) {
        volunteer.hungry = 0;
        volunteer.yieldsAsked = 0;
      }
      this.#wake(returned.length, (other) => other !== volunteerId);
      this.listener.changed();
    }
    return returned;
  }

  /** Renews live leases; returns the task ids renewed and those whose lease is gone. */
  renew(volunteerId: string, leases: { taskId: string; leaseToken: string }[], nowMs: number) {
    const renewed: string[] = [];
    const lost: string[] = [];
    for (const { taskId, leaseToken } of leases) {
      const entry = this.#leases.find(volunteerId, taskId, leaseToken);
      const run = entry && this.#runs.get(entry.jobId)!;
      const event: TaskEvent = { type: 'renew', token: leaseToken, deadlineMs: nowMs + this.options.leaseMs };
      const next = entry && transitionTask(entry.task.state, event, nowMs, this.#policies.of(run!.job, entry.task));
      if (!entry || !next || next instanceof TaskTransitionError) {
        lost.push(taskId);
        continue;
      }
      this.#applyTaskChange(run!, entry.task, event, next, nowMs);
      renewed.push(taskId);
    }
    return { renewed, lost };
  }

  /** On a timer: abandons leases past their deadline, wakes volunteers for tasks out of backoff, forgets jobs past retention. */
  tick(nowMs: number): void {
    for (const entry of this.#leases.all()) {
      const lease = findLease(entry.task.state, entry.token);
      if (lease && nowMs > lease.deadlineMs) {
        this.#metrics.leaseExpired();
        this.#abandon(entry.token, 'the lease expired without an answer', nowMs);
      }
    }
    this.#jobs.dropExpired(this.options.resultRetentionMs ?? 0, nowMs);
    // Retries coming out of backoff, and tasks turning slow enough for a backup copy,
    // appear with the passing of time alone: wake whoever waits for work.
    if (!this.#volunteers.anyWaiting()) return;
    const wake = wakeOnTime(this.#dispatch, this.options.backups ?? DEFAULT_BACKUP_POLICY, nowMs);
    if (wake) this.#wake(wake.leasable, wake.may);
  }

  // ── Task changes ────────────────────────────────────────────────────────────────

  #lease(run: JobRun, task: TaskRecord, volunteer: Volunteer, nowMs: number, backup: boolean): LeasedTask {
    const token = this.options.newLeaseToken();
    if (run.job.state.status === 'queued') this.#jobs.move(run, { type: 'start' }, nowMs);
    // The input first: its size goes with the lease, to the task's metrics (the job report).
    const { leased, bytes } = leasedTask(this.store, run.job, task, token, this.options.taskTimeoutMs);
    const lease: Lease = { token, volunteerId: volunteer.id, leasedAtMs: nowMs, deadlineMs: nowMs + this.options.leaseMs, backup, inputBytes: bytes };
    this.#move(run, task, backup ? { type: 'backup', lease } : { type: 'lease', lease }, nowMs);
    volunteer.bytesSent += bytes;
    this.#metrics.bytesSent(bytes);
    return leased;
  }

  #abandon(token: string, reason: string, nowMs: number): void {
    const entry = this.#leases.get(token);
    if (entry) this.#move(this.#runs.get(entry.jobId)!, entry.task, { type: 'abandon', token, reason }, nowMs);
  }

  #move(run: JobRun, task: TaskRecord, event: TaskEvent, nowMs: number): void {
    this.#applyTaskChange(run, task, event, this.#nextState(run, task, event, nowMs), nowMs);
  }

  #nextState(run: JobRun, task: TaskRecord, event: TaskEvent, nowMs: number): TaskState {
    const next = transitionTask(task.state, event, nowMs, this.#policies.of(run.job, task));
    if (next instanceof TaskTransitionError) throw new TabreduceError('LEASE_INVALID', `task ${task.id}: ${next.message}`);
    return next;
  }

  /**
   * The one place a task changes state: stores it, then brings the lease table, the
   * queue, the waiting volunteers, the other copies' holders and the job up to date,
   * as task-effects.ts derives from the change.
   */
  #applyTaskChange(run: JobRun, task: TaskRecord, event: TaskEvent, after: TaskState, nowMs: number): void {
    const before = task.state;
    task.state = after;
    // Leases do not outlive a restart, and recovery gives a leased task's attempts back: what
    // the store holds from before a lease, a backup copy or a renewal is what recovery would
    // make of the task after it. Storing them was half of every task's writes. A return
    // takes back one lease and its attempt, which recovery gives back anyway (its pending
    // task's notBeforeMs is now, long past at any restart): nothing to store either.
    if (!UNSTORED_EVENTS.has(event.type)) this.store.saveTask(task);
    const effects = deriveTaskEffects(event, before, after, nowMs, this.#policies.of(run.job, task));
    for (const lease of effects.started) {
      this.#leases.add({ token: lease.token, volunteerId: lease.volunteerId, jobId: run.job.id, task });
      if (lease.backup) {
        run.backups.started++;
        this.#metrics.backupStarted();
      }
    }
    if (effects.retried) run.retries++;
    for (const { lease, outcome, revoke } of effects.ended) {
      this.#leases.remove(lease.token);
      if (outcome) recordAttempt(run, task.id, lease, outcome, nowMs);
      if (revoke) this.listener.revoke(lease.volunteerId, [task.id], 'this task has its answer');
    }
    if (effects.enqueue === 'back') run.queue.push(task.index);
    else if (effects.enqueue === 'front') run.queue.pushFront(task.index);
    if (effects.wake === 'any') this.#wake(1);
    else if (effects.wake === 'copy') this.#wake(1, (volunteerId) => mayRunCopy(task.state, volunteerId));
    if (after.status === 'failed') this.#jobs.fail(run, { ...after.error, taskId: task.id }, nowMs);
    else if (after.status === 'done') this.#taskDone(run, task, after, nowMs);
  }

  #taskDone(run: JobRun, task: TaskRecord, done: Extract<TaskState, { status: 'done' }>, nowMs: number): void {
    countDone(run, task.kind, done.durationMs, done.volunteerId, done.byBackup);
    this.#metrics.taskDone(task.kind, done.durationMs);
    if (done.votes && done.digest !== undefined) {
      countVote(run, done.votes, done.digest);
      const lost = losers(done.votes, done.digest);
      this.#metrics.votesLost(lost.length);
      const struckOut = this.#reputations.tally(
        done.votes.map((vote) => vote.volunteerId),
        lost,
      );
      for (const volunteerId of struckOut) this.#strikeOut(volunteerId, nowMs);
    }
    if (isTerminal(run.job.state)) return;
    if (task.kind === 'map' && run.done.map === run.job.mapTasks) {
      // Every map task is done: the job is reducing now (its phase is derived), and its
      // reduce tasks are what it hands out.
      run.queue = queueOfPending(run);
      this.#wake(run.queue.size);
    }
    if (task.kind === 'reduce' && run.done.reduce === run.job.reducers) this.#jobs.finish(run, nowMs);
  }

  /** A commit failed, and the store rolled back its writes to these jobs: they go back to what it holds (recovery.ts). */
  #resync(jobIds: ReadonlySet<string>, error: unknown): void {
    const revoke = (volunteerId: string, taskIds: string[]) => this.listener.revoke(volunteerId, taskIds, "the coordinator could not store this job's progress");
    resyncRuns({ store: this.store, policies: this.#policies, runs: this.#runs, leases: this.#leases }, jobIds, revoke, Date.now());
    this.listener.rolledBack?.(jobIds, error);
    this.#wake(Number.POSITIVE_INFINITY);
    this.listener.changed();
  }

  // ── Volunteers' standing ────────────────────────────────────────────────────────

  /** A volunteer out of strikes loses its work, and is told at once why it gets no more. */
  #strikeOut(volunteerId: string, nowMs: number): void {
    const volunteer = this.#volunteers.get(volunteerId);
    if (!volunteer) return;
    volunteer.hungry = 0;
    const held = this.#leases.ofVolunteer(volunteerId);
    for (const entry of held) this.#abandon(entry.token, 'the volunteer running it was struck out for wrong answers', nowMs);
    if (held.length > 0) this.listener.revoke(volunteerId, held.map((entry) => entry.task.id), 'this volunteer lost too many votes; its results are refused');
    // Woken, it asks for work and hears why there is none, rather than waiting for its next poll.
    this.listener.workAvailable([volunteerId]);
  }

  /** Nothing for this volunteer: a task another holds unstarted may come back for it (dispatch.ts, `pickDonor`). */
  #askToYield(idleId: string): void {
    const donor = pickDonor(this.#dispatch, this.#volunteers, idleId);
    if (!donor) return;
    donor.yieldsAsked++;
    this.listener.yieldTasks(donor.id, 1);
  }

  /** Wakes waiting volunteers, enough of them to take `leasable` tasks; `may` narrows who can take them. */
  #wake(leasable: number, may?: (volunteerId: string) => boolean): void {
    const woken = this.#volunteers.takeWaiting(leasable, (volunteerId) => (!may || may(volunteerId)) && !this.#reputations.isStruckOut(volunteerId));
    if (woken.length > 0) this.listener.workAvailable(woken);
  }

  // ── Lookups ─────────────────────────────────────────────────────────────────────

  #requireRun(jobId: string): JobRun {
    const run = this.#runs.get(jobId);
    if (!run) throw new TabreduceError('NOT_FOUND', `no job ${jobId}`);
    return run;
  }

  #requireVolunteer(volunteerId: string): Volunteer {
    const volunteer = this.#volunteers.get(volunteerId);
    if (!volunteer) throw new TabreduceError('NOT_READY', NOBODY_MESSAGE);
    return volunteer;
  }

  #summarize(run: JobRun): JobSummary {
    return summarizeJob(run, this.#leases.countOfJob(run.job.id));
  }
}
