/**
 * The throwaway PostgreSQL cluster the integration tests run on: a real server, reached
 * through node-postgres as the coordinator will reach it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from './postgres-server.ts';

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

const setting = (url: string, name: string) =>
  withClient(url, async (client) => (await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])).rows[0]?.value);

describe('startPostgres', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres({ settings: { work_mem: '7MB' } });
  });
  afterAll(() => server?.stop());

  it('listens on 127.0.0.1 with the test settings, fsync on, and the ones asked for', async () => {
    expect(server.url()).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    expect(await setting(server.url(), 'max_connections')).toBe('200');
    expect(await setting(server.url(), 'fsync')).toBe('on');
    expect(await setting(server.url(), 'work_mem')).toBe('7MB');
    expect(await setting(server.url(), 'listen_addresses')).toBe('127.0.0.1');
  });

  it('creates distinct databases that each answer and do not see each other\'s tables', async () => {
    const first = await server.createDatabase();
    const second = await server.createDatabase();
    expect(first).not.toBe(second);
    for (const url of [first, second]) {
      expect(await withClient(url, async (client) => (await client.query('SELECT 1 AS one')).rows)).toEqual([{ one: 1 }]);
    }

    await withClient(first, (client) => client.query('CREATE TABLE only_here (id integer)'));
    const tableIn = (url: string) => withClient(url, async (client) => (await client.query("SELECT to_regclass('only_here') AS t")).rows[0]?.t);
    expect(await tableIn(first)).toBe('only_here');
    expect(await tableIn(second)).toBeNull();
  });

  it('creates a database by the name asked for', async () => {
    const url = await server.createDatabase('Named-DB');
    expect(url).toBe(server.url('Named-DB'));
    expect(await withClient(url, async (client) => (await client.query('SELECT current_database() AS db')).rows[0]?.db)).toBe('Named-DB');
  });

  it('stop() shuts it down and removes its directory; a second stop() is fine', async () => {
    const dataDir = await setting(server.url(), 'data_directory');
    expect(dataDir && existsSync(dataDir)).toBe(true);
    const dir = path.dirname(dataDir!);

    await server.stop();
    expect(existsSync(dir)).toBe(false);
    await expect(withClient(server.url(), (client) => client.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
    await server.stop();
  });
});

describe('startPostgres that fails', () => {
  it('says why with the end of the server log, and leaves no directory behind', async () => {
    const failure = await startPostgres({ settings: { no_such_setting: 'x' } }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/PostgreSQL did not start[\s\S]*postgres\.log \(last lines\)[\s\S]*unrecognized configuration parameter "no_such_setting"/);
    const dir = /--- (\/\S+)\/postgres\.log/.exec(failure?.message ?? '')?.[1];
    expect(dir && existsSync(dir)).toBe(false);
  });
});
