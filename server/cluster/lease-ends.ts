/**
 * How cluster leases end: a volunteer's answers and failures (`settle`), tasks it hands
 * back unstarted, and leases lost (its disconnect, a deadline passed, its coordinator
 * dead). Each locks the tasks' rows in one statement, in key order so that two
 * transactions never wait on each other in a circle, reads their states there, applies
 * the task transition to each, and stores the lot through task-changes.ts. A lease is
 * live while its task's state holds it: the state is the truth, the lease table its index.
 */
import { TabreduceError, type WireError } from '../../shared/errors.ts';
import type { TaskEnd } from '../../shared/task-batch.ts';
import { findLease, transitionTask, TaskTransitionError, type Lease, type TaskEvent, type TaskState } from '../../shared/task.ts';
import { checkOutput, outputBytes, type CheckedOutput } from '../scheduler/task-data.ts';
import type { JobRecord, TaskRecord } from '../store/job-store.ts';
import { outputDigest } from '../verification.ts';
import type { ClusterEvent } from './cluster-events.ts';
import type { Sql } from './database.ts';
import type { JobCatalog } from './job-catalog.ts';
import { revocations } from './job-ends.ts';
import { applyTaskChanges, type ChangeScope, type TaskChange } from './task-changes.ts';

export interface LeaseScope extends ChangeScope {
  catalog: JobCatalog;
}


interface HeldRow {
  token: string;
  /** The lease row's deadline: renewals move it, not the one in the task's state. */
  deadline_ms: number;
  volunteer_id: string;
  job_id: string;
  kind: 'map' | 'reduce';
  idx: number;
  id: string;
  state: TaskState;
  /** Its job's status as this transaction read it: a lease of an ended job only goes. */
  job_status: string;
}

/** What one volunteer's report did: per end, null or why it was refused; and what the volunteer's counters gain. */
export interface Settled {
  outcomes: (WireError | null)[];
  done: number;
  failed: number;
  answeredMs: number;
  answers: number;
  bytesReceived: number;
  /** Per task kind, the duration of each task this made done (for the metrics). */
  finished: { kind: 'map' | 'reduce'; durationMs: number }[];
}

const NO_LEASE: WireError = { code: 'LEASE_INVALID', message: 'no live lease has this token: the task has its answer, was revoked, or the lease expired' };

/** Locks the rows of the tasks these leases are on, and answers them by token. */
async function lockHeld(sql: Sql, tokens: readonly string[], skipLocked = false): Promise<Map<string, HeldRow>> {
  const held = await sql.query<HeldRow>(
    `SELECT l.token, l.deadline_ms, l.volunteer_id, t.job_id, t.kind, t.idx, t.id, t.state, j.status AS job_status
     FROM leases l JOIN tasks t USING (job_id, kind, idx) JOIN jobs j ON j.id = t.job_id
     WHERE l.token = ANY($1::text[]) ORDER BY t.job_id, t.kind, t.idx FOR UPDATE OF t${skipLocked ? ' SKIP LOCKED' : ''}`,
    [[...tokens]],
  );
  return new Map(held.rows.map((row) => [row.token, row]));
}

const ENDED_STATUSES = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Leaves out of `held` the leases of jobs that ended, and deletes their rows: ending a job
 * skips the leases that transactions in flight hold (job-ends.ts endJob), and these
 * are those, met again by the transaction's next try. Answers the tokens left out.
 */
async function dropEnded(sql: Sql, held: Map<string, HeldRow>): Promise<Map<string, string>> {
  const ended = new Map<string, string>();
  for (const [token, row] of held) {
    if (!ENDED_STATUSES.has(row.job_status)) continue;
    ended.set(token, `job ${row.job_id} is ${row.job_status}: its tasks take no more answers`);
    held.delete(token);
  }
  if (ended.size > 0) await sql.query('DELETE FROM leases WHERE token = ANY($1::text[])', [[...ended.keys()]]);
  return ended;
}

/**
 * Records the reported ends of many volunteers in one transaction, each end judged alone
 * (a task reported twice sees the state the first report left): their tasks' rows locked
 * in one statement, and the changes stored (the job rows' counters among them) once for all.
 */
