/**
 * The cluster's schema in PostgreSQL, versioned in `tabreduce_schema` and migrated by
 * whichever coordinator opens the database first (under an advisory lock, so two that
 * start together do not both migrate). Close to the SQLite store's (store/sqlite-schema.ts),
 * with what many coordinators must share beside it: every task has a row from the start
 * (a claim locks rows, so rows must exist), live leases have a table of their own (any
 * coordinator expires them, or reclaims those of a coordinator that died), and
 * volunteers and coordinators are listed for the cluster's summary and its liveness.
 */
import type pg from 'pg';

/**
 * One step per version: step i brings the schema from version i to i + 1. Never edit a
 * step that has shipped; add one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    -- Submission order: listJobs answers oldest first, fair share breaks ties by it.
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    -- The JobRecord as JSON, its state apart: the record never changes after insert, the state does.
    record JSONB NOT NULL,
    state JSONB NOT NULL,
    status TEXT NOT NULL,
    submitted_at_ms BIGINT NOT NULL,
    map_tasks INTEGER NOT NULL,
    reducers INTEGER NOT NULL,
    -- Counters the task that settles updates in its own transaction: the one that takes
    -- maps_done to map_tasks is the one that opens the reduce phase, exactly once.
    maps_done INTEGER NOT NULL DEFAULT 0,
    reduces_done INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    backups_started INTEGER NOT NULL DEFAULT 0,
    backups_won INTEGER NOT NULL DEFAULT 0,
    votes_decided INTEGER NOT NULL DEFAULT 0,
    votes_disputed INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX jobs_live ON jobs (seq) WHERE status IN ('queued', 'running');

  CREATE TABLE tasks (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('map', 'reduce')),
    idx INTEGER NOT NULL,
    id TEXT NOT NULL,
    -- The TaskState's status, or 'blocked': a reduce task before its job's last map is done.
    status TEXT NOT NULL CHECK (status IN ('blocked', 'pending', 'leased', 'done', 'failed')),
    -- A pending task's notBeforeMs (its retry backoff), and its place in its job's queue:
    -- negative for the front (a task handed back), the sequence for the back.
    ready_at_ms BIGINT NOT NULL DEFAULT 0,
    queue_order BIGINT NOT NULL,
    -- A leased task of a vote that wants one more copy (shared/task.ts wantsCopy): claimable too.
    copy_wanted BOOLEAN NOT NULL DEFAULT FALSE,
    state JSONB NOT NULL,
    PRIMARY KEY (job_id, kind, idx)
  );
  -- What a claim scans: a job's claimable tasks in queue order.
  CREATE INDEX tasks_claimable ON tasks (job_id, queue_order) WHERE status = 'pending' OR copy_wanted;
  CREATE SEQUENCE task_queue_order START WITH 1000000000000;

  -- The live leases, derived from the leased tasks' states and kept beside them in the
  -- same transactions: the expiry sweep, a volunteer's disconnect and a dead coordinator's
  -- reclaim each find theirs by index instead of reading every task.
  CREATE TABLE leases (
    token TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    volunteer_id TEXT NOT NULL,
    coordinator_id TEXT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    FOREIGN KEY (job_id, kind, idx) REFERENCES tasks (job_id, kind, idx) ON DELETE CASCADE
  );
  CREATE INDEX leases_by_deadline ON leases (deadline_ms);
  CREATE INDEX leases_by_volunteer ON leases (volunteer_id);
  CREATE INDEX leases_by_coordinator ON leases (coordinator_id);
  CREATE INDEX leases_by_job ON leases (job_id);

  CREATE TABLE map_inputs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    map_index INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, map_index)
  );

  -- Partition first: a reduce task reads its partition's blocks as one index range, in map order.
  CREATE TABLE map_outputs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    partition INTEGER NOT NULL,
    map_index INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, partition, map_index)
  );

  CREATE TABLE reduce_outputs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    partition INTEGER NOT NULL,
    pairs BYTEA NOT NULL,
    PRIMARY KEY (job_id, partition)
  );

  CREATE TABLE results (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    pairs BYTEA NOT NULL,
    PRIMARY KEY (job_id, chunk)
  );

  -- Which volunteers answered a job's tasks: the job summary's volunteersUsed.
  CREATE TABLE job_volunteers (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL,
    PRIMARY KEY (job_id, volunteer_id)
  );

  CREATE TABLE coordinators (
    id TEXT PRIMARY KEY,
    started_at_ms BIGINT NOT NULL,
    -- Renewed every heartbeat; one gone stale is dead, and its leases are reclaimed.
    heartbeat_ms BIGINT NOT NULL
  );

  CREATE TABLE volunteers (
    id TEXT PRIMARY KEY,
    coordinator_id TEXT NOT NULL REFERENCES coordinators (id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    slots INTEGER NOT NULL,
    connected_at_ms BIGINT NOT NULL,
    tasks_done INTEGER NOT NULL DEFAULT 0,
    tasks_failed INTEGER NOT NULL DEFAULT 0,
    answered_ms BIGINT NOT NULL DEFAULT 0,
    answers INTEGER NOT NULL DEFAULT 0,
    bytes_sent BIGINT NOT NULL DEFAULT 0,
    bytes_received BIGINT NOT NULL DEFAULT 0
  );
  CREATE INDEX volunteers_by_coordinator ON volunteers (coordinator_id);

  -- Uploaded input files (POST /api/files), in 1 MiB chunks: no coordinator has a disk the
  -- others can read. A job that names one copies its splits into map_inputs and deletes it.
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
  );
  CREATE TABLE upload_chunks (
    upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (upload_id, seq)
  );

  -- How each volunteer's answers fared in votes (scheduler/reputation.ts), kept after it leaves.
  CREATE TABLE reputations (
    volunteer_id TEXT PRIMARY KEY,
    agreed INTEGER NOT NULL DEFAULT 0,
    strikes INTEGER NOT NULL DEFAULT 0
  );
  `,
  `
  -- An upload is written a chunk per statement rather than in one long transaction (which
  -- held a pooled connection for as long as the client took to send): it is usable once complete.
  ALTER TABLE uploads ADD COLUMN complete BOOLEAN NOT NULL DEFAULT TRUE;
  ALTER TABLE uploads ALTER COLUMN complete SET DEFAULT FALSE;

  -- Backup copies of slow tasks (claims.ts): a task is slow against its phase's mean
  -- duration so far, and against how long its only lease has run.
  ALTER TABLE jobs ADD COLUMN maps_ms BIGINT NOT NULL DEFAULT 0, ADD COLUMN reduces_ms BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE leases ADD COLUMN leased_at_ms BIGINT NOT NULL DEFAULT 0;
  CREATE INDEX leases_by_age ON leases (leased_at_ms);

  -- Attempts that ended without the accepted answer (TaskSummary.pastAttempts): failed,
  -- lost, handed back, or outrun by another copy.
  CREATE TABLE past_attempts (
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    seq BIGSERIAL,
    volunteer_id TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    ended_at_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('failed', 'lost', 'returned', 'superseded')),
    backup BOOLEAN NOT NULL,
    PRIMARY KEY (job_id, kind, idx, seq),
    FOREIGN KEY (job_id, kind, idx) REFERENCES tasks (job_id, kind, idx) ON DELETE CASCADE
  );
  `,
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Any 64-bit number the cluster's coordinators agree on: the lock that serialises migrations. */
const MIGRATION_LOCK = 0x7461627265647563n; // "tabreduc"

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(`the database has tabreduce schema version ${found}, but this coordinator knows versions up to ${SCHEMA_VERSION}: upgrade it, or point TABREDUCE_DATABASE_URL at another database`);
    this.name = 'SchemaTooNewError';
  }
}

/** Brings the database's schema up to SCHEMA_VERSION, one transaction per step. */
export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // A session lock, held across the steps' transactions: the second coordinator waits, then finds nothing to do.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS tabreduce_schema (version INTEGER NOT NULL)');
    const found = (await client.query<{ version: number }>('SELECT version FROM tabreduce_schema')).rows[0]?.version ?? 0;
    if (found > SCHEMA_VERSION) throw new SchemaTooNewError(found);
    for (let version = found; version < SCHEMA_VERSION; version++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[version]!);
        await client.query('DELETE FROM tabreduce_schema');
        await client.query('INSERT INTO tabreduce_schema (version) VALUES ($1)', [version + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
    client.release();
  }
}
