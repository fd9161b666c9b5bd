/**
 * What the API and the dashboard read of the cluster, straight from the database, so any
 * coordinator answers for all of them: task summaries, volunteers, live task counts, a
 * job's result a chunk at a time, a leased map task's input, who holds leases of a job.
 */
import { TabreduceError } from '../../shared/errors.ts';
import type { ClusterSummary, PastAttempt, TaskSummary } from '../../shared/job.ts';
import { toUint8Array } from '../../shared/byte-packing.ts';
import type { TaskState } from '../../shared/task.ts';
import { decodeMapInput, rangeMapInputSource, toPayload } from '../map-input.ts';
import type { StoredResult } from '../result-data.ts';
import { summarizeTask, type TaskCounts } from '../scheduler/summaries.ts';
import type { Database } from './database.ts';
import type { JobCatalog } from './job-catalog.ts';

/** Past attempts shown per task, the latest: as the single coordinator keeps them (scheduler/job-run.ts). */
const PAST_ATTEMPTS_SHOWN = 32;

export async function readTasks(db: Database, jobId: string): Promise<TaskSummary[]> {
  const rows = await db.query<{ id: string; kind: 'map' | 'reduce'; idx: number; state: TaskState }>('SELECT id, kind, idx, state FROM tasks WHERE job_id = $1 ORDER BY kind, idx', [jobId]);
  const attempts = await db.query<{ kind: string; idx: number; volunteer_id: string; started_at_ms: number; ended_at_ms: number; outcome: PastAttempt['outcome']; backup: boolean }>(
    `SELECT kind, idx, volunteer_id, started_at_ms, ended_at_ms, outcome, backup FROM
       (SELECT *, row_number() OVER (PARTITION BY kind, idx ORDER BY seq DESC) AS latest FROM past_attempts WHERE job_id = $1) AS a
     WHERE latest <= $2 ORDER BY kind, idx, seq`,
    [jobId, PAST_ATTEMPTS_SHOWN],
  );
  const pastOf = new Map<string, PastAttempt[]>();
  for (const row of attempts.rows) {
    const key = `${row.kind}/${row.idx}`;
    const list = pastOf.get(key) ?? [];
    list.push({ volunteerId: row.volunteer_id, startedAtMs: row.started_at_ms, endedAtMs: row.ended_at_ms, outcome: row.outcome, backup: row.backup });
    pastOf.set(key, list);
  }
  return rows.rows.map((row) => summarizeTask({ id: row.id, jobId, kind: row.kind, index: row.idx, state: row.state }, pastOf.get(`${row.kind}/${row.idx}`)));
}

export async function readCluster(db: Database, maxStrikes: number): Promise<ClusterSummary> {
  const rows = await db.query<{
    id: string;
    agent: string;
    slots: number;
    connected_at_ms: number;
    tasks_done: number;
    tasks_failed: number;
    answered_ms: number;
    answers: number;
    bytes_sent: number;
    bytes_received: number;
    running: number;
    agreed: number | null;
    strikes: number | null;
  }>(
    `SELECT v.*, (SELECT count(*) FROM leases l WHERE l.volunteer_id = v.id)::int AS running, r.agreed, r.strikes
     FROM volunteers v LEFT JOIN reputations r ON r.volunteer_id = v.id ORDER BY v.connected_at_ms, v.id`,
  );
  const volunteerList = rows.rows.map((row) => ({
    id: row.id,
    agent: row.agent,
    slots: row.slots,
    running: row.running,
    tasksDone: row.tasks_done,
    tasksFailed: row.tasks_failed,
    connectedAtMs: row.connected_at_ms,
    ...(row.answers > 0 ? { meanTaskMs: Math.round(row.answered_ms / row.answers) } : {}),
    bytesSent: row.bytes_sent,
    bytesReceived: row.bytes_received,
    agreed: row.agreed ?? 0,
    strikes: row.strikes ?? 0,
    struckOut: (row.strikes ?? 0) >= maxStrikes,
  }));
  const busy = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM leases');
  return {
    volunteers: volunteerList.length,
    slots: volunteerList.reduce((sum, volunteer) => sum + volunteer.slots, 0),
    busySlots: busy.rows[0]!.count,
    volunteerList,
  };
}

/** What a volunteer's fair share is computed from: the live jobs' claimable tasks and the cluster's volunteers. */
export interface QueueShare {
  queued: number;
  volunteers: number;
}

/**
 * Claimable tasks are counted only up to `perVolunteer` for each volunteer, where the
 * share could no longer cap a claim: a 250,000-task job costs a bounded scan, not a full one.
 */
