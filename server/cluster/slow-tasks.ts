/**
 * Backup copies in a cluster: the single coordinator's rule (scheduler/dispatch.ts
 * pickBackup) as one query, near a phase's end only (NEAR_END_TASKS). A task is slow when
 * it is its job's only kind of work left (the job has nothing claimable and few tasks
 * left), it runs on one lease only, and that lease has run
 * longer than `minRunningMs` and than `slowdownFactor` times its phase's mean duration so
 * far. A volunteer idle while a job waits on such a task gets a copy of it; the first
 * answer wins and the other copy is revoked (shared/task.ts).
 */
import type { TaskState } from '../../shared/task.ts';
import type { BackupPolicy } from '../scheduler/dispatch.ts';
import type { Sql } from './database.ts';

/**
 * A phase is near its end, and its running tasks may have copies, when at most this many
 * of its tasks are left (with nothing claimable, all left are running). Without it a crowd
 * slowed by its own numbers (a job of 10,000 tasks across 5,000 volunteers, every lease
 * older than the minimum) had every idle volunteer take copies of tasks whose answers
 * were merely queued: more work, and every claim scanning 10,000 leases. With a tenth of
 * the tasks left as the bound, the crowd's job took 19.6 s instead of 8.
 */
const NEAR_END_TASKS = 16;

/** The slow tasks' leases, oldest first; `$1` is now, `$2` and `$3` the policy's minimum and factor. */
const SLOW = `
  FROM leases l
  JOIN tasks t ON t.job_id = l.job_id AND t.kind = l.kind AND t.idx = l.idx
  JOIN jobs j ON j.id = l.job_id
  WHERE l.leased_at_ms <= $1::bigint - $2::bigint
    AND j.status IN ('queued', 'running')
    AND CASE WHEN l.kind = 'map' THEN j.map_tasks - j.maps_done ELSE j.reducers - j.reduces_done END <= ${NEAR_END_TASKS}
    AND t.status = 'leased' AND jsonb_array_length(t.state->'leases') = 1
    AND l.leased_at_ms <= $1::bigint - greatest($2::float8, $3::float8 *
      CASE WHEN l.kind = 'map' THEN j.maps_ms::float8 / greatest(j.maps_done, 1) ELSE j.reduces_ms::float8 / greatest(j.reduces_done, 1) END)
    AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.job_id = j.id AND (c.status = 'pending' OR c.copy_wanted))`;

const parameters = (policy: BackupPolicy, nowMs: number) => [nowMs, policy.minRunningMs, policy.slowdownFactor];

/** How many tasks are slow enough for a copy, counted up to `limit`: the sweep's cue to wake that many idle volunteers. */
export async function countSlowTasks(sql: Sql, policy: BackupPolicy, nowMs: number, limit: number): Promise<number> {
  if (!policy.enabled) return 0;
  const found = await sql.query<{ count: number }>(`SELECT count(*)::int AS count FROM (SELECT 1 ${SLOW} LIMIT $4) AS slow`, [...parameters(policy, nowMs), limit]);
  return found.rows[0]!.count;
}

export interface SlowTaskRow {
  job_id: string;
  kind: 'map' | 'reduce';
  idx: number;
  id: string;
  state: TaskState;
}

/**
 * Up to `max` slow tasks that this volunteer does not run, their rows locked (`SKIP
 * LOCKED`: another coordinator backing one up at the same moment takes another).
 */
export async function pickSlowTasks(sql: Sql, policy: BackupPolicy, volunteerId: string, max: number, nowMs: number): Promise<SlowTaskRow[]> {
  if (!policy.enabled || max <= 0) return [];
  const found = await sql.query<SlowTaskRow>(
    `SELECT t.job_id, t.kind, t.idx, t.id, t.state ${SLOW} AND l.volunteer_id <> $4 ORDER BY l.leased_at_ms LIMIT $5 FOR UPDATE OF t SKIP LOCKED`,
    [...parameters(policy, nowMs), volunteerId, max],
  );
  return found.rows;
}
