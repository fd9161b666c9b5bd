/**
 * The scheduler of a coordinator in a cluster: the same service as the single
 * coordinator's (scheduler-service.ts), with every job, task, lease, output and volunteer
 * in PostgreSQL, so that any coordinator of the cluster serves any job. What it keeps in
 * memory is only its own: the volunteers connected to it, and which of them wait for
 * work. Every change is one transaction, and every answer that changes something
 * resolves after its commit: there is no later commit to wait for.
 *
 * Coordinators hear of each other's changes through cluster-events.ts (work to claim,
 * tasks to revoke, dashboards to refresh), and watch each other through a heartbeat: the
 * leases of a coordinator that stopped beating are ended by whichever coordinator sees
 * it first, so its volunteers' tasks run elsewhere when they reconnect.
 *
 * How it differs from the single coordinator: docs/scaling.md.
 */
import { TabreduceError, type TaskError, type WireError } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import { isTerminal, type JobState } from '../../shared/job-lifecycle.ts';
import type { ClusterSummary, JobSummary, KeyValue, TaskSummary } from '../../shared/job.ts';
import type { JobSourceReply, TaskAssignment, TaskOutput } from '../../shared/protocol.ts';
import type { TaskEnd } from '../../shared/task-batch.ts';
import type { InputFiles } from '../input-files.ts';
import type { JobPlan } from '../job-planner.ts';
import type { Logger } from '../logger.ts';
import { chunksOf, resultEntries, type StoredResult } from '../result-data.ts';
import type { SchedulerService } from '../scheduler-service.ts';
import { DEFAULT_BACKUP_POLICY, shareOfQueue, type BackupPolicy } from '../scheduler/dispatch.ts';
import { DEFAULT_MAX_STRIKES } from '../scheduler/reputation.ts';
import { NO_METRICS, type SchedulerListener, type SchedulerMetrics } from '../scheduler/scheduler-options.ts';
import type { TaskCounts } from '../scheduler/summaries.ts';
import { TaskPolicies } from '../scheduler/task-policy.ts';
import type { JobRecord } from '../store/job-store.ts';
import { claimBatch, settleBatch, type BatchContext, type ClaimBatchRequest, type ReportBatchRequest } from './batch-transactions.ts';
import { Batches } from './batches.ts';
import type { Claimed, ClaimScope } from './claims.ts';
import { ClusterEventListener, publish, type ClusterEvent } from './cluster-events.ts';
import { ClusterUploads, inlineFileInput } from './cluster-uploads.ts';
import { readCluster, readLeasedInput, readLeaseHolders, readLiveTaskCounts, readQueueShare, readResult, readTasks, type QueueShare } from './cluster-reads.ts';
import { openDatabase, type Database } from './database.ts';
import { JobCatalog } from './job-catalog.ts';
import { endLeases, renewLeases, type RenewalRequest, type Settled } from './lease-ends.ts';
import { pickDonor } from './donors.ts';
import { countSlowTasks } from './slow-tasks.ts';
import { beat, dropExpiredJobs, sweepDeadCoordinators, sweepExpiredLeases } from './sweeps.ts';
import { endJob, settleAwaitingJobs } from './job-ends.ts';

export interface ClusterSchedulerOptions {
  /** This coordinator's id in the cluster: new at every start. */
  coordinatorId: string;
  databaseUrl: string;
  leaseMs: number;
  taskTimeoutMs: number;
  backoffMs?: (attemptsStarted: number) => number;
  resultRetentionMs?: number;
  maxStrikes?: number;
  /** When a running task gets a backup copy on an idle volunteer (scheduler/dispatch.ts); the single coordinator's default if absent. */
  backups?: BackupPolicy;
  /** The largest volunteer message: a pipeline's map tasks, planned when its input job ends, must fit it. */
  maxMessageBytes?: number;
  /** A coordinator whose last heartbeat (every tick) is older than this is dead, and its leases end. */
  coordinatorTimeoutMs: number;
  metrics?: SchedulerMetrics;
  newLeaseToken: () => string;
  log: Logger;
}

/** Claims, and reports, in one transaction at most; and batches of each kind in flight at once (batches.ts). */
const BATCH_REQUESTS = 500;
const BATCHES_RUNNING = 2;