export async function readQueueShare(db: Database, perVolunteer: number): Promise<QueueShare> {
  const found = await db.query<QueueShare>(
    `WITH crowd AS (SELECT count(*)::int AS volunteers FROM volunteers)
     SELECT (SELECT count(*) FROM (SELECT 1 FROM tasks t JOIN jobs j ON j.id = t.job_id
               WHERE j.status IN ('queued', 'running') AND (t.status = 'pending' OR t.copy_wanted)
               LIMIT (SELECT greatest(volunteers, 1) FROM crowd) * $1::bigint) AS claimable)::int AS queued,
            (SELECT volunteers FROM crowd) AS volunteers`,
    [perVolunteer],
  );
  return found.rows[0]!;
}

/** The live jobs' tasks by kind, from the jobs' counters and the lease table (scheduler/summaries.ts countLiveTasks). */
export async function readLiveTaskCounts(db: Database): Promise<TaskCounts> {
  const rows = await db.query<{ map_tasks: number; reducers: number; maps_done: number; reduces_done: number; maps_running: number; reduces_running: number }>(
    `SELECT j.map_tasks, j.reducers, j.maps_done, j.reduces_done,
       (SELECT count(DISTINCT l.idx) FROM leases l WHERE l.job_id = j.id AND l.kind = 'map')::int AS maps_running,
       (SELECT count(DISTINCT l.idx) FROM leases l WHERE l.job_id = j.id AND l.kind = 'reduce')::int AS reduces_running
     FROM jobs j WHERE j.status IN ('queued', 'running')`,
  );
  const counts: TaskCounts = { map: { waiting: 0, running: 0, done: 0 }, reduce: { waiting: 0, running: 0, done: 0 } };
  for (const row of rows.rows) {
    counts.map.done += row.maps_done;
    counts.map.running += row.maps_running;
    counts.map.waiting += Math.max(0, row.map_tasks - row.maps_done - row.maps_running);
    counts.reduce.done += row.reduces_done;
    counts.reduce.running += row.reduces_running;
    counts.reduce.waiting += Math.max(0, row.reducers - row.reduces_done - row.reduces_running);
  }
  return counts;
}

/** A succeeded job's result, read a chunk at a time. The caller checked that the job succeeded. */
export async function readResult(db: Database, jobId: string): Promise<StoredResult> {
  const counted = await db.query<{ chunks: number }>('SELECT count(*)::int AS chunks FROM results WHERE job_id = $1', [jobId]);
  const chunks = counted.rows[0]!.chunks;
  if (chunks === 0) throw new TabreduceError('INTERNAL', `the result of job ${jobId} is missing from the database`);
  return {
    chunks,
    chunk: async (index) => {
      const found = await db.query<{ pairs: Buffer }>('SELECT pairs FROM results WHERE job_id = $1 AND chunk = $2', [jobId, index]);
      if (!found.rows[0]) throw new TabreduceError('INTERNAL', `chunk ${index} of job ${jobId}'s result is missing from the database`);
      return found.rows[0].pairs;
    },
  };
}

/** A live lease's map input, for GET /api/inputs/:lease: the token is the capability. */
export async function readLeasedInput(db: Database, catalog: JobCatalog, leaseToken: string): Promise<Uint8Array> {
  const found = await db.query<{ job_id: string; idx: number }>(`SELECT job_id, idx FROM leases WHERE token = $1 AND kind = 'map' AND deadline_ms > 0`, [leaseToken]);
  const lease = found.rows[0];
  if (!lease) throw new TabreduceError('LEASE_INVALID', 'no live lease on a map task has this token: it ended (done, revoked or expired), or never was');
  const job = await catalog.get(db, lease.job_id);
  if (job?.range) return toUint8Array((await toPayload(rangeMapInputSource(job.range, lease.idx))).bytes);
  const input = await db.query<{ data: Buffer }>('SELECT data FROM map_inputs WHERE job_id = $1 AND map_index = $2', [lease.job_id, lease.idx]);
  if (!input.rows[0]) throw new TabreduceError('LEASE_INVALID', `the input of map task ${lease.idx} of job ${lease.job_id} is gone: its job ended`);
  return toUint8Array((await toPayload(decodeMapInput(input.rows[0].data))).bytes);
}

/** Per request: does the volunteer hold a lease of the job? One query for them all. */
export async function readLeaseHolders(db: Database, requests: readonly { volunteerId: string; jobId: string }[]): Promise<boolean[]> {
  const found = await db.query<{ volunteer_id: string; job_id: string }>(
    `SELECT a.volunteer_id, a.job_id FROM unnest($1::text[], $2::text[]) AS a(volunteer_id, job_id)
     WHERE EXISTS (SELECT 1 FROM leases l WHERE l.volunteer_id = a.volunteer_id AND l.job_id = a.job_id)`,
    [requests.map((request) => request.volunteerId), requests.map((request) => request.jobId)],
  );
  const holding = new Set(found.rows.map((row) => JSON.stringify([row.volunteer_id, row.job_id])));
  return requests.map((request) => holding.has(JSON.stringify([request.volunteerId, request.jobId])));
}
