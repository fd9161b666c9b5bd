/**
 * `npx tsx bench/store.ts`: how fast the job stores do what the scheduler asks of them,
 * the SQLite store beside the memory store in the same run (read the ratio; machines here
 * are noisy). Measures insertJob for 1,000 and 100,000 map tasks, saveTask calls per
 * second, putMapOutput and getPartitionBlocks throughput with 64 KB blocks, and the
 * size of the database file as it goes.
 *
 * Flags: --blocks-mb N (default 256): how much map output the throughput test writes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultReducers } from '../shared/job.ts';
import { initialTaskState, transitionTask, type TaskState } from '../shared/task.ts';
import type { JobRecord, JobStore, TaskRecord } from '../server/store/job-store.ts';
import { MemoryStore } from '../server/store/memory-store.ts';
import { DATABASE_FILE, SqliteStore } from '../server/store/sqlite-store.ts';
import { numberFlag } from './corpus.ts';

const MB = 1_000_000;
const BLOCK_BYTES = 64 * 1024;
const PARTITIONS = 8;

function makeJob(id: string, mapTasks: number, inputBytes: number): { job: JobRecord; tasks: TaskRecord[]; inputs: Uint8Array[] } {
  const reducers = defaultReducers(mapTasks);
  const job: JobRecord = {
    id,
    name: id,
    source: 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }',
    sourceDigest: 'digest',
    submittedAtMs: Date.now(),
    reducers,
    mapTasks,
    maxAttempts: 4,
    replication: 1,
    inputBytes: mapTasks * inputBytes,
    state: { status: 'queued' },
  };
  const task = (kind: 'map' | 'reduce', index: number): TaskRecord => ({ id: `${id}/${kind}/${index}`, jobId: id, kind, index, state: initialTaskState() });
  const tasks = [...Array.from({ length: mapTasks }, (_, i) => task('map', i)), ...Array.from({ length: reducers }, (_, i) => task('reduce', i))];
  const input = new TextEncoder().encode(JSON.stringify([[0, 'x'.repeat(Math.max(0, inputBytes - 10))]]));
  return { job, tasks, inputs: Array.from({ length: mapTasks }, () => input) };
}

/** Milliseconds `run` takes, best of `tries` (the machine is shared: the best is the least noisy). */
function time(run: () => void, tries = 3): number {
  let best = Infinity;
  for (let i = 0; i < tries; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** The database file and its WAL, in MB. */
function databaseSize(dir: string): string {
  const size = (file: string) => {
    try {
      return statSync(path.join(dir, file)).size / MB;
    } catch {
      return 0;
    }
  };
  return `database ${size(DATABASE_FILE).toFixed(1)} MB + WAL ${size(`${DATABASE_FILE}-wal`).toFixed(1)} MB`;
}

interface Row {
  what: string;
  memory: number;
  sqlite: number;
  unit: string;
}

function main(): void {
  const blocksMb = numberFlag(process.argv.slice(2), 'blocks-mb', 256);
  const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-store-bench-'));
  const stores: Record<'memory' | 'sqlite', JobStore> = { memory: new MemoryStore(), sqlite: new SqliteStore(dir) };
  const rows: Row[] = [];
  const sizes: string[] = [];
  const both = (what: string, unit: string, measure: (store: JobStore, name: 'memory' | 'sqlite') => number) => {
    rows.push({ what, unit, memory: measure(stores.memory, 'memory'), sqlite: measure(stores.sqlite, 'sqlite') });
    sizes.push(`after ${what}: ${databaseSize(dir)}`);
  };

  try {
    let jobs = 0;
    for (const mapTasks of [1_000, 100_000]) {
      both(`insertJob, ${mapTasks.toLocaleString('en')} map tasks, 100 B inputs`, 'ms', (store, name) =>
        time(() => {
          const { job, inputs } = makeJob(`${name}-${jobs++}`, mapTasks, 100);
          store.insertJob(job, inputs);
        }, mapTasks > 10_000 ? 1 : 3),
      );
    }
    both('insertJob, 20 map tasks of 1 MiB (a 20 MB text job)', 'ms', (store, name) =>
      time(() => {
        const { job, inputs } = makeJob(`${name}-${jobs++}`, 20, 1024 * 1024);
        store.insertJob(job, inputs);
      }),
    );

    // saveTask: lease, then complete, over and over, as the scheduler does.
    const saves = 100_000;
    both('saveTask', 'calls/s', (store, name) => {
      const { job, tasks, inputs } = makeJob(`${name}-saves`, 1_000, 100);
      store.insertJob(job, inputs);
      const policy = { maxAttempts: 4, backoffMs: () => 0, replication: 1, maxAnswers: 1 };
      const states: TaskState[] = [];
      const leased = transitionTask(
        initialTaskState(),
        { type: 'lease', lease: { token: '3f0a4c2e-9d1b-4b7e-8a57-2f6c1d9e0b13', volunteerId: 'Xk2bQ9sLm3PqR7tVAAAB', leasedAtMs: 1, deadlineMs: 30_001, backup: false } },
        1,
        policy,
      ) as TaskState;
      states.push(leased, transitionTask(leased, { type: 'complete', token: '3f0a4c2e-9d1b-4b7e-8a57-2f6c1d9e0b13', digest: '' }, 5, policy) as TaskState);
      const ms = time(() => {
        for (let i = 0; i < saves; i++) {
          // Each task leased, then done, then leased again: every save changes its status.
          const task = tasks[(i >> 1) % 1_000]!;
          store.saveTask({ ...task, state: states[i & 1]! });
        }
      }, 1);
      return saves / (ms / 1000);
    });

    // Map output: R blocks of 64 KB per map task, random bytes (incompressible, like JSON is not).
    const mapCalls = Math.max(1, Math.round((blocksMb * MB) / (BLOCK_BYTES * PARTITIONS)));
    const block = new Uint8Array(BLOCK_BYTES).map((_, i) => (i * 2654435761) >>> 24);
    const written = (mapCalls * PARTITIONS * BLOCK_BYTES) / MB;
    const blockJob = (name: string) => `${name}-blocks`;
    both(`putMapOutput, ${PARTITIONS} x 64 KB per call, ${written.toFixed(0)} MB`, 'MB/s', (store, name) => {
      const { job, inputs } = makeJob(blockJob(name), mapCalls, 100);
      store.insertJob({ ...job, reducers: PARTITIONS }, inputs);
      const ms = time(() => {
        for (let mapIndex = 0; mapIndex < mapCalls; mapIndex++) store.putMapOutput(job.id, mapIndex, Array.from({ length: PARTITIONS }, () => block));
      }, 1);
      return written / (ms / 1000);
    });
    both(`getPartitionBlocks, all ${PARTITIONS} partitions`, 'MB/s', (store, name) => {
      let bytes = 0;
      const ms = time(() => {
        for (let partition = 0; partition < PARTITIONS; partition++) for (const b of store.getPartitionBlocks(blockJob(name), partition)) bytes += b.length;
      }, 1);
      return bytes / MB / (ms / 1000);
    });
    both('deleteIntermediate of that job', 'ms', (store, name) => time(() => store.deleteIntermediate(blockJob(name)), 1));
    // The pages freed above are reused: the file should not grow for a second job as large.
    both(`putMapOutput again, another job, ${written.toFixed(0)} MB`, 'MB/s', (store, name) => {
      const { job, inputs } = makeJob(`${blockJob(name)}-again`, mapCalls, 100);
      store.insertJob({ ...job, reducers: PARTITIONS }, inputs);
      const ms = time(() => {
        for (let mapIndex = 0; mapIndex < mapCalls; mapIndex++) store.putMapOutput(job.id, mapIndex, Array.from({ length: PARTITIONS }, () => block));
      }, 1);
      return written / (ms / 1000);
    });

    const width = Math.max(...rows.map((row) => row.what.length));
    console.log(`${'operation'.padEnd(width)}   ${'memory'.padStart(12)}   ${'sqlite'.padStart(12)}   unit`);
    for (const row of rows) {
      console.log(`${row.what.padEnd(width)}   ${row.memory.toFixed(1).padStart(12)}   ${row.sqlite.toFixed(1).padStart(12)}   ${row.unit}`);
    }
    console.log('');
    for (const line of sizes) console.log(line);
  } finally {
    stores.sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
