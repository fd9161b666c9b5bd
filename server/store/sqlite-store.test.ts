/**
 * What only the SQLite store has: its file, its schema version, and surviving a process
 * that dies with SIGKILL in the middle of its work. The JobStore behaviour itself is in
 * job-store.contract.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord, TaskRecord } from './job-store.ts';
import { MIGRATIONS } from './sqlite-schema.ts';
import { DATABASE_FILE, DataDirInUseError, SCHEMA_VERSION, SchemaTooNewError, SqliteStore } from './sqlite-store.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

const jobRecord = (id: string): JobRecord => ({
  id,
  name: id,
  source: '',
  sourceDigest: 'd',
  submittedAtMs: 1,
  reducers: 1,
  mapTasks: 2,
  maxAttempts: 3,
  replication: 1,
  inputBytes: 0,
  state: { status: 'queued' },
});
const taskRecord = (jobId: string, kind: 'map' | 'reduce', index: number): TaskRecord => ({
  id: `${jobId}/${kind}/${index}`,
  jobId,
  kind,
  index,
  state: { status: 'pending', attemptsStarted: 0, notBeforeMs: 0 },
});
/** Inserts a job of two map tasks and one reduce task. */
function insertJob(store: SqliteStore, id: string): void {
  store.insertJob(jobRecord(id), [new Uint8Array([1]), new Uint8Array([2])]);
}
const statuses = (store: SqliteStore, jobId: string) => store.listTasks(jobId).map((task) => task.state.status);
const dbOf = (store: SqliteStore) => (store as unknown as { db: Database.Database }).db;
/** Rows of `table` in a closed store's database file, read with SQLite itself. */
function rowsIn(dir: string, table: string): number {
  const db = new Database(path.join(dir, DATABASE_FILE));
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

/** Runs `script` (an ES module, from the repository root) in a child process that is expected to SIGKILL itself. */
async function runUntilKilled(script: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const signal = await new Promise((resolve) => child.once('exit', (_code, exitSignal) => resolve(exitSignal)));
  expect(signal, stderr).toBe('SIGKILL');
}

describe('SqliteStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-sqlite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates its directory and a WAL database at the current schema version', () => {
    const dataDir = path.join(dir, 'nested', 'data');
    const store = new SqliteStore(dataDir);
    store.close();
    expect(store.file).toBe(path.join(dataDir, DATABASE_FILE));
    const db = new Database(store.file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('opens a database it created before without migrating it again', () => {
    new SqliteStore(dir).close();
    const store = new SqliteStore(dir);
    expect(store.listJobs()).toEqual([]);
    store.close();
  });

  it('refuses a database written by a newer schema, and lets go of the file', () => {
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteStore(dir)).toThrow(SchemaTooNewError);
    // Had the failed open kept its handle, WAL files would linger next to the database.
    expect(existsSync(path.join(dir, `${DATABASE_FILE}-wal`))).toBe(false);
  });

  it('refuses a second store on a directory that one already holds, until it is closed', () => {
    const first = new SqliteStore(dir);
    expect(() => new SqliteStore(dir, { busyTimeoutMs: 50 })).toThrow(/in use by another tabreduce coordinator/);
    first.close();
    new SqliteStore(dir).close();
  });

  it('refuses a second store at once by default, rather than after a busy timeout', () => {
    const first = new SqliteStore(dir);
    try {
      const startedMs = performance.now();
      expect(() => new SqliteStore(dir)).toThrow(DataDirInUseError);
      // It used to wait out a 5 s busy timeout for a lock that a live coordinator never lets go.
      expect(performance.now() - startedMs).toBeLessThan(1000);
    } finally {
      first.close();
    }
  });

  it('commits for whoever waits at the end of the turn, not after the 20 ms grouping', async () => {
    const store = new SqliteStore(dir);
    try {
      insertJob(store, 'job-1');
      const first = await Promise.race([store.durable().then(() => 'durable'), new Promise((resolve) => setTimeout(() => resolve('10 ms'), 10))]);
      expect(first).toBe('durable');
    } finally {
      store.close();
    }
  });

  it('rolls back a whole group the disk refuses, names the jobs it touched, rejects its waiters, and goes on', async () => {
    const store = new SqliteStore(dir);
    try {
      const rolledBack: string[][] = [];
      store.onRollback((jobIds) => rolledBack.push([...jobIds]));
      insertJob(store, 'job-1');
      insertJob(store, 'job-2');
      await store.durable();
      // SQLite's cap on the file's size, reached: the same SQLITE_FULL a full disk gives.
      const db = dbOf(store);
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      store.saveTask({ ...taskRecord('job-1', 'map', 0), state: { status: 'failed', attemptsStarted: 3, error: { name: 'E', message: 'm' } } });
      store.putMapOutput('job-2', 0, [new Uint8Array(256 * 1024).fill(0x30)]);
      store.saveTask({ ...taskRecord('job-2', 'map', 1), state: { status: 'failed', attemptsStarted: 3, error: { name: 'E', message: 'm' } } });
      await expect(store.durable()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
      expect(rolledBack).toEqual([['job-1', 'job-2']]);
      // All of the group is gone, the write that fit as well: what is on disk is a state between two commits.
      expect(statuses(store, 'job-1')).toEqual([]);
      expect(statuses(store, 'job-2')).toEqual([]);
      expect(store.getPartitionBlocks('job-2', 0)).toEqual([]);
      expect(() => store.flush()).not.toThrow();

      db.pragma('max_page_count = 4294967294');
      store.putMapOutput('job-2', 0, [new Uint8Array(256 * 1024).fill(0x30)]);
      await store.durable();
      expect(store.getPartitionBlocks('job-2', 0)).toHaveLength(1);
      expect(rolledBack).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('keeps a write that durable() said was stored, in a process killed with SIGKILL at once', async () => {
    const script = `
      import { SqliteStore } from './server/store/sqlite-store.ts';
      const store = new SqliteStore(${JSON.stringify(dir)});
      const job = { id: 'job-1', name: 'acked', source: '', sourceDigest: 'd', submittedAtMs: 1, reducers: 1,
        mapTasks: 1, maxAttempts: 3, replication: 1, inputBytes: 0, state: { status: 'queued' } };
      store.insertJob(job, [new Uint8Array([1])]);
      await store.durable();
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const signal = await new Promise((resolve) => child.once('exit', (_code, exitSignal) => resolve(exitSignal)));
    expect(signal, stderr).toBe('SIGKILL');
    const store = new SqliteStore(dir);
    try {
      expect(store.getJob('job-1')?.name).toBe('acked');
      expect([...store.getMapInput('job-1', 0)]).toEqual([1]);
    } finally {
      store.close();
    }
  });

  it('keeps every committed write of a process killed with SIGKILL, and loses only the uncommitted ones', async () => {
    // A child process writes a job, a task state and a map output and commits them,
    // writes more, then kills itself before that commit, without closing the database:
    // what a crash of the coordinator looks like.
    const script = `
      import { SqliteStore } from './server/store/sqlite-store.ts';
      const store = new SqliteStore(${JSON.stringify(dir)});
      const job = { id: 'job-1', name: 'crash', source: '', sourceDigest: 'd', submittedAtMs: 1, reducers: 2,
        mapTasks: 2, maxAttempts: 3, replication: 1, inputBytes: 0, state: { status: 'running', startedAtMs: 2 } };
      const task = (kind, index) => ({ id: 'job-1/' + kind + '/' + index, jobId: 'job-1', kind, index,
        state: { status: 'pending', attemptsStarted: 0, notBeforeMs: 0 } });
      store.insertJob(job, [new Uint8Array([1]), new Uint8Array([2])]);
      const failed = { ...task('map', 1), state: { status: 'failed', attemptsStarted: 3, error: { name: 'E', message: 'm' } } };
      store.saveTask(failed);
      store.putMapOutput('job-1', 0, [new TextEncoder().encode('"a"'), new TextEncoder().encode('"b"')]);
      store.flush();
      store.saveTask({ ...task('map', 0), state: { status: 'failed', attemptsStarted: 1, error: { name: 'Lost', message: 'in the crash' } } });
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const signal = await new Promise((resolve) => child.once('exit', (_code, exitSignal) => resolve(exitSignal)));
    expect(signal, stderr).toBe('SIGKILL');

    const store = new SqliteStore(dir);
    try {
      expect(store.getJob('job-1')?.state).toEqual({ status: 'running', startedAtMs: 2 });
      // Only the task saved and committed has a row: the other three are pending, never saved.
      expect(store.listTasks('job-1').map((task) => `${task.id} ${task.state.status}`)).toEqual(['job-1/map/1 failed']);
      expect([...store.getMapInput('job-1', 1)]).toEqual([2]);
      store.putMapOutput('job-1', 1, [new TextEncoder().encode('"c"'), new TextEncoder().encode('"d"')]);
      expect(store.getPartitionBlocks('job-1', 1).map((block) => new TextDecoder().decode(block))).toEqual(['"b"', '"d"']);
    } finally {
      store.close();
    }
  });

  it('fails the finish of a job one of whose pieces the disk refused, leaving nothing of it, and goes on', async () => {
    const store = new SqliteStore(dir);
    try {
      const rolledBack: string[][] = [];
      store.onRollback((jobIds) => rolledBack.push([...jobIds]));
      const record = { ...jobRecord('job-big'), mapTasks: 3 };
      store.beginJob(record);
      store.putMapInputs('job-big', 0, [new Uint8Array([1])]);
      await store.durable();
      const db = dbOf(store);
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      store.putMapInputs('job-big', 1, [new Uint8Array(256 * 1024)]);
      await expect(store.durable()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
      expect(rolledBack).toEqual([['job-big']]);
      db.pragma('max_page_count = 4294967294');
      // Its later pieces and its finish give the error back: a job with a hole is never made whole.
      expect(() => store.putMapInputs('job-big', 2, [new Uint8Array([3])])).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }) as Error);
      expect(() => store.finishJob('job-big')).toThrow();
      await store.durable();
      expect(store.getJob('job-big')).toBeUndefined();
      expect(() => store.getMapInput('job-big', 0)).toThrow();
      insertJob(store, 'job-big');
      expect(store.getJob('job-big')?.mapTasks).toBe(2);
    } finally {
      store.close();
    }
    expect(rowsIn(dir, 'map_inputs')).toBe(2);
  });

  it('leaves nothing of a job half stored in pieces by a process killed with SIGKILL', async () => {
    // Pieces committed, the job not finished: what a crash in the middle of a large submission leaves.
    const script = `
      import { SqliteStore } from './server/store/sqlite-store.ts';
      const store = new SqliteStore(${JSON.stringify(dir)});
      const job = (id, mapTasks) => ({ id, name: id, source: '', sourceDigest: 'd', submittedAtMs: 1, reducers: 1,
        mapTasks, maxAttempts: 3, replication: 1, inputBytes: 0, state: { status: 'queued' } });
      store.insertJob(job('job-small', 1), [new Uint8Array([9])]);
      store.beginJob(job('job-half', 4000));
      for (let first = 0; first < 3000; first += 1000) {
        store.putMapInputs('job-half', first, Array.from({ length: 1000 }, () => new Uint8Array([7])));
        store.flush();
      }
      process.kill(process.pid, 'SIGKILL');
    `;
    await runUntilKilled(script);
    // Before any store opens it: the pieces are on disk, the job's row says it was never finished.
    const db = new Database(path.join(dir, DATABASE_FILE));
    try {
      expect(db.prepare("SELECT stored FROM jobs WHERE id = 'job-half'").pluck().get()).toBe(0);
      expect(db.prepare("SELECT count(*) FROM map_inputs WHERE job_id = 'job-half'").pluck().get()).toBe(3000);
    } finally {
      db.close();
    }
    const store = new SqliteStore(dir);
    try {
      expect(store.listJobs().map((job) => job.id)).toEqual(['job-small']);
      expect(store.getJob('job-half')).toBeUndefined();
    } finally {
      store.close();
    }
    expect(rowsIn(dir, 'map_inputs')).toBe(1);
    expect(rowsIn(dir, 'jobs')).toBe(1);
  });

  it('migrates a database of schema version 1: its jobs are whole jobs, found as they were', () => {
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    const record = jobRecord('job-old');
    db.prepare('INSERT INTO jobs (id, record, status, submitted_at_ms, map_tasks, reducers) VALUES (?, ?, ?, ?, ?, ?)').run('job-old', JSON.stringify(record), 'queued', 1, 2, 1);
    // Version 1 wrote a row for every task at submission.
    db.prepare('INSERT INTO tasks (job_id, kind, idx, id, status, state) VALUES (?, ?, ?, ?, ?, ?)').run('job-old', 'map', 0, 'job-old/map/0', 'pending', JSON.stringify(taskRecord('job-old', 'map', 0).state));
    db.prepare('INSERT INTO map_outputs (job_id, partition, map_index, data) VALUES (?, ?, ?, ?)').run('job-old', 0, 1, Buffer.from('[["b",[1]]]'));
    db.prepare('INSERT INTO map_outputs (job_id, partition, map_index, data) VALUES (?, ?, ?, ?)').run('job-old', 0, 0, Buffer.from('[["a",[1]]]'));
    db.close();
    const store = new SqliteStore(dir);
    try {
      expect(store.listJobs()).toEqual([record]);
      expect(store.listTasks('job-old')).toEqual([taskRecord('job-old', 'map', 0)]);
      // Version 3 rebuilt the tables every task writes to: their rows came along, in key order.
      expect(store.getPartitionBlocks('job-old', 0).map((block) => Buffer.from(block).toString())).toEqual(['[["a",[1]]]', '[["b",[1]]]']);
    } finally {
      store.close();
    }
    const reopened = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    try {
      expect(reopened.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      reopened.close();
    }
  });
});
