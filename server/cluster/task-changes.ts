/**
 * The one place a cluster task changes state, inside the transaction that locked its row:
 * the same transition (shared/task.ts) and the same derived effects (scheduler/task-effects.ts)
 * as the single coordinator's, written as rows instead of indexes. A batch of changes is a
 * handful of statements whatever its size: the task rows, the lease rows, the outputs,
 * and one counter update per job, taken last and in job order, so the lock on a job's row,
 * which every answer of that job needs, is held for as short a time as possible and never
 * in two orders at once.
 *
 * What follows from the counters happens in the same transaction: the answer that takes
 * a job's done maps to M opens its reduce phase, the one that takes its done reduces to R
 * merges the result and ends the job, and a task out of attempts fails its job. Events
 * for the other coordinators ride along (cluster-events.ts), delivered on commit.
 */
import { isTerminal, type JobFailure, type JobState } from '../../shared/job-lifecycle.ts';
import type { PastAttempt } from '../../shared/job.ts';
import { losers } from '../../shared/quorum.ts';
import { wantsCopy, type Lease, type TaskEvent, type TaskState } from '../../shared/task.ts';
import type { CheckedOutput } from '../scheduler/task-data.ts';
import { deriveTaskEffects } from '../scheduler/task-effects.ts';
import type { TaskPolicies } from '../scheduler/task-policy.ts';
import { isEmptyBlock, type JobRecord, type TaskRecord } from '../store/job-store.ts';
import type { ClusterEvent } from './cluster-events.ts';
import { asBuffer, RetryTransaction, type Sql } from './database.ts';
import { endJob, finishJob, revocations, type JobEndScope } from './job-ends.ts';

/** A task's next state, worked out by the caller from its locked row, and what to store with it. */
export interface TaskChange {
  job: JobRecord;
  task: TaskRecord;
  event: TaskEvent;
  after: TaskState;
  /** The answer of a `complete` that made the task done: stored with it. */
  output?: CheckedOutput;
}

export interface ChangeScope extends JobEndScope {
  coordinatorId: string;
  policies: TaskPolicies;
  maxStrikes: number;
}

/** Where a task goes in its job's queue: stays, joins the back, or goes to the front. */
const KEEP = 0;
const BACK = 1;
const FRONT = -1;

interface JobTally {
  mapsDone: number;
  reducesDone: number;
  /** The done tasks' durations, for the mean a backup copy is judged against. */
  mapsMs: number;
  reducesMs: number;
  retries: number;
  backupsStarted: number;
  backupsWon: number;
  votesDecided: number;
  votesDisputed: number;
  failure?: JobFailure;
}

const emptyTally = (): JobTally => ({ mapsDone: 0, reducesDone: 0, mapsMs: 0, reducesMs: 0, retries: 0, backupsStarted: 0, backupsWon: 0, votesDecided: 0, votesDisputed: 0 });