export async function settleEnds(
  sql: Sql,
  scope: LeaseScope,
  reports: readonly { volunteerId: string; ends: readonly TaskEnd[] }[],
  nowMs: number,
): Promise<{ each: Settled[]; events: ClusterEvent[] }> {
  const held = await lockHeld(sql, reports.flatMap(({ ends }) => ends.map((end) => end.leaseToken)));
  const ended = await dropEnded(sql, held);
  const tasks = new Map<string, { job: JobRecord; task: TaskRecord }>();
  const changes: TaskChange[] = [];
  const each: Settled[] = [];
  for (const { volunteerId, ends } of reports) {
    const settled: Settled = { outcomes: [], done: 0, failed: 0, answeredMs: 0, answers: 0, bytesReceived: 0, finished: [] };
    each.push(settled);
    for (const end of ends) {
      const endedWhy = ended.get(end.leaseToken);
      if (endedWhy !== undefined) {
        settled.outcomes.push({ code: 'LEASE_INVALID', message: endedWhy });
        continue;
      }
      const row = held.get(end.leaseToken);
      if (!row || row.volunteer_id !== volunteerId || row.id !== end.taskId) {
        settled.outcomes.push(NO_LEASE);
        continue;
      }
      try {
        const entry = tasks.get(row.id) ?? { job: await requireJob(sql, scope, row.job_id), task: taskOf(row, held) };
        tasks.set(row.id, entry);
        const { job, task } = entry;
        const lease = findLease(task.state, end.leaseToken);
        let event: TaskEvent;
        let output: CheckedOutput | undefined;
        if ('output' in end) {
          // Checked before the transition: a malformed answer leaves the lease live, refused like any bad request.
          output = checkOutput(task, job, end.output);
          const bytes = outputBytes(end.output);
          const replicated = scope.policies.of(job, task).replication > 1;
          event = { type: 'complete', token: end.leaseToken, digest: replicated ? outputDigest(end.output) : '', outputBytes: bytes };
          settled.bytesReceived += bytes;
          if (lease) {
            settled.answeredMs += nowMs - lease.leasedAtMs;
            settled.answers++;
          }
        } else {
          event = { type: 'fail', token: end.leaseToken, error: end.error };
          settled.failed++;
        }
        const after = transitionTask(task.state, event, nowMs, scope.policies.of(job, task));
        if (after instanceof TaskTransitionError) throw new TabreduceError('LEASE_INVALID', `task ${task.id}: ${after.message}`);
        // Under a vote the answer that decides is one for the winning digest, so the output in hand is the accepted one.
        changes.push({ job, task: { ...task }, event, after, ...(after.status === 'done' && output ? { output } : {}) });
        if (after.status === 'done') {
          settled.done++;
          settled.finished.push({ kind: task.kind, durationMs: after.durationMs });
        }
        task.state = after;
        settled.outcomes.push(null);
      } catch (error) {
        if (!(error instanceof TabreduceError)) throw error;
        settled.outcomes.push(error.toWire());
      }
    }
  }
  const events = await applyTaskChanges(sql, scope, changes, nowMs);
  return { each, events };
}

/**
 * Ends leases with one event each (`return`, `abandon`), skipping those already gone;
 * answers the task ids whose lease it ended. With `skipLocked`, a task whose row another
 * transaction holds is left to that one (the expiry sweep: the holder may be its answer);
 * with `tellHolders`, the volunteers whose leases ended are told why.
 */
export async function endLeases(
  sql: Sql,
  scope: LeaseScope,
  tokens: readonly string[],
  eventOf: (token: string) => TaskEvent,
  nowMs: number,
  options: { volunteerId?: string; skipLocked?: boolean; expiredBefore?: number; tellHolders?: string } = {},
): Promise<{ taskIds: string[]; events: ClusterEvent[] }> {
  if (tokens.length === 0) return { taskIds: [], events: [] };
  const held = await lockHeld(sql, tokens, options.skipLocked);
  await dropEnded(sql, held);
  if (options.expiredBefore !== undefined) {
    // A renewal may have committed since the sweep looked: only leases still past their deadline end.
    const still = await sql.query<{ token: string }>('SELECT token FROM leases WHERE token = ANY($1::text[]) AND deadline_ms < $2', [[...held.keys()], options.expiredBefore]);
    const expired = new Set(still.rows.map((row) => row.token));
    for (const token of held.keys()) if (!expired.has(token)) held.delete(token);
  }
  const tasks = new Map<string, { job: JobRecord; task: TaskRecord }>();
  const changes: TaskChange[] = [];
  const taskIds: string[] = [];
  const endedRows: HeldRow[] = [];
  for (const [token, row] of held) {
    if (options.volunteerId !== undefined && row.volunteer_id !== options.volunteerId) continue;
    const entry = tasks.get(row.id) ?? { job: await requireJob(sql, scope, row.job_id), task: taskOf(row, held) };
    tasks.set(row.id, entry);
    const event = eventOf(token);
    const after = transitionTask(entry.task.state, event, nowMs, scope.policies.of(entry.job, entry.task));
    if (after instanceof TaskTransitionError) continue;
    changes.push({ job: entry.job, task: { ...entry.task }, event, after });
    entry.task.state = after;
    taskIds.push(row.id);
    endedRows.push(row);
  }
  const events = await applyTaskChanges(sql, scope, changes, nowMs);
  // A holder that may still be running its task (its coordinator was only taken for dead) is told to drop it.
  if (options.tellHolders !== undefined) events.push(...revocations(endedRows, options.tellHolders));
  return { taskIds, events };
}

