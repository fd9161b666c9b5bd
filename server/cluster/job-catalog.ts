/**
 * The cluster's jobs as rows: stored at submission, listed and summarised for the API,
 * their definitions cached. A job's definition (its JobRecord less its state) never
 * changes once stored, but for a pipeline's, planned once its input job ends; so each
 * coordinator keeps the others it has read; the state and the counters are read fresh,
 * since any coordinator may have moved them.
 */
import type { JobState } from '../../shared/job-lifecycle.ts';
import type { JobSummary } from '../../shared/job.ts';
import type { JobPlan } from '../job-planner.ts';
import { jobRecordOf } from '../scheduler/job-run.ts';
import { summarizeJobRecord } from '../scheduler/summaries.ts';
import type { JobRecord } from '../store/job-store.ts';
import { asBuffer, type Sql } from './database.ts';

/** Map inputs written per statement: about 8 MiB at the default split, and one round trip per thousand tiny ones. */
const INPUTS_PER_STATEMENT = 1000;
const INPUT_BYTES_PER_STATEMENT = 8 << 20;

/**
 * Definitions kept, the most recently used: a job's source may be a megabyte, and jobs
 * dropped by another coordinator's retention sweep are never forgotten here otherwise.
 */
const CACHED_JOBS = 1000;

export class JobCatalog {
  /** In order of last use, the oldest first. */
  readonly #records = new Map<string, JobRecord>();

  /** A job's definition (its state as first read: ask `state` for the current one); undefined if there is no such job. */
  async get(sql: Sql, jobId: string): Promise<JobRecord | undefined> {
    const cached = this.#records.get(jobId);
    if (cached) {
      this.#records.delete(jobId);
      this.#records.set(jobId, cached);
      return cached;
    }
    const found = await sql.query<{ record: JobRecord; state: JobState }>('SELECT record, state FROM jobs WHERE id = $1', [jobId]);
    const row = found.rows[0];
    if (!row) return undefined;
    const record = { ...row.record, state: row.state };
    this.remember(record);
    return record;
  }

  /**
   * Keeps a definition read or stored; a stored one only after its transaction committed,
   * or a rolled-back job would be served. One awaiting another's result is not kept: it
   * changes once, when it is planned (job-ends.ts), and every coordinator must see that.
   */
  remember(record: JobRecord): void {
    if (record.awaiting) return;
    this.#records.delete(record.id);
    this.#records.set(record.id, record);
    for (const oldest of this.#records.keys()) {
      if (this.#records.size <= CACHED_JOBS) break;
      this.#records.delete(oldest);
    }
  }

  forget(jobIds: Iterable<string>): void {
    for (const jobId of jobIds) this.#records.delete(jobId);
  }

  /**
   * Stores a planned job whole, in the caller's transaction: its row, a row per task, its
   * map inputs, each read through `inline` as its statement is built, so a job over a
   * gigabyte of uploads holds one statement's worth in memory. Not cached: see `remember`.
   */
  async insert(sql: Sql, plan: JobPlan, nowMs: number, inline: (mapInput: Uint8Array) => Promise<Uint8Array>): Promise<JobRecord> {
    const { state, ...record } = jobRecordOf(plan, nowMs);
    await sql.query(
      `INSERT INTO jobs (id, record, state, status, submitted_at_ms, map_tasks, reducers) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [record.id, JSON.stringify(record), JSON.stringify(state), state.status, nowMs, record.mapTasks, record.reducers],
    );
    await insertTasks(sql, record, plan.mapInputs, inline);
    return { ...record, state };
  }

  /** Every job's summary, newest first; or one job's. */
  async summaries(sql: Sql, jobId?: string): Promise<JobSummary[]> {
    const found = await sql.query<SummaryRow>(
      `SELECT j.record, j.state, j.maps_done, j.reduces_done, j.retries, j.backups_started, j.backups_won, j.votes_decided, j.votes_disputed,
         (SELECT count(*) FROM leases l WHERE l.job_id = j.id)::int AS running,
         (SELECT count(*) FROM job_volunteers v WHERE v.job_id = j.id)::int AS used
       FROM jobs j ${jobId === undefined ? '' : 'WHERE j.id = $1'} ORDER BY j.seq DESC`,
      jobId === undefined ? [] : [jobId],
    );
    return found.rows.map(summaryOf);
  }
}

interface SummaryRow {
  record: JobRecord;
  state: JobState;
  maps_done: number;
  reduces_done: number;
  retries: number;
  backups_started: number;
  backups_won: number;
  votes_decided: number;
  votes_disputed: number;
  running: number;
  used: number;
}

/** The API's view of a job row: the single coordinator's summary, from the row's counters. */
function summaryOf(row: SummaryRow): JobSummary {
  return summarizeJobRecord(
    { ...row.record, state: row.state },
    {
      mapsDone: row.maps_done,
      reducesDone: row.reduces_done,
      running: row.running,
      volunteersUsed: row.used,
      retries: row.retries,
      backups: { started: row.backups_started, won: row.backups_won },
      votes: { decided: row.votes_decided, disputed: row.votes_disputed },
    },
  );
}

/**
 * Gives a job stored without tasks (it awaited another's result) its definition as
 * planned, its task rows and its map inputs, in the caller's transaction.
 */
export async function fillJob(sql: Sql, planned: JobRecord, mapInputs: readonly Uint8Array[]): Promise<void> {
  const { state: _state, ...record } = planned;
  await sql.query('UPDATE jobs SET record = $2, map_tasks = $3, reducers = $4 WHERE id = $1', [record.id, JSON.stringify(record), record.mapTasks, record.reducers]);
  await insertTasks(sql, record, mapInputs, async (mapInput) => mapInput);
}

/** A job's task rows, every one from the start (a claim locks rows), and its map inputs a statement's worth at a time. */
async function insertTasks(sql: Sql, record: Omit<JobRecord, 'state'>, mapInputs: readonly Uint8Array[], inline: (mapInput: Uint8Array) => Promise<Uint8Array>): Promise<void> {
  const initial = JSON.stringify({ status: 'pending', attemptsStarted: 0, notBeforeMs: 0 });
  // Reduce tasks wait, 'blocked', until the last map task is done (task-changes.ts opens them).
  await sql.query(
    `INSERT INTO tasks (job_id, kind, idx, id, status, queue_order, state)
     SELECT $1, 'map', i, $1 || '/map/' || i, 'pending', i, $4::jsonb FROM generate_series(0, $2::int - 1) AS i
     UNION ALL
     SELECT $1, 'reduce', i, $1 || '/reduce/' || i, 'blocked', i, $4::jsonb FROM generate_series(0, $3::int - 1) AS i`,
    [record.id, record.mapTasks, record.reducers, initial],
  );
  let batch: Buffer[] = [];
  let bytes = 0;
  let first = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await sql.query('INSERT INTO map_inputs (job_id, map_index, data) SELECT $1, $2::int + i - 1, data FROM unnest($3::bytea[]) WITH ORDINALITY AS d(data, i)', [record.id, first, batch]);
    first += batch.length;
    batch = [];
    bytes = 0;
  };
  for (const mapInput of mapInputs) {
    const data = asBuffer(await inline(mapInput));
    if (batch.length > 0 && (batch.length >= INPUTS_PER_STATEMENT || bytes + data.byteLength > INPUT_BYTES_PER_STATEMENT)) await flush();
    batch.push(data);
    bytes += data.byteLength;
  }
  await flush();
}
