/**
 * How a cluster job ends, inside the transaction that ends it: succeeded (its result merged
 * from the reduce outputs), failed or cancelled (its claimable tasks blocked, its leases
 * ended and their holders told). Either way its intermediate rows go, and the jobs
 * awaiting its result (pipelines, scheduler/pipeline.ts) are settled in the same
 * transaction: planned from the result, with their tasks and map inputs, or failed saying
 * why. So a job's end and the next one's tasks are one commit, as in one process.
 */
import { transitionJob, type JobEvent, type JobState } from '../../shared/job-lifecycle.ts';
import type { KeyValue } from '../../shared/job.ts';
import { chunksOf, mergeReduceOutputs, resultEntries } from '../result-data.ts';
import { settleAwaited } from '../scheduler/pipeline.ts';
import type { JobRecord } from '../store/job-store.ts';
import type { ClusterEvent } from './cluster-events.ts';
import { asBuffer, type Sql } from './database.ts';
import { fillJob } from './job-catalog.ts';

export interface JobEndScope {
  /** The largest volunteer message, which a pipeline's planned map tasks must fit (job-planner.ts). */
  maxMessageBytes?: number;
}

const RESULT_BYTES_PER_STATEMENT = 8 << 20;

/** One revoke event per volunteer, for lease rows ended together. */
export function revocations(rows: readonly { volunteer_id: string; job_id: string; kind: string; idx: number }[], reason: string): ClusterEvent[] {
  const byVolunteer = new Map<string, string[]>();
  for (const row of rows) byVolunteer.set(row.volunteer_id, [...(byVolunteer.get(row.volunteer_id) ?? []), `${row.job_id}/${row.kind}/${row.idx}`]);
  return [...byVolunteer].map(([volunteerId, taskIds]): ClusterEvent => ({ type: 'revoke', volunteerId, taskIds, reason }));
}

/** Merges the reduce outputs into the result and marks the job succeeded, in the transaction that stored the last of them. */
export async function finishJob(sql: Sql, scope: JobEndScope, jobId: string, state: JobState, nowMs: number): Promise<ClusterEvent[]> {
  const outputs = await sql.query<{ pairs: Buffer }>('SELECT pairs FROM reduce_outputs WHERE job_id = $1 ORDER BY partition', [jobId]);
  const chunks = mergeReduceOutputs(outputs.rows.map((row) => row.pairs));
  // A statement's worth at a time: one statement for a result of hundreds of MB would hold it twice more, as parameters.
  for (let first = 0; first < chunks.length; ) {
    let last = first;
    for (let bytes = 0; last < chunks.length && (last === first || bytes + chunks[last]!.byteLength <= RESULT_BYTES_PER_STATEMENT); last++) bytes += chunks[last]!.byteLength;
    await sql.query('INSERT INTO results (job_id, chunk, pairs) SELECT $1, $2::int + chunk - 1, pairs FROM unnest($3::bytea[]) WITH ORDINALITY AS c(pairs, chunk)', [
      jobId,
      first,
      chunks.slice(first, last).map(asBuffer),
    ]);
    first = last;
  }
  await storeJobState(sql, jobId, state, { type: 'succeed' }, nowMs);
  await dropIntermediate(sql, jobId);
  return settleAwaitingJobs(sql, scope, jobId, nowMs, async () => [...resultEntries(chunksOf({ chunks: chunks.length, chunk: (index) => chunks[index]! }))]);
}

/**
 * Ends a job early (it failed, or was cancelled): no task of it is claimable any more,
 * its leases end, and their holders are told. The caller holds the job row's lock, or
 * takes it here through the state update; it never waits for a task's or a lease's.
 */
