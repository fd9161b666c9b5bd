/**
 * What every coordinator of a cluster does on its timer, each step one short statement or
 * transaction, all safe to run on many coordinators at once: beat its heart, end the
 * leases of coordinators that stopped beating and of leases past their deadline (`SKIP
 * LOCKED`, so two sweepers never fight, and a task whose answer is being stored is left
 * to that answer), and drop jobs past their retention.
 */
import { publish } from './cluster-events.ts';
import type { Database } from './database.ts';
import { endLeases, type LeaseScope } from './lease-ends.ts';

/** Leases ended per sweep and per kind (expired, orphaned): a sweep stays one short transaction. */
const SWEEP_BATCH = 500;

/** The database's clock in ms, for what coordinators compare across machines (heartbeats). */
const DATABASE_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * Writes a coordinator's heartbeat, by the database's clock, so coordinators' clocks need
 * not agree for it. An upsert: a coordinator taken for dead after a stall (its row and its
 * volunteers' rows removed by another) is listed again. Answers whether it was.
 */
export async function beat(db: Database, coordinatorId: string): Promise<boolean> {
  const beaten = await db.query<{ rejoined: boolean }>(
    `INSERT INTO coordinators (id, started_at_ms, heartbeat_ms) VALUES ($1, ${DATABASE_NOW_MS}, ${DATABASE_NOW_MS})
     ON CONFLICT (id) DO UPDATE SET heartbeat_ms = EXCLUDED.heartbeat_ms RETURNING (xmax = 0) AS rejoined`,
    [coordinatorId],
  );
  return beaten.rows[0]!.rejoined;
}

/**
 * Ends the leases of coordinators silent past `timeoutMs`, a batch at a time through the
 * index on the leases' coordinator; a dead coordinator's row (and its volunteers', by
 * cascade) goes once it holds no lease, so a sweeper that dies half way leaves the rest
 * to the next. Answers whether the cluster's list of volunteers changed.
 */
export async function sweepDeadCoordinators(db: Database, scope: LeaseScope, timeoutMs: number, nowMs: number): Promise<boolean> {
  const silent = `heartbeat_ms < ${DATABASE_NOW_MS} - $1::bigint AND id <> $2`;
  const dead = await db.query<{ id: string }>(`SELECT id FROM coordinators WHERE ${silent}`, [timeoutMs, scope.coordinatorId]);
  if (dead.rows.length === 0) return false;
  const ids = dead.rows.map((row) => row.id);
  const orphaned = await db.query<{ token: string }>('SELECT token FROM leases WHERE coordinator_id = ANY($1::text[]) LIMIT $2', [ids, SWEEP_BATCH]);
  if (orphaned.rows.length > 0) {
    await giveBackOrphaned(db, scope, orphaned.rows.map((row) => row.token), nowMs);
    return false;
  }
  // Silent still (it did not come back meanwhile), and holding nothing.
  await db.query(`DELETE FROM coordinators WHERE id = ANY($3::text[]) AND ${silent}`, [timeoutMs, scope.coordinatorId, ids]);
  return true;
}

/**
 * A dead coordinator's leases are given back, not abandoned: the coordinator died, not
 * the job's code, so the attempt is not counted (as a single coordinator's restart gives
 * it back), and the tasks go to the front of their queues. Their holders are told, in case
 * they are alive on a coordinator only taken for dead.
 */
async function giveBackOrphaned(db: Database, scope: LeaseScope, tokens: string[], nowMs: number): Promise<void> {
  await db.transaction(async (sql) => {
    const ended = await endLeases(sql, scope, tokens, (token) => ({ type: 'return', token }), nowMs, {
      skipLocked: true,
      tellHolders: 'the coordinator this volunteer was connected to stopped answering the cluster',
    });
    await publish(sql, [...ended.events, ...(ended.taskIds.length > 0 ? [{ type: 'work' } as const] : [])]);
  });
}

/** Abandons leases past their deadline (an attempt spent, and backoff); answers how many ended. */
export async function sweepExpiredLeases(db: Database, scope: LeaseScope, nowMs: number): Promise<number> {
  const expired = await db.query<{ token: string }>('SELECT token FROM leases WHERE deadline_ms < $1 ORDER BY deadline_ms LIMIT $2', [nowMs, SWEEP_BATCH]);
  if (expired.rows.length === 0) return 0;
  return db.transaction(async (sql) => {
    const tokens = expired.rows.map((row) => row.token);
    const ended = await endLeases(sql, scope, tokens, (token) => ({ type: 'abandon', token, reason: 'the lease expired without an answer' }), nowMs, { skipLocked: true, expiredBefore: nowMs });
    await publish(sql, ended.events);
    return ended.taskIds.length;
  });
}

/** Deletes the jobs that ended more than `retentionMs` ago, results and all; answers their ids. */
export async function dropExpiredJobs(db: Database, retentionMs: number, nowMs: number): Promise<string[]> {
  if (retentionMs <= 0) return [];
  const dropped = await db.query<{ id: string }>(
    `DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND (state->>'finishedAtMs')::bigint < $1 RETURNING id`,
    [nowMs - retentionMs],
  );
  return dropped.rows.map((row) => row.id);
}
