/**
 * Claiming: up to `max` tasks leased to one volunteer in one transaction. The live jobs
 * are shared fairly, each round going to the jobs with the fewest leases live, oldest
 * first among equals (as scheduler/dispatch.ts does in one process), and each job's
 * tasks are taken in queue order with `FOR UPDATE SKIP LOCKED`: coordinators claiming at
 * once take different rows rather than wait for each other. What the queues cannot fill
 * goes to backup copies of slow tasks (slow-tasks.ts). Each task's input is read in the
 * same transaction, so a lease and what it sends are one snapshot.
 */
import { TabreduceError } from '../../shared/errors.ts';
import type { TaskAssignment } from '../../shared/protocol.ts';
import { transitionTask, TaskTransitionError, type Lease, type TaskEvent, type TaskState } from '../../shared/task.ts';
import type { BackupPolicy } from '../scheduler/dispatch.ts';
import { assignmentsReady, leasedTask, type LeasedTask } from '../scheduler/task-data.ts';
import type { JobRecord, TaskRecord } from '../store/job-store.ts';
import type { ClusterEvent } from './cluster-events.ts';
import type { Sql } from './database.ts';
import type { JobCatalog } from './job-catalog.ts';
import { pickSlowTasks } from './slow-tasks.ts';
import { applyTaskChanges, type ChangeScope, type TaskChange } from './task-changes.ts';

export interface ClaimScope extends ChangeScope {
  catalog: JobCatalog;
  leaseMs: number;
  taskTimeoutMs: number;
  newLeaseToken: () => string;
  backups: BackupPolicy;
  /** Whether the last sweep saw a task slow enough for a copy: only then does a claim look for one. */
  slowTasksSeen: boolean;
}

export interface Claimed {
  assignments: TaskAssignment[] | Promise<TaskAssignment[]>;
  /** The input bytes sent, for the volunteer's and the metrics' counts. */
  bytes: number;
}

interface TaskRow {
  job_id: string;
  kind: 'map' | 'reduce';
  idx: number;
  id: string;
  state: TaskState;
}

/** One volunteer's claim in a batch. */
export interface ClaimRequest {
  volunteerId: string;
  max: number;
}

/**
 * The claims of many volunteers in one transaction: each gets what it would alone (the
 * live jobs shared fairly, queue order), from rows fetched for the whole batch, so the job rows' counters are updated, and the transaction committed, once for
 * all of them. No task goes to two volunteers of one batch.
 */