/** Stores the changes and what follows from them; answers the events to publish with the transaction. */
export async function applyTaskChanges(sql: Sql, scope: ChangeScope, changes: readonly TaskChange[], nowMs: number): Promise<ClusterEvent[]> {
  const events: ClusterEvent[] = [];
  if (changes.length === 0) return events;
  const rows = { jobIds: [] as string[], kinds: [] as string[], indexes: [] as number[], statuses: [] as string[], states: [] as string[], readyAt: [] as number[], queue: [] as number[], copyWanted: [] as boolean[] };
  const rowOf = new Map<string, number>();
  const started: { lease: Lease; task: TaskRecord }[] = [];
  const ended: string[] = [];
  const attempts: { task: TaskRecord; lease: Lease; outcome: PastAttempt['outcome'] }[] = [];
  const tallies = new Map<string, JobTally>();
  const jobs = new Map<string, JobRecord>();
  const votes: { voters: string[]; lost: string[] }[] = [];
  const mapOutputs = { jobIds: [] as string[], partitions: [] as number[], mapIndexes: [] as number[], data: [] as Buffer[] };
  const reduceOutputs = { jobIds: [] as string[], partitions: [] as number[], data: [] as Buffer[] };
  const used = { jobIds: [] as string[], volunteerIds: [] as string[] };
  let work = false;

  for (const { job, task, event, after, output } of changes) {
    const policy = scope.policies.of(job, task);
    const effects = deriveTaskEffects(event, task.state, after, nowMs, policy);
    jobs.set(job.id, job);
    const tally = tallies.get(job.id) ?? emptyTally();
    tallies.set(job.id, tally);
    // One row per task: the update below would apply only one of two rows for the same
    // task (two copies of a replicated task ended in one batch), so a later change of the
    // same task overwrites its row, keeping the last move in the queue.
    const queue = effects.enqueue === 'back' ? BACK : effects.enqueue === 'front' ? FRONT : KEEP;
    let row = rowOf.get(task.id);
    if (row === undefined) {
      row = rows.jobIds.length;
      rowOf.set(task.id, row);
      rows.jobIds.push(job.id);
      rows.kinds.push(task.kind);
      rows.indexes.push(task.index);
      rows.queue.push(queue);
    } else if (queue !== KEEP) rows.queue[row] = queue;
    rows.statuses[row] = after.status;
    rows.states[row] = JSON.stringify(after);
    rows.readyAt[row] = after.status === 'pending' ? after.notBeforeMs : 0;
    rows.copyWanted[row] = after.status === 'leased' && wantsCopy(after, nowMs, policy);
    for (const lease of effects.started) {
      started.push({ lease, task });
      if (lease.backup) tally.backupsStarted++;
    }
    for (const { lease, revoke, outcome } of effects.ended) {
      ended.push(lease.token);
      if (outcome) attempts.push({ task, lease, outcome });
      if (revoke) events.push({ type: 'revoke', volunteerId: lease.volunteerId, taskIds: [task.id], reason: 'this task has its answer' });
    }
    if (effects.retried) tally.retries++;
    if (effects.wake) work = true;
    if (after.status === 'failed') tally.failure ??= { ...after.error, taskId: task.id };
    if (after.status !== 'done' || task.state.status === 'done') continue;
    if (task.kind === 'map') {
      tally.mapsDone++;
      tally.mapsMs += after.durationMs;
    } else {
      tally.reducesDone++;
      tally.reducesMs += after.durationMs;
    }
    if (after.byBackup) tally.backupsWon++;
    used.jobIds.push(job.id);
    used.volunteerIds.push(after.volunteerId);
    if (after.votes && after.digest !== undefined) {
      tally.votesDecided++;
      if (after.votes.some((vote) => vote.digest !== after.digest)) tally.votesDisputed++;
      votes.push({ voters: after.votes.map((vote) => vote.volunteerId), lost: losers(after.votes, after.digest) });
    }
    if (output?.kind === 'map') {
      output.blocks.forEach((block, partition) => {
        if (isEmptyBlock(block)) return;
        mapOutputs.jobIds.push(job.id);
        mapOutputs.partitions.push(partition);
        mapOutputs.mapIndexes.push(task.index);
        mapOutputs.data.push(asBuffer(block));
      });
    } else if (output?.kind === 'reduce') {
      reduceOutputs.jobIds.push(job.id);
      reduceOutputs.partitions.push(task.index);
      reduceOutputs.data.push(asBuffer(output.pairs));
    }
  }

  await sql.query(
    `UPDATE tasks t SET status = u.status, state = u.state, ready_at_ms = u.ready_at, copy_wanted = u.copy_wanted,
       queue_order = CASE u.queue WHEN 0 THEN t.queue_order WHEN 1 THEN nextval('task_queue_order') ELSE -nextval('task_queue_order') END
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::jsonb[], $6::bigint[], $7::int[], $8::bool[])
       AS u(job_id, kind, idx, status, state, ready_at, queue, copy_wanted)
     WHERE t.job_id = u.job_id AND t.kind = u.kind AND t.idx = u.idx`,
    [rows.jobIds, rows.kinds, rows.indexes, rows.statuses, rows.states, rows.readyAt, rows.queue, rows.copyWanted],
  );
  if (ended.length > 0) await sql.query('DELETE FROM leases WHERE token = ANY($1::text[])', [ended]);
  if (attempts.length > 0) {
    await sql.query(
      `INSERT INTO past_attempts (job_id, kind, idx, volunteer_id, started_at_ms, ended_at_ms, outcome, backup)
       SELECT job_id, kind, idx, volunteer_id, started_at_ms, $7, outcome, backup FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[], $8::bool[])
         AS a(job_id, kind, idx, volunteer_id, started_at_ms, outcome, backup)`,
      [
        attempts.map(({ task }) => task.jobId),
        attempts.map(({ task }) => task.kind),
        attempts.map(({ task }) => task.index),
        attempts.map(({ lease }) => lease.volunteerId),
        attempts.map(({ lease }) => lease.leasedAtMs),
        attempts.map(({ outcome }) => outcome),
        nowMs,
        attempts.map(({ lease }) => lease.backup),
      ],
    );
  }
  if (started.length > 0) {
    await sql.query(
      `INSERT INTO leases (token, job_id, kind, idx, volunteer_id, coordinator_id, deadline_ms, leased_at_ms)
       SELECT token, job_id, kind, idx, volunteer_id, $7, deadline_ms, leased_at_ms FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::bigint[], $8::bigint[])
         AS l(token, job_id, kind, idx, volunteer_id, deadline_ms, leased_at_ms)`,
      [
        started.map(({ lease }) => lease.token),
        started.map(({ task }) => task.jobId),
        started.map(({ task }) => task.kind),
        started.map(({ task }) => task.index),
        started.map(({ lease }) => lease.volunteerId),
        started.map(({ lease }) => lease.deadlineMs),
        scope.coordinatorId,
        started.map(({ lease }) => lease.leasedAtMs),
      ],
    );
  }
  if (mapOutputs.data.length > 0) {
    await sql.query(
      `INSERT INTO map_outputs (job_id, partition, map_index, data) SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bytea[])`,
      [mapOutputs.jobIds, mapOutputs.partitions, mapOutputs.mapIndexes, mapOutputs.data],
    );
  }
  if (reduceOutputs.data.length > 0) {
    await sql.query(`INSERT INTO reduce_outputs (job_id, partition, pairs) SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[])`, [reduceOutputs.jobIds, reduceOutputs.partitions, reduceOutputs.data]);
  }
  if (used.jobIds.length > 0) {
    await sql.query('INSERT INTO job_volunteers (job_id, volunteer_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [used.jobIds, used.volunteerIds]);
  }
  const struckOut = votes.length > 0 ? await tallyVotes(sql, votes, scope.maxStrikes) : [];
  if (struckOut.length > 0) events.push(...(await expireLeasesOf(sql, struckOut)));

  // Last, and in job order: the job row's lock is what every answer of the job waits for.
  for (const jobId of [...tallies.keys()].sort()) {
    const tally = tallies.get(jobId)!;
    const counted = await sql.query<{ maps_done: number; reduces_done: number; map_tasks: number; reducers: number; state: JobState }>(
      `UPDATE jobs SET maps_done = maps_done + $2, reduces_done = reduces_done + $3, retries = retries + $4, backups_started = backups_started + $5,
         backups_won = backups_won + $6, votes_decided = votes_decided + $7, votes_disputed = votes_disputed + $8, maps_ms = maps_ms + $9, reduces_ms = reduces_ms + $10
       WHERE id = $1 RETURNING maps_done, reduces_done, map_tasks, reducers, state`,
      [jobId, tally.mapsDone, tally.reducesDone, tally.retries, tally.backupsStarted, tally.backupsWon, tally.votesDecided, tally.votesDisputed, tally.mapsMs, tally.reducesMs],
    );
    const job = counted.rows[0]!;
    // Another transaction ended the job after this one read it live (ending a job skips
    // the rows in-flight claims and answers hold, rather than wait on them and deadlock):
    // what this one would store for it is void, and its next try refuses it up front.
    if (isTerminal(job.state)) throw new RetryTransaction(`job ${jobId} ended while this transaction changed its tasks`);
    if (tally.failure) {
      events.push(...(await endJob(sql, scope, jobId, job.state, { type: 'fail', error: tally.failure }, nowMs)));
      continue;
    }
    if (tally.mapsDone > 0 && job.maps_done === job.map_tasks) {
      // Every map task is done: the reduce tasks are what the job hands out now.
      await sql.query(`UPDATE tasks SET status = 'pending' WHERE job_id = $1 AND kind = 'reduce' AND status = 'blocked'`, [jobId]);
      work = true;
    }
    if (tally.reducesDone > 0 && job.reduces_done === job.reducers) events.push(...(await finishJob(sql, scope, jobId, job.state, nowMs)));
  }
  if (work) events.push({ type: 'work' });
  events.push({ type: 'changed' });
  return events;
}

/**
 * Counts the batch's decided votes: a strike for each loser, an agreement for the others
 * (scheduler/reputation.ts), in one statement whose rows are locked in volunteer order, so
 * two batches never wait on each other's reputations in a circle. Answers the volunteers
 * now out of strikes.
 */
async function tallyVotes(sql: Sql, votes: readonly { voters: string[]; lost: string[] }[], maxStrikes: number): Promise<string[]> {
  const tally = new Map<string, { agreed: number; strikes: number }>();
  for (const { voters, lost } of votes) {
    for (const volunteerId of new Set(voters)) {
      const entry = tally.get(volunteerId) ?? { agreed: 0, strikes: 0 };
      if (lost.includes(volunteerId)) entry.strikes++;
      else entry.agreed++;
      tally.set(volunteerId, entry);
    }
  }
  const ids = [...tally.keys()].sort();
  const tallied = await sql.query<{ volunteer_id: string; strikes: number }>(
    `INSERT INTO reputations (volunteer_id, agreed, strikes) SELECT * FROM unnest($1::text[], $2::int[], $3::int[])
     ON CONFLICT (volunteer_id) DO UPDATE SET agreed = reputations.agreed + EXCLUDED.agreed, strikes = reputations.strikes + EXCLUDED.strikes
     RETURNING volunteer_id, strikes`,
    [ids, ids.map((id) => tally.get(id)!.agreed), ids.map((id) => tally.get(id)!.strikes)],
  );
  return tallied.rows.filter((row) => tally.get(row.volunteer_id)!.strikes > 0 && row.strikes >= maxStrikes).map((row) => row.volunteer_id);
}

/**
 * A volunteer struck out loses its work: its leases lapse now, so the next sweep (on any
 * coordinator) abandons them, and it is told to stop. Its answers are refused from here on.
 */
async function expireLeasesOf(sql: Sql, volunteerIds: string[]): Promise<ClusterEvent[]> {
  const expired = await sql.query<{ volunteer_id: string; job_id: string; kind: string; idx: number }>(
    'UPDATE leases SET deadline_ms = 0 WHERE volunteer_id = ANY($1::text[]) RETURNING volunteer_id, job_id, kind, idx',
    [volunteerIds],
  );
  return revocations(expired.rows, 'this volunteer lost too many votes; its results are refused');
}
