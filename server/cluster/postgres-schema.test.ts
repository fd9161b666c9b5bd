/**
 * The cluster's schema on a real PostgreSQL: created by coordinators starting together,
 * brought up from an older version with its rows kept, and refused when it is newer than
 * the code.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../../testing/postgres-server.ts';
import { migrate, MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError } from './postgres-schema.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());

async function withPool<T>(work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: await server.createDatabase() });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

const versionOf = async (pool: pg.Pool) => (await pool.query<{ version: number }>('SELECT version FROM tabreduce_schema')).rows[0]?.version;

describe('the cluster schema', () => {
  it('is created once by coordinators that start together', async () => {
    await withPool(async (pool) => {
      await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
      expect(await versionOf(pool)).toBe(SCHEMA_VERSION);
      expect((await pool.query('SELECT count(*)::int AS rows FROM tabreduce_schema')).rows[0].rows).toBe(1);
    });
  });

  it('is brought up from version 1, keeping what it holds: an upload stored whole stays usable', async () => {
    await withPool(async (pool) => {
      await pool.query(MIGRATIONS[0]!);
      await pool.query('CREATE TABLE tabreduce_schema (version INTEGER NOT NULL); INSERT INTO tabreduce_schema VALUES (1)');
      await pool.query(`INSERT INTO uploads (id, name, bytes, created_at_ms) VALUES ('f-old', 'old.txt', 3, 0)`);
      await migrate(pool);
      expect(await versionOf(pool)).toBe(SCHEMA_VERSION);
      expect((await pool.query(`SELECT complete FROM uploads WHERE id = 'f-old'`)).rows[0].complete).toBe(true);
      // One written from now on is incomplete until its last chunk is in.
      await pool.query(`INSERT INTO uploads (id, name, bytes, created_at_ms) VALUES ('f-new', 'new.txt', 0, 0)`);
      expect((await pool.query(`SELECT complete FROM uploads WHERE id = 'f-new'`)).rows[0].complete).toBe(false);
    });
  });

  it('is refused when the database is newer than this coordinator', async () => {
    await withPool(async (pool) => {
      await migrate(pool);
      await pool.query('UPDATE tabreduce_schema SET version = $1', [SCHEMA_VERSION + 1]);
      await expect(migrate(pool)).rejects.toBeInstanceOf(SchemaTooNewError);
    });
  });
});