export async function endJob(sql: Sql, scope: JobEndScope, jobId: string, state: JobState, event: Extract<JobEvent, { type: 'fail' | 'cancel' }>, nowMs: number): Promise<ClusterEvent[]> {
  await storeJobState(sql, jobId, state, event, nowMs);
  // Rows that claims and answers in flight hold are skipped, not waited for (they wait for
  // this job's row, so waiting would deadlock): those transactions find the job ended at
  // its row, start again, and refuse it then (task-changes.ts RetryTransaction; lease-ends.ts).
  await sql.query(
    `UPDATE tasks SET status = 'blocked', copy_wanted = FALSE WHERE (job_id, kind, idx) IN
       (SELECT job_id, kind, idx FROM tasks WHERE job_id = $1 AND (status = 'pending' OR copy_wanted) FOR UPDATE SKIP LOCKED)`,
    [jobId],
  );
  const revoked = await sql.query<{ volunteer_id: string; job_id: string; kind: string; idx: number }>(
    'DELETE FROM leases WHERE token IN (SELECT token FROM leases WHERE job_id = $1 FOR UPDATE SKIP LOCKED) RETURNING volunteer_id, job_id, kind, idx',
    [jobId],
  );
  await dropIntermediate(sql, jobId);
  // Short: it rides in a notification, which PostgreSQL caps at 8000 bytes, and the job's error has the whole message.
  const reason = event.type === 'cancel' ? 'the job was cancelled' : `job failed: ${event.error.taskId ? `task ${event.error.taskId}: ` : ''}${event.error.message}`.slice(0, 300);
  const downstream = await settleAwaitingJobs(sql, scope, jobId, nowMs, async () => []);
  return [...revocations(revoked.rows, reason), ...downstream, { type: 'changed' }];
}

/**
 * Settles the queued jobs awaiting `upstreamId`'s result, as it now is (undefined: no such
 * job any more): planned, failed, or left waiting. The awaiting jobs' rows are locked;
 * `resultOf` is read only when one is planned from a succeeded job.
 */
export async function settleAwaitingJobs(sql: Sql, scope: JobEndScope, upstreamId: string, nowMs: number, resultOf: () => Promise<KeyValue[]>): Promise<ClusterEvent[]> {
  const waiting = await sql.query<{ record: JobRecord; state: JobState }>(
    `SELECT record, state FROM jobs WHERE status = 'queued' AND record->'awaiting'->>'jobId' = $1 ORDER BY id FOR UPDATE`,
    [upstreamId],
  );
  if (waiting.rows.length === 0) return [];
  const found = await sql.query<{ record: JobRecord; state: JobState }>('SELECT record, state FROM jobs WHERE id = $1', [upstreamId]);
  const upstream = found.rows[0] && { ...found.rows[0].record, state: found.rows[0].state };
  const pairs = upstream?.state.status === 'succeeded' ? await resultOf() : [];
  const events: ClusterEvent[] = [];
  for (const row of waiting.rows) {
    const job: JobRecord = { ...row.record, state: row.state };
    const outcome = settleAwaited(job, upstream, () => pairs, scope.maxMessageBytes);
    if (outcome.kind === 'waiting') continue;
    if (outcome.kind === 'failed') {
      events.push(...(await endJob(sql, scope, job.id, job.state, { type: 'fail', error: outcome.failure }, nowMs)));
      continue;
    }
    await fillJob(sql, outcome.job, outcome.mapInputs);
    events.push({ type: 'work' }, { type: 'changed' });
  }
  return events;
}

async function storeJobState(sql: Sql, jobId: string, state: JobState, event: JobEvent, nowMs: number): Promise<void> {
  const next = transitionJob(state, event, nowMs);
  if (next instanceof Error) throw next;
  await sql.query('UPDATE jobs SET state = $2, status = $3 WHERE id = $1', [jobId, JSON.stringify(next), next.status]);
}

/** A job that ended keeps its result only. */
async function dropIntermediate(sql: Sql, jobId: string): Promise<void> {
  await sql.query('DELETE FROM map_inputs WHERE job_id = $1', [jobId]);
  await sql.query('DELETE FROM map_outputs WHERE job_id = $1', [jobId]);
  await sql.query('DELETE FROM reduce_outputs WHERE job_id = $1', [jobId]);
}