/** Slow tasks counted per sweep, at most: how many idle volunteers one sweep may wake for backup copies. */
const SLOW_TASKS_COUNTED = 64;

/** Least time between two searches for a volunteer to hand back a task (work stealing), per coordinator. */
const DONOR_SEARCH_INTERVAL_MS = 100;


interface LocalVolunteer {
  agent: string;
  connectedAtMs: number;
  slots: number;
  /** It asked for more than it got: told when work comes. */
  hungry: boolean;
}

export class ClusterScheduler implements SchedulerService {
  readonly #local = new Map<string, LocalVolunteer>();
  readonly #catalog = new JobCatalog();
  readonly #policies: TaskPolicies;
  readonly #metrics: SchedulerMetrics;
  readonly #maxStrikes: number;
  readonly #events: ClusterEventListener;
  /**
   * The queue a volunteer's share is cut from, read at every tick and when work comes
   * rather than in every claim: without a cap the first volunteer to ask took whole runs
   * of a job (up to 4,096 tasks), and results reached the cluster in bursts.
   */
  #queue: QueueShare = { queued: 0, volunteers: 1 };
  /** Tasks slow enough for a backup copy at the last sweep (counted up to a bound): claims look for them only then. */
  #slowTasks = 0;
  #lastDonorSearchMs = Number.NEGATIVE_INFINITY;

  /** Volunteers' claims and reports, a transaction per batch of those that arrive together. */
  readonly #claims = new Batches<ClaimBatchRequest, Claimed>(
    (requests) => claimBatch(this.#batchContext, requests),
    BATCH_REQUESTS,
    BATCHES_RUNNING,
  );
  readonly #reports = new Batches<ReportBatchRequest, Settled>(
    (reports) => settleBatch(this.#batchContext, reports),
    BATCH_REQUESTS,
    BATCHES_RUNNING,
  );

  /**
   * Renewals, and volunteers' reads of the code they run, a statement per batch on the
   * shared pool: a crowd starting a job asks for its code thousands at once, and each
   * held a connection of the pool for one query, queueing the API behind it.
   */
  readonly #renewals = new Batches<RenewalRequest, { renewed: string[]; lost: string[] }>((requests) => renewLeases(this.db, requests), BATCH_REQUESTS, BATCHES_RUNNING);
  readonly #sourceChecks = new Batches<{ volunteerId: string; jobId: string }, boolean>((requests) => readLeaseHolders(this.db, requests), BATCH_REQUESTS, BATCHES_RUNNING);

  /**
   * The batches' own connections: in the shared pool they queued behind every single
   * query (the API, hellos; renewals and job sources before those were batched too),
   * thousands of them with a crowd.
   */
  readonly #batchDb: Database;
  /**
   * The timer's connections: a heartbeat queued behind a crowd's requests came late enough
   * for the other coordinators to take this one for dead (2 coordinators, 5,000 volunteers:
   * 632 answers refused, their leases given back).
   */
  readonly #sweepDb: Database;

  /** Uploads, kept in the database; and the scratch directory the planner cuts them in. */
  readonly uploads: ClusterUploads;

  private constructor(
    private readonly db: Database,
    private readonly scratch: InputFiles,
    private readonly options: ClusterSchedulerOptions,
    private readonly listener: SchedulerListener,
  ) {
    this.uploads = new ClusterUploads(db);
    this.#batchDb = openDatabase(options.databaseUrl, { maxConnections: 2 * BATCHES_RUNNING });
    this.#sweepDb = openDatabase(options.databaseUrl, { maxConnections: 2 });
    this.#policies = new TaskPolicies(options.backoffMs);
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#maxStrikes = options.maxStrikes ?? DEFAULT_MAX_STRIKES;
    this.#events = new ClusterEventListener(options.databaseUrl, (event) => this.#heard(event), () => this.#wakeAll(), options.log);
  }

  /** Joins the cluster: lists this coordinator and listens for the others. The schema must be migrated. */
  static async start(db: Database, scratch: InputFiles, options: ClusterSchedulerOptions, listener: SchedulerListener): Promise<ClusterScheduler> {
    const scheduler = new ClusterScheduler(db, scratch, options, listener);
    await scheduler.#beat();
    await scheduler.#events.start();
    await scheduler.#readQueue();
    return scheduler;
  }

