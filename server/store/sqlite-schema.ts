/**
 * The SQLite store's schema (sqlite-store.ts), versioned in `user_version` and migrated
 * step by step when a store opens.
 */
import type Database from 'better-sqlite3';

/**
 * The schema, one step per version: step i brings `user_version` i to i + 1. Add a step
 * for every change; never edit a step that has shipped, since databases in the field have
 * already run it.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    -- Insertion order: listJobs answers oldest first, like the memory store.
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    -- The JobRecord as JSON is the truth; the columns below are copies the store queries.
    record TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL,
    map_tasks INTEGER NOT NULL,
    reducers INTEGER NOT NULL
  );
  -- Result retention looks for finished jobs, oldest first.
  CREATE INDEX jobs_by_status ON jobs (status, submitted_at_ms);

  CREATE TABLE tasks (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    -- 'map' sorts before 'reduce', which is the order listTasks promises.
    kind TEXT NOT NULL CHECK (kind IN ('map', 'reduce')),
    idx INTEGER NOT NULL,
    id TEXT NOT NULL,
    -- A copy of state's status, for queries by hand and for a later index. Not indexed
    -- now: nothing queries it, and an index on it halves saveTask's rate (measured: 11k
    -- against 25k commits/s), since every lease and answer changes the status.
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, idx)
  );

  CREATE TABLE map_inputs (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    map_index INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, map_index)
  );

  -- Keyed partition first: a reduce task reads one partition's blocks as one index
  -- range, already in map order.
  CREATE TABLE map_outputs (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    partition INTEGER NOT NULL,
    map_index INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, partition, map_index)
  );

  CREATE TABLE reduce_outputs (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    partition INTEGER NOT NULL,
    pairs TEXT NOT NULL,
    PRIMARY KEY (job_id, partition)
  );

  CREATE TABLE results (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    chunk INTEGER NOT NULL,
    -- A JSON array of [key, value] pairs; the chunks in order make the result.
    pairs TEXT NOT NULL,
    PRIMARY KEY (job_id, chunk)
  );
  `,
  // 2: a job too large for one write is stored over several (its map inputs in pieces, so
  // the event loop serves others in between), and must not be found half-stored after a
  // crash. Its row is written first with stored = 0, since the map inputs' foreign key
  // needs it, and set to 1 by the write that completes it; until then the store answers as
  // if it held no such job, and opening the store drops what such a job left. Rows from
  // before this step are whole jobs: 1.
  `
  ALTER TABLE jobs ADD COLUMN stored INTEGER NOT NULL DEFAULT 1;
  `,
  // 3: the two tables every tiny task writes a row of, keyed by their primary key alone
  // (WITHOUT ROWID): a rowid table kept a second b-tree for the key, so each row cost two
  // inserts and each commit twice the dirty pages. Measured on 60,000 task saves and map
  // outputs, 30 per commit: 9.5 -> 8.3 µs a task.
  `
  CREATE TABLE tasks_by_key (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    kind TEXT NOT NULL CHECK (kind IN ('map', 'reduce')),
    idx INTEGER NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, idx)
  ) WITHOUT ROWID;
  INSERT INTO tasks_by_key (job_id, kind, idx, id, status, state) SELECT job_id, kind, idx, id, status, state FROM tasks;
  DROP TABLE tasks;
  ALTER TABLE tasks_by_key RENAME TO tasks;

  CREATE TABLE map_outputs_by_key (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    partition INTEGER NOT NULL,
    map_index INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, partition, map_index)
  ) WITHOUT ROWID;
  INSERT INTO map_outputs_by_key (job_id, partition, map_index, data) SELECT job_id, partition, map_index, data FROM map_outputs;
  DROP TABLE map_outputs;
  ALTER TABLE map_outputs_by_key RENAME TO map_outputs;
  `,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Thrown when the database was written by a newer tabreduce than this one. */
export class SchemaTooNewError extends Error {
  constructor(file: string, found: number) {
    super(`${file} has schema version ${found}, but this tabreduce knows versions up to ${SCHEMA_VERSION}: upgrade tabreduce, or use another TABREDUCE_DATA_DIR`);
    this.name = 'SchemaTooNewError';
  }
}

/** Brings the schema up to SCHEMA_VERSION, one transaction per step. */
export function migrate(db: Database.Database, file: string): void {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > SCHEMA_VERSION) throw new SchemaTooNewError(file, found);
  for (let version = found; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      // user_version lives in the database header, and changes with the transaction.
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