export async function claimTasks(sql: Sql, scope: ClaimScope, requests: readonly ClaimRequest[], nowMs: number): Promise<{ each: Claimed[]; events: ClusterEvent[] }> {
  const live = await sql.query<{ id: string; running: number }>(
    `SELECT j.id, (SELECT count(*) FROM leases l WHERE l.job_id = j.id)::int AS running FROM jobs j
     WHERE j.status IN ('queued', 'running') ORDER BY j.seq`,
  );
  // Fewest leases first; the query's order (oldest first) breaks ties, since the sort is stable.
  const jobIds = live.rows.sort((a, b) => a.running - b.running).map((row) => row.id);
  /** Per job, the rows this transaction fetched (and so locked) and gave to no request yet. */
  const buffers = new Map<string, TaskRow[]>();
  /** Per job, every row fetched: rows this transaction locked are not skipped by SKIP LOCKED, so a refetch leaves them out by id. */
  const fetched = new Map<string, string[]>();
  const drained = new Set<string>();
  /** What the requests not yet served still want: a fetch takes enough for all of them at once. */
  let demand = requests.reduce((sum, request) => sum + request.max, 0);
  const take = async (job: JobRecord, limit: number, factor: number): Promise<TaskRow[]> => {
    const buffer = buffers.get(job.id) ?? [];
    buffers.set(job.id, buffer);
    if (buffer.length < limit && !drained.has(job.id)) {
      const want = Math.max(limit, demand * factor) - buffer.length;
      const ids = fetched.get(job.id) ?? [];
      fetched.set(job.id, ids);
      const rows = await sql.query<TaskRow>(
        `SELECT job_id, kind, idx, id, state FROM tasks
         WHERE job_id = $1 AND ((status = 'pending' AND ready_at_ms <= $2) OR copy_wanted) AND id <> ALL($4::text[])
         ORDER BY queue_order LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [job.id, nowMs, want, ids],
      );
      if (rows.rows.length < want) drained.add(job.id);
      for (const row of rows.rows) ids.push(row.id);
      buffer.push(...rows.rows);
    }
    return buffer.splice(0, limit);
  };
  const used = new Set<string>();
  const planned: { volunteerId: string; picked: { job: JobRecord; row: TaskRow; backup?: true }[]; share: Map<JobRecord, number> }[] = [];
  for (const { volunteerId, max } of requests) {
    const picked: { job: JobRecord; row: TaskRow; backup?: true }[] = [];
    const share = new Map<JobRecord, number>();
    const exhausted = new Set<string>();
    /** The sum of `share`'s counts, kept as it grows. */
    let granted = 0;
    // Round one gives each job its even share; round two gives what is left to whoever still has tasks.
    for (const round of [1, 2]) {
      for (const [position, jobId] of jobIds.entries()) {
        const wanted = max - granted;
        if (wanted <= 0) break;
        if (exhausted.has(jobId)) continue;
        const job = await scope.catalog.get(sql, jobId);
        if (!job) continue;
        const count = round === 1 ? Math.ceil(wanted / (jobIds.length - position)) : wanted;
        // A vote's copies may be refused to this volunteer (it holds one already): ask for more than needed.
        const factor = job.replication > 1 || job.spotCheck ? 2 : 1;
        const limit = count * factor;
        const rows = await take(job, limit, factor);
        if (rows.length < limit) exhausted.add(jobId);
        for (const row of rows) {
          picked.push({ job, row });
          used.add(row.id);
        }
        const taken = Math.min(count, rows.length);
        share.set(job, (share.get(job) ?? 0) + taken);
        granted += taken;
      }
    }
    // What the queues could not fill goes to backup copies of slow tasks, as in one process.
    if (granted < max && scope.slowTasksSeen) {
      for (const row of await pickSlowTasks(sql, scope.backups, volunteerId, max - granted, nowMs)) {
        // One change per task in a batch: a task another request of it holds is left for the next.
        if (used.has(row.id)) continue;
        const job = await scope.catalog.get(sql, row.job_id);
        if (!job) continue;
        picked.push({ job, row, backup: true });
        used.add(row.id);
      }
    }
    demand -= max;
    planned.push({ volunteerId, picked, share });
  }
  const all = planned.flatMap(({ picked }) => picked);
  if (all.length === 0) return { each: requests.map(() => ({ assignments: [], bytes: 0 })), events: [] };

  const inputs = await readInputs(sql, all);
  const changes: TaskChange[] = [];
  const each: Claimed[] = [];
  for (const { volunteerId, picked, share } of planned) {
    const leased: LeasedTask[] = [];
    let bytes = 0;
    for (const { job, row, backup } of picked) {
      if (!backup && (share.get(job) ?? 0) === 0) continue;
      const task: TaskRecord = { id: row.id, jobId: row.job_id, kind: row.kind, index: row.idx, state: row.state };
      const token = scope.newLeaseToken();
      const built = leasedTask(inputs, job, task, token, scope.taskTimeoutMs);
      const lease: Lease = { token, volunteerId, leasedAtMs: nowMs, deadlineMs: nowMs + scope.leaseMs, backup: backup === true, inputBytes: built.bytes };
      const event: TaskEvent = backup ? { type: 'backup', lease } : { type: 'lease', lease };
      const after = transitionTask(task.state, event, nowMs, scope.policies.of(job, task));
      // A copy this volunteer may not run (it holds one, or voted): left for another.
      if (after instanceof TaskTransitionError) continue;
      changes.push({ job, task, event, after });
      if (!backup) share.set(job, share.get(job)! - 1);
      leased.push(built.leased);
      bytes += built.bytes;
    }
    const assignments = assignmentsReady(leased, (_task, error) => {
      // Inputs are read above, from the database; only a file-backed input could fail here, and the cluster stores none.
      throw new TabreduceError('INTERNAL', `a cluster task's input could not be read: ${error.message}`);
    });
    each.push({ assignments, bytes });
  }
  const events = await applyTaskChanges(sql, scope, changes, nowMs);
  const starting = [...new Set(changes.map(({ job }) => job.id))];
  if (starting.length > 0) {
    await sql.query(
      `UPDATE jobs SET status = 'running', state = jsonb_build_object('status', 'running', 'startedAtMs', $2::bigint) WHERE id = ANY($1::text[]) AND status = 'queued'`,
      [starting, nowMs],
    );
  }
  return { each, events };
}

/** The inputs of the picked tasks, read in one statement per kind, as the store methods that `leasedTask` reads. */
async function readInputs(sql: Sql, picked: readonly { job: JobRecord; row: TaskRow }[]) {
  const mapInputs = new Map<string, Uint8Array>();
  const blocks = new Map<string, Uint8Array[]>();
  const maps = picked.filter(({ job, row }) => row.kind === 'map' && !job.range);
  const reduces = picked.filter(({ row }) => row.kind === 'reduce');
  if (maps.length > 0) {
    const found = await sql.query<{ job_id: string; map_index: number; data: Buffer }>(
      'SELECT m.job_id, m.map_index, m.data FROM map_inputs m JOIN unnest($1::text[], $2::int[]) AS p(job_id, idx) ON m.job_id = p.job_id AND m.map_index = p.idx',
      [maps.map(({ row }) => row.job_id), maps.map(({ row }) => row.idx)],
    );
    for (const row of found.rows) mapInputs.set(`${row.job_id}/${row.map_index}`, row.data);
  }
  if (reduces.length > 0) {
    const found = await sql.query<{ job_id: string; partition: number; data: Buffer }>(
      `SELECT o.job_id, o.partition, o.data FROM map_outputs o JOIN unnest($1::text[], $2::int[]) AS p(job_id, partition) ON o.job_id = p.job_id AND o.partition = p.partition
       ORDER BY o.job_id, o.partition, o.map_index`,
      [reduces.map(({ row }) => row.job_id), reduces.map(({ row }) => row.idx)],
    );
    for (const row of found.rows) {
      const key = `${row.job_id}/${row.partition}`;
      // Pushed, not copied: a partition of a 250,000-map job has as many blocks.
      const list = blocks.get(key);
      if (list) list.push(row.data);
      else blocks.set(key, [row.data]);
    }
  }
  return {
    getMapInput(jobId: string, mapIndex: number): Uint8Array {
      const input = mapInputs.get(`${jobId}/${mapIndex}`);
      if (!input) throw new TabreduceError('INTERNAL', `map task ${mapIndex} of job ${jobId} has no input in the database`);
      return input;
    },
    getPartitionBlocks: (jobId: string, partition: number): Uint8Array[] => blocks.get(`${jobId}/${partition}`) ?? [],
  };
}