  /** Leaves the cluster: its volunteers' leases end now, rather than when the others notice its silence. */
  async close(): Promise<void> {
    await this.#events.close();
    for (const volunteerId of [...this.#local.keys()]) await this.disconnect(volunteerId, Date.now(), 'the coordinator this volunteer was connected to shut down');
    await this.db.query('DELETE FROM coordinators WHERE id = $1', [this.options.coordinatorId]);
    await this.#batchDb.close();
    await this.#sweepDb.close();
  }

  get #batchContext(): BatchContext {
    return { db: this.#batchDb, scope: this.#scope, maxStrikes: this.#maxStrikes, isLocal: (volunteerId) => this.#local.has(volunteerId) };
  }

  get #scope(): ClaimScope {
    return {
      coordinatorId: this.options.coordinatorId,
      policies: this.#policies,
      maxStrikes: this.#maxStrikes,
      catalog: this.#catalog,
      leaseMs: this.options.leaseMs,
      taskTimeoutMs: this.options.taskTimeoutMs,
      newLeaseToken: this.options.newLeaseToken,
      backups: this.options.backups ?? DEFAULT_BACKUP_POLICY,
      ...(this.options.maxMessageBytes !== undefined ? { maxMessageBytes: this.options.maxMessageBytes } : {}),
      slowTasksSeen: this.#slowTasks > 0,
    };
  }

  // ── Jobs ────────────────────────────────────────────────────────────────────────

  /**
   * Stores a planned job whole, in one transaction, with the uploads it reads used up in
   * the same one. A `files` input was planned from a scratch copy of its uploads
   * (cluster-uploads.ts): its splits' bytes go into the database with the job, read a
   * statement's worth at a time, and the scratch copy goes either way.
   */
  async submitInTurns(plan: JobPlan, nowMs: number): Promise<JobRecord> {
    try {
      const job = await this.db.transaction(async (sql) => {
        if (plan.uploadIds) await this.uploads.claim(sql, plan.uploadIds);
        // The awaited job's row is locked first: the transaction that ends it then sees this
        // job, or this one sees it ended and settles this job now (an input gone, or a result).
        if (plan.awaiting) await sql.query('SELECT 1 FROM jobs WHERE id = $1 FOR NO KEY UPDATE', [plan.awaiting.jobId]);
        const stored = await this.#catalog.insert(sql, plan, nowMs, inlineFileInput);
        const settled = plan.awaiting ? await settleAwaitingJobs(sql, this.#scope, plan.awaiting.jobId, nowMs, () => this.#resultPairs(plan.awaiting!.jobId)) : [];
        await publish(sql, [{ type: 'work' }, { type: 'changed' }, ...settled]);
        return stored;
      });
      this.#catalog.remember(job);
      return job;
    } finally {
      this.scratch.release(plan.id);
    }
  }

  async cancel(jobId: string, nowMs: number): Promise<JobSummary> {
    await this.db.transaction(async (sql) => {
      const found = await sql.query<{ state: JobState }>('SELECT state FROM jobs WHERE id = $1 FOR UPDATE', [jobId]);
      const state = found.rows[0]?.state;
      if (!state) throw new TabreduceError('NOT_FOUND', `no job ${jobId}`);
      if (isTerminal(state)) throw new TabreduceError('CONFLICT', `job ${jobId} is already ${state.status}`);
      await publish(sql, await endJob(sql, this.#scope, jobId, state, { type: 'cancel' }, nowMs));
    });
    return (await this.getJob(jobId))!;
  }

  async getJob(jobId: string): Promise<JobSummary | undefined> {
    return (await this.#catalog.summaries(this.db, jobId))[0];
  }

  async listJobs(): Promise<JobSummary[]> {
    return this.#catalog.summaries(this.db);
  }

  async getTasks(jobId: string): Promise<TaskSummary[]> {
    await this.#requireJob(jobId);
    return readTasks(this.db, jobId);
  }

  async getSourceForVolunteer(volunteerId: string, jobId: string): Promise<JobSourceReply> {
    this.#requireLocal(volunteerId);
    if (!(await this.#sourceChecks.submit({ volunteerId, jobId }))) {
      throw new TabreduceError('FORBIDDEN', `this volunteer holds no task of job ${jobId}; a volunteer reads only the code it runs`);
    }
    return this.getSource(jobId);
  }

  async getSource(jobId: string): Promise<JobSourceReply> {
    const job = await this.#requireJob(jobId);
    return { jobId: job.id, name: job.name, source: job.source, digest: job.sourceDigest, ...(job.submitter ? { submitter: job.submitter } : {}) };
  }

  leasedInput(leaseToken: string): Promise<Uint8Array> {
    return readLeasedInput(this.db, this.#catalog, leaseToken);
  }

  /** A succeeded job's result as pairs, whole: a pipeline's input. */
  async #resultPairs(jobId: string): Promise<KeyValue[]> {
    const stored = await readResult(this.db, jobId);
    const chunks: Uint8Array[] = [];
    for (let index = 0; index < stored.chunks; index++) chunks.push(await stored.chunk(index));
    return [...resultEntries(chunksOf({ chunks: chunks.length, chunk: (index) => chunks[index]! }))];
  }

  async getResult(jobId: string): Promise<StoredResult> {
    const summary = await this.getJob(jobId);
    if (!summary) throw new TabreduceError('NOT_FOUND', `no job ${jobId}`);
    if (summary.state !== 'succeeded') throw new TabreduceError('CONFLICT', `job ${jobId} is ${summary.state}; a result exists only once it has succeeded`);
    return readResult(this.db, jobId);
  }

  // ── Volunteers ──────────────────────────────────────────────────────────────────

  async connect(volunteerId: string, agent: string, slots: number, nowMs: number): Promise<void> {
    const volunteer: LocalVolunteer = { agent, slots, connectedAtMs: nowMs, hungry: false };
    await this.#list(volunteerId, volunteer);
    this.#local.set(volunteerId, volunteer);
    await this.#announce({ type: 'changed' });
  }

  /** Lists a volunteer of this coordinator in the cluster (again, after this coordinator was taken for dead). */
  async #list(volunteerId: string, volunteer: LocalVolunteer): Promise<void> {
    await this.db.query(
      `INSERT INTO volunteers (id, coordinator_id, agent, slots, connected_at_ms) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET coordinator_id = EXCLUDED.coordinator_id, agent = EXCLUDED.agent, slots = EXCLUDED.slots`,
      [volunteerId, this.options.coordinatorId, volunteer.agent, volunteer.slots, volunteer.connectedAtMs],
    );
  }

  async setSlots(volunteerId: string, slots: number): Promise<void> {
    const volunteer = this.#local.get(volunteerId);
    if (!volunteer) return;
    volunteer.slots = slots;
    await this.db.query('UPDATE volunteers SET slots = $2 WHERE id = $1', [volunteerId, slots]);
    await this.#announce({ type: 'changed' });
  }

  async disconnect(volunteerId: string, nowMs: number, reason = 'the volunteer disconnected'): Promise<void> {
    if (!this.#local.delete(volunteerId)) return;
    await this.db.transaction(async (sql) => {
      const held = await sql.query<{ token: string }>('SELECT token FROM leases WHERE volunteer_id = $1', [volunteerId]);
      const ended = await endLeases(sql, this.#scope, held.rows.map((row) => row.token), (token) => ({ type: 'abandon', token, reason }), nowMs);
      await sql.query('DELETE FROM volunteers WHERE id = $1', [volunteerId]);
      await publish(sql, [...ended.events, { type: 'changed' }]);
    });
  }

  cluster(): Promise<ClusterSummary> {
    return readCluster(this.db, this.#maxStrikes);
  }

  liveTaskCounts(): Promise<TaskCounts> {
    return readLiveTaskCounts(this.db);
  }

  // ── Tasks ───────────────────────────────────────────────────────────────────────

  async requestTasks(volunteerId: string, max: number, nowMs: number): Promise<TaskAssignment[]> {
    const volunteer = this.#requireLocal(volunteerId);
    const allowed = Math.min(max, shareOfQueue(this.#queue.queued, this.#queue.volunteers, volunteer.slots));
    const claimed = await this.#claims.submit({ volunteerId, max: allowed, nowMs });
    const assignments = await claimed.assignments;
    this.#metrics.bytesSent(claimed.bytes);
    // Fewer than it asked for: it waits, and is told when work comes.
    volunteer.hungry = assignments.length < max;
    // Nothing at all: someone holding more than it runs is asked to hand one back. Not awaited: the answer is this reply's, not the donor's.
    if (assignments.length === 0) void this.#askToYield(volunteerId);
    return assignments;
  }

  async complete(volunteerId: string, taskId: string, leaseToken: string, output: TaskOutput, nowMs: number): Promise<void> {
    await this.#settleOne(volunteerId, { taskId, leaseToken, output }, nowMs);
  }

  async fail(volunteerId: string, taskId: string, leaseToken: string, error: TaskError, nowMs: number): Promise<void> {
    await this.#settleOne(volunteerId, { taskId, leaseToken, error }, nowMs);
  }

  /** Records a volunteer's reported ends in one transaction, each judged alone; resolves once they are committed. */
  async settle(volunteerId: string, ends: readonly TaskEnd[], nowMs: number): Promise<(WireError | null)[]> {
    this.#requireLocal(volunteerId);
    const settled = await this.#reports.submit({ volunteerId, ends, nowMs });
    this.#metrics.bytesReceived(settled.bytesReceived);
    for (const { kind, durationMs } of settled.finished) this.#metrics.taskDone(kind, durationMs);
    return settled.outcomes;
  }

  async returnTasks(volunteerId: string, leases: { taskId: string; leaseToken: string }[], nowMs: number): Promise<string[]> {
    const volunteer = this.#requireLocal(volunteerId);
    const returned = await this.db.transaction(async (sql) => {
      const tokens = leases.map((lease) => lease.leaseToken);
      const ended = await endLeases(sql, this.#scope, tokens, (token) => ({ type: 'return', token }), nowMs, { volunteerId });
      // Handed back, the tasks go first in their queues, for someone else.
      await publish(sql, [...ended.events, ...(ended.taskIds.length > 0 ? [{ type: 'work' } as const] : [])]);
      return ended.taskIds;
    });
    // It gave work back: it wants none until it asks again.
    if (returned.length > 0) volunteer.hungry = false;
    return returned;
  }

  renew(volunteerId: string, leases: { taskId: string; leaseToken: string }[], nowMs: number): Promise<{ renewed: string[]; lost: string[] }> {
    this.#requireLocal(volunteerId);
    return this.#renewals.submit({ volunteerId, leases, nowMs, deadlineMs: nowMs + this.options.leaseMs });
  }

  /**
   * On a timer: beats this coordinator's heart, ends the leases of coordinators that
   * stopped beating and those past their deadline, forgets jobs past retention, and wakes
   * waiting volunteers for retries out of backoff. The caller runs one tick at a time
   * (coordinator.ts skips a tick while the last is pending).
   */
  async tick(nowMs: number): Promise<void> {
    await this.#beat();
    if (await sweepDeadCoordinators(this.#sweepDb, this.#scope, this.options.coordinatorTimeoutMs, nowMs)) await this.#announce({ type: 'changed' });
    const expired = await sweepExpiredLeases(this.#sweepDb, this.#scope, nowMs);
    for (let index = 0; index < expired; index++) this.#metrics.leaseExpired();
    const dropped = await dropExpiredJobs(this.#sweepDb, this.options.resultRetentionMs ?? 0, nowMs);
    if (dropped.length > 0) {
      this.#catalog.forget(dropped);
      await this.#announce({ type: 'changed' });
    }
    await this.#readQueue();
    if (![...this.#local.values()].some((volunteer) => volunteer.hungry)) return;
    if (await this.#anyClaimable(nowMs)) {
      this.#slowTasks = 0;
      return this.#wakeAll();
    }
    // Only as many as there are slow tasks: with a crowd waiting, waking all of them for one copy would be a storm of claims.
    this.#slowTasks = await countSlowTasks(this.#sweepDb, this.#scope.backups, nowMs, SLOW_TASKS_COUNTED);
    if (this.#slowTasks > 0) this.#wake(this.#slowTasks);
  }

  /** Beats this coordinator's heart; listed again after it was taken for dead, its volunteers are too. */
  async #beat(): Promise<void> {
    if (!(await beat(this.#sweepDb, this.options.coordinatorId)) || this.#local.size === 0) return;
    // Their leases were ended by whoever removed this coordinator, and the holders told; they stay connected here.
    this.options.log.warn({ coordinatorId: this.options.coordinatorId, volunteers: this.#local.size }, 'this coordinator was taken for dead by another and rejoins the cluster');
    for (const [volunteerId, volunteer] of this.#local) await this.#list(volunteerId, volunteer);
  }

  async #readQueue(): Promise<void> {
    this.#queue = await readQueueShare(this.#sweepDb, LIMITS.tasksPerMessage);
  }

  async #anyClaimable(nowMs: number): Promise<boolean> {
    const found = await this.#sweepDb.query(
      `SELECT 1 FROM jobs j JOIN tasks t ON t.job_id = j.id WHERE j.status IN ('queued', 'running') AND ((t.status = 'pending' AND t.ready_at_ms <= $1) OR t.copy_wanted) LIMIT 1`,
      [nowMs],
    );
    return (found.rowCount ?? 0) > 0;
  }

  // ── Helpers ─────────────────────────────────────────────────────────────────────

  async #settleOne(volunteerId: string, end: TaskEnd, nowMs: number): Promise<void> {
    const [outcome] = await this.settle(volunteerId, [end], nowMs);
    if (outcome) throw new TabreduceError(outcome.code, outcome.message);
  }

  async #askToYield(idleId: string): Promise<void> {
    // A crowd idle at a phase's end asks for work by the thousand: one search per interval is enough to find the donor.
    const nowMs = Date.now();
    if (nowMs - this.#lastDonorSearchMs < DONOR_SEARCH_INTERVAL_MS) return;
    this.#lastDonorSearchMs = nowMs;
    try {
      const donor = await pickDonor(this.db, idleId);
      if (donor) await this.#announce({ type: 'yield', volunteerId: donor, max: 1 });
    } catch (error) {
      this.options.log.warn({ err: error, volunteerId: idleId }, 'looking for a volunteer to hand back a task failed');
    }
  }

  /** An event for every coordinator, this one included, outside any transaction. */
  async #announce(event: ClusterEvent): Promise<void> {
    await this.db.transaction((sql) => publish(sql, [event]));
  }

  #heard(event: ClusterEvent): void {
    switch (event.type) {
      case 'work':
        // The share is read anew first, or the woken would be cut to their slots by a queue counted before the work came.
        return void this.#readQueue().then(
          () => this.#wakeAll(),
          (error: unknown) => {
            this.options.log.warn({ err: error }, 'reading the queue for fair shares failed; waking volunteers with the last count');
            this.#wakeAll();
          },
        );
      case 'revoke':
        if (this.#local.has(event.volunteerId)) this.listener.revoke(event.volunteerId, event.taskIds, event.reason);
        return;
      case 'yield':
        if (this.#local.has(event.volunteerId)) this.listener.yieldTasks(event.volunteerId, event.max);
        return;
      case 'changed':
        return this.listener.changed();
    }
  }

  /** Tells every volunteer here that waits for work to ask again; those that find none wait again. */
  #wakeAll(): void {
    this.#wake(Number.POSITIVE_INFINITY);
  }

  /** Tells up to `count` volunteers here that wait for work to ask again. */
  #wake(count: number): void {
    const woken: string[] = [];
    for (const [volunteerId, volunteer] of this.#local) {
      if (woken.length >= count) break;
      if (!volunteer.hungry) continue;
      volunteer.hungry = false;
      woken.push(volunteerId);
    }
    if (woken.length > 0) this.listener.workAvailable(woken);
  }

  #requireLocal(volunteerId: string): LocalVolunteer {
    const volunteer = this.#local.get(volunteerId);
    if (!volunteer) throw new TabreduceError('NOT_READY', 'say volunteer:hello before asking for work');
    return volunteer;
  }

  async #requireJob(jobId: string): Promise<JobRecord> {
    const job = await this.#catalog.get(this.db, jobId);
    if (!job) throw new TabreduceError('NOT_FOUND', `no job ${jobId}`);
    return job;
  }
}
