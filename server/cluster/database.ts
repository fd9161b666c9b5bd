/**
 * The cluster's connection to PostgreSQL: a pool, and transactions that are retried when
 * PostgreSQL picks them as a deadlock's victim or refuses them for a serialization
 * conflict, or when they find their job ended under them (all mean "run it again").
 */
import pg from 'pg';

// BIGINT columns hold times in ms and counts, all far below 2^53: numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Where statements go: a transaction's connection, or the pool. */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Database extends Sql {
  pool: pg.Pool;
  /**
   * Runs `work` in one transaction, committed when it resolves; retried from the start on
   * a deadlock or a serialization failure, so `work` must keep nothing of a failed try.
   */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Thrown inside a transaction that found, late, that what it worked from changed under it
 * (a job ended by another transaction while this one changed its tasks): it is rolled
 * back and run again, like a deadlock's victim, and the new try sees the change.
 */
export class RetryTransaction extends Error {}

/** PostgreSQL's codes for "try the transaction again". */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_TRIES = 8;

export function openDatabase(url: string, options: { maxConnections?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client whose server went away errors on the pool; without a listener that is an uncaught exception.
  pool.on('error', () => {});
  return {
    pool,
    async transaction(work) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          const result = await work(client);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          // A connection that cannot even roll back is dropped from the pool rather than reused.
          await client.query('ROLLBACK').catch(() => (broken = true));
          if (attempt < MAX_TRIES && (error instanceof RetryTransaction || RETRYABLE.has((error as { code?: string }).code ?? ''))) continue;
          throw error;
        } finally {
          client.release(broken);
        }
      }
    },
    query: (text, values) => pool.query(text, values),
    close: () => pool.end(),
  };
}

/** Bytes as node-postgres sends a `bytea` parameter, without a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