/** One volunteer's renewal: its leases to carry to `deadlineMs`, as of `nowMs`. */
export interface RenewalRequest {
  volunteerId: string;
  leases: readonly { taskId: string; leaseToken: string }[];
  nowMs: number;
  deadlineMs: number;
}

/**
 * Renews the leases still live, for many volunteers in one statement. Answers, per
 * request, the task ids renewed and those whose lease is gone (or is another volunteer's).
 * The rows are locked in token order, so two batches never wait on each other in a
 * circle (a deadlock with another writer is PostgreSQL's to break: the renewal fails,
 * and the volunteer renews again at its next heartbeat).
 */
export async function renewLeases(sql: Sql, requests: readonly RenewalRequest[]): Promise<{ renewed: string[]; lost: string[] }[]> {
  // One row per lease and volunteer: a lease named twice (two renewals of one volunteer
  // in one batch) is checked at the earlier time and carried to the later deadline, as the
  // two one after the other would; in one UPDATE, PostgreSQL would take either row.
  const asked = new Map<string, { token: string; volunteerId: string; nowMs: number; deadlineMs: number }>();
  for (const { volunteerId, leases, nowMs, deadlineMs } of requests) {
    for (const { leaseToken: token } of leases) {
      const key = JSON.stringify([volunteerId, token]);
      const seen = asked.get(key);
      if (seen) asked.set(key, { token, volunteerId, nowMs: Math.min(seen.nowMs, nowMs), deadlineMs: Math.max(seen.deadlineMs, deadlineMs) });
      else asked.set(key, { token, volunteerId, nowMs, deadlineMs });
    }
  }
  const live = new Set<string>();
  if (asked.size > 0) {
    const rows = [...asked.values()];
    const renewedRows = await sql.query<{ token: string; volunteer_id: string }>(
      // The lease row's deadline is the one that counts: a task's stored state keeps the deadline its lease started with.
      // One already past it is lost, swept or not: renewing it would revive a task the sweep may be handing to another.
      `WITH asked AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS a(token, volunteer_id, now_ms, deadline_ms)),
         locked AS (
           SELECT l.token, asked.deadline_ms FROM leases l JOIN asked ON l.token = asked.token AND l.volunteer_id = asked.volunteer_id
           WHERE l.deadline_ms >= asked.now_ms ORDER BY l.token FOR UPDATE OF l)
       UPDATE leases l SET deadline_ms = locked.deadline_ms FROM locked WHERE l.token = locked.token RETURNING l.token, l.volunteer_id`,
      [rows.map((row) => row.token), rows.map((row) => row.volunteerId), rows.map((row) => row.nowMs), rows.map((row) => row.deadlineMs)],
    );
    // Keyed by holder too: a volunteer naming another's lease is told it lost it, even when the holder renewed it in the same batch.
    for (const row of renewedRows.rows) live.add(JSON.stringify([row.volunteer_id, row.token]));
  }
  return requests.map((request) => {
    const renewed: string[] = [];
    const lost: string[] = [];
    for (const lease of request.leases) (live.has(JSON.stringify([request.volunteerId, lease.leaseToken])) ? renewed : lost).push(lease.taskId);
    return { renewed, lost };
  });
}

/**
 * The task as locked, its leases' deadlines the renewed ones from the lease rows, which the
 * transition checks: every lease of the task named in this batch, not only the first one met.
 */
function taskOf(row: HeldRow, held: ReadonlyMap<string, HeldRow>): TaskRecord {
  const renewed = (lease: Lease): Lease => {
    const leaseRow = held.get(lease.token);
    return leaseRow ? { ...lease, deadlineMs: leaseRow.deadline_ms } : lease;
  };
  const state: TaskState = row.state.status === 'leased' ? { ...row.state, leases: row.state.leases.map(renewed) } : row.state;
  return { id: row.id, jobId: row.job_id, kind: row.kind, index: row.idx, state };
}

async function requireJob(sql: Sql, scope: LeaseScope, jobId: string): Promise<JobRecord> {
  const job = await scope.catalog.get(sql, jobId);
  if (!job) throw new TabreduceError('INTERNAL', `a lease names job ${jobId}, which the database does not hold`);
  return job;
}
