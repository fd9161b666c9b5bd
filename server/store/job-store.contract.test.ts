/**
 * The JobStore contract, run against every implementation: what the scheduler relies
 * on (orderings, what a delete removes, what an unknown job does), and for a durable
 * store, that closing and opening it again gives everything back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyValue } from '../../shared/job.ts';
import { initialTaskState, type TaskKind, type TaskState } from '../../shared/task.ts';
import type { JobRecord, JobStore, TaskRecord } from './job-store.ts';
import { chunkResult, chunksOf, resultEntries } from '../result-data.ts';
import { MemoryStore } from './memory-store.ts';
import { SqliteStore } from './sqlite-store.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
/** A job's result as pairs, read back a chunk at a time as the API reads it; undefined when there is none. */
const pairsOf = (store: JobStore, jobId: string): KeyValue[] | undefined => {
  const chunks = store.resultChunks(jobId);
  return chunks === 0 ? undefined : [...resultEntries(chunksOf({ chunks, chunk: (index) => store.getResultChunk(jobId, index) }))];
};

interface Harness {
  store: JobStore;
  /** Closes the store and opens it again on the same data; only durable stores have it. */
  reopen?: () => JobStore;
  dispose(): void;
}

const implementations: { name: string; durable: boolean; open: () => Harness }[] = [
  {
    name: 'MemoryStore',
    durable: false,
    open: () => ({ store: new MemoryStore(), dispose: () => {} }),
  },
  {
    name: 'SqliteStore',
    durable: true,
    open: () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-store-'));
      let store = new SqliteStore(dir);
      return {
        store,
        reopen: () => {
          store.close();
          store = new SqliteStore(dir);
          return store;
        },
        dispose: () => {
          store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (data: Uint8Array) => decoder.decode(data);

function job(id: string, mapTasks = 3, reducers = 2, submittedAtMs = 1000): JobRecord {
  return {
    id,
    name: `job ${id}`,
    source: 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }',
    sourceDigest: `digest-${id}`,
    submittedAtMs,
    reducers,
    mapTasks,
    maxAttempts: 3,
    replication: 1,
    inputBytes: 42,
    state: { status: 'queued' },
  };
}

function task(jobId: string, kind: TaskKind, index: number, state: TaskState = initialTaskState()): TaskRecord {
  return { id: `${jobId}/${kind}/${index}`, jobId, kind, index, state };
}

function tasksOf(record: JobRecord): TaskRecord[] {
  return [
    ...Array.from({ length: record.mapTasks }, (_, index) => task(record.id, 'map', index)),
    ...Array.from({ length: record.reducers }, (_, index) => task(record.id, 'reduce', index)),
  ];
}

const inputsOf = (record: JobRecord) => Array.from({ length: record.mapTasks }, (_, index) => bytes(`${record.id} input ${index}`));

/** Inserts a job with its inputs, and returns it. */
function insert(store: JobStore, record: JobRecord): JobRecord {
  store.insertJob(record, inputsOf(record));
  return record;
}

/** Stores a job in pieces of `perPiece` map inputs, as a large submission is, and returns it. */
function insertInPieces(store: JobStore, record: JobRecord, perPiece: number): JobRecord {
  const inputs = inputsOf(record);
  store.beginJob(record);
  for (let first = 0; first < inputs.length; first += perPiece) store.putMapInputs(record.id, first, inputs.slice(first, first + perPiece));
  store.finishJob(record.id);
  return record;
}

/** Gives every map task of a job its output: block "m<map>p<partition>". */
function mapAll(store: JobStore, record: JobRecord): void {
  for (let mapIndex = 0; mapIndex < record.mapTasks; mapIndex++) {
    store.putMapOutput(record.id, mapIndex, Array.from({ length: record.reducers }, (_, partition) => bytes(`"m${mapIndex}p${partition}"`)));
  }
}

const retried: TaskState = {
  status: 'pending',
  attemptsStarted: 2,
  notBeforeMs: 1500,
  lastError: { name: 'LeaseLost', message: 'the volunteer disconnected' },
};
const failed: TaskState = { status: 'failed', attemptsStarted: 3, error: { name: 'TypeError', message: 'x is undefined', stack: 'at map (job.js:1:2)' } };

describe.each(implementations)('JobStore contract: $name', ({ open }) => {
  let harness: Harness;
  let store: JobStore;
  beforeEach(() => {
    harness = open();
    store = harness.store;
  });
  afterEach(() => harness.dispose());

  describe('jobs', () => {
    it('gives back a job as it was inserted, and undefined for one it does not hold', () => {
      const record = insert(store, job('job-1'));
      expect(store.getJob('job-1')).toEqual(record);
      expect(store.getJob('job-nope')).toBeUndefined();
    });

    it('refuses a job id it already holds', () => {
      insert(store, job('job-1'));
      expect(() => insert(store, job('job-1'))).toThrow(/already exists/);
    });

    it('lists jobs oldest first, in the order they were inserted', () => {
      for (const id of ['job-c', 'job-a', 'job-b']) insert(store, job(id));
      expect(store.listJobs().map((record) => record.id)).toEqual(['job-c', 'job-a', 'job-b']);
    });

    it('refuses a job whose inputs are not one per map task, unless it is a range, which has none', () => {
      expect(() => store.insertJob(job('job-1', 3), inputsOf(job('job-1', 2)))).toThrow(/3 map tasks and 2 inputs/);
      const range: JobRecord = { ...job('job-2', 4), inputBytes: 0, range: { from: 0, to: 10, recordsPerTask: 3 } };
      store.insertJob(range, []);
      expect(store.getJob('job-2')).toEqual(range);
      expect(() => store.getMapInput('job-2', 0)).toThrow();
    });

    it('updates a job state, and refuses to update a job it does not hold', () => {
      const record = insert(store, job('job-1'));
      const mapping: JobRecord = { ...record, state: { status: 'running', startedAtMs: 2000 } };
      store.updateJob(mapping);
      expect(store.getJob('job-1')).toEqual(mapping);
      expect(store.listJobs()).toEqual([mapping]);
      expect(() => store.updateJob(job('job-nope'))).toThrow();
    });
  });

  describe('tasks', () => {
    it('lists saved tasks, map tasks by index, then reduce tasks by index, whatever the order they were saved in', () => {
      const record = insert(store, job('job-1', 12, 11));
      for (const saved of tasksOf(record).reverse()) store.saveTask(saved);
      const listed = store.listTasks('job-1');
      expect(listed.map((t) => `${t.kind}${t.index}`)).toEqual([
        ...Array.from({ length: 12 }, (_, i) => `map${i}`),
        ...Array.from({ length: 11 }, (_, i) => `reduce${i}`),
      ]);
      expect(listed[0]).toEqual(task('job-1', 'map', 0));
    });

    it('lists no task of a new job: a task never saved is pending, and costs no row', () => {
      insert(store, job('job-1', 3, 2));
      expect(store.listTasks('job-1')).toEqual([]);
    });

    it('saves task states, each task on its own, and keeps the state saved, not what the record became since', () => {
      insert(store, job('job-1'));
      const saved = task('job-1', 'map', 1, retried);
      store.saveTask(saved);
      store.saveTask(task('job-1', 'reduce', 0, failed));
      // The scheduler goes on changing its records; the store holds what was saved.
      saved.state = initialTaskState();
      const byId = new Map(store.listTasks('job-1').map((t) => [t.id, t.state]));
      expect(byId.get('job-1/map/1')).toEqual(retried);
      expect(byId.get('job-1/reduce/0')).toEqual(failed);
      expect([...byId.keys()]).toEqual(['job-1/map/1', 'job-1/reduce/0']);
    });

    it('keeps the tasks of different jobs apart', () => {
      insert(store, job('job-1'));
      insert(store, job('job-2', 1, 1));
      store.saveTask(task('job-2', 'map', 0, retried));
      store.saveTask(task('job-1', 'reduce', 1));
      expect(store.listTasks('job-1').map((t) => t.id)).toEqual(['job-1/reduce/1']);
      expect(store.listTasks('job-2').map((t) => t.id)).toEqual(['job-2/map/0']);
    });

    it('refuses tasks of a job it does not hold', () => {
      expect(() => store.saveTask(task('job-nope', 'map', 0))).toThrow();
      expect(() => store.listTasks('job-nope')).toThrow();
    });
  });

  describe('a job stored in pieces', () => {
    it('holds the job only once finished: before, it is in no list, and nothing of it can be read or written', () => {
      const record = job('job-1', 5, 2);
      const inputs = inputsOf(record);
      store.beginJob(record);
      store.putMapInputs('job-1', 0, inputs.slice(0, 2));
      expect(store.getJob('job-1')).toBeUndefined();
      expect(store.listJobs()).toEqual([]);
      expect(() => store.listTasks('job-1')).toThrow();
      expect(() => store.updateJob(record)).toThrow();
      expect(() => store.putMapOutput('job-1', 0, [bytes('[]'), bytes('[]')])).toThrow();
      store.putMapInputs('job-1', 2, inputs.slice(2));
      store.finishJob('job-1');
      expect(store.getJob('job-1')).toEqual(record);
      expect(inputs.map((_, index) => text(store.getMapInput('job-1', index)))).toEqual(inputs.map(text));
      expect(store.listTasks('job-1')).toEqual([]);
    });

    it('takes pieces in task order only, and finishes only with every input', () => {
      const record = job('job-1', 4, 1);
      store.beginJob(record);
      store.putMapInputs('job-1', 0, inputsOf(record).slice(0, 2));
      expect(() => store.putMapInputs('job-1', 3, inputsOf(record).slice(3))).toThrow(/from 3 given, 2 expected/);
      expect(() => store.finishJob('job-1')).toThrow(/4 map tasks and 2 inputs/);
      expect(() => store.finishJob('job-nope')).toThrow();
      expect(() => store.putMapInputs('job-nope', 0, [])).toThrow();
    });

    it('finishes a range job, which has no inputs, at once', () => {
      const range: JobRecord = { ...job('job-1', 4), range: { from: 0, to: 8, recordsPerTask: 2 } };
      store.beginJob(range);
      store.finishJob('job-1');
      expect(store.getJob('job-1')).toEqual(range);
    });

    it('lists a job stored in pieces where it was finished, after jobs finished before it', () => {
      const big = job('job-big', 4, 1);
      store.beginJob(big);
      insert(store, job('job-small'));
      store.putMapInputs('job-big', 0, inputsOf(big));
      store.finishJob('job-big');
      insert(store, job('job-last'));
      expect(store.listJobs().map((record) => record.id)).toEqual(['job-small', 'job-big', 'job-last']);
    });

    it('refuses an id taken by a job stored or being stored', () => {
      insert(store, job('job-1'));
      expect(() => store.beginJob(job('job-1'))).toThrow(/already exists/);
      store.beginJob(job('job-2'));
      expect(() => store.insertJob(job('job-2'), inputsOf(job('job-2')))).toThrow(/already exists/);
      expect(() => store.beginJob(job('job-2'))).toThrow(/already exists/);
    });

    it('drops an unfinished job whole, and takes its id again; dropping what is not there does nothing', () => {
      const record = job('job-1', 3, 1);
      store.beginJob(record);
      store.putMapInputs('job-1', 0, inputsOf(record).slice(0, 2));
      store.dropUnfinishedJob('job-1');
      expect(() => store.finishJob('job-1')).toThrow();
      expect(() => store.getMapInput('job-1', 0)).toThrow();
      insertInPieces(store, record, 2);
      expect(store.getJob('job-1')).toEqual(record);
      // A finished job is not unfinished: dropping it as one leaves it be.
      store.dropUnfinishedJob('job-1');
      store.dropUnfinishedJob('job-nope');
      expect(store.getJob('job-1')).toEqual(record);
      expect(text(store.getMapInput('job-1', 2))).toBe('job-1 input 2');
    });
  });

  describe('map inputs and outputs', () => {
    it('gives back each map task input, bytes exactly', () => {
      const record = job('job-1', 3, 1);
      // A view into a larger buffer, and bytes that are not text: only the view is stored.
      const binary = new Uint8Array([0xff, 0, 1, 2, 0, 0xfe, 0xff]).subarray(1, 6);
      store.insertJob(record, [bytes('first'), binary, new Uint8Array(0)]);
      expect(text(store.getMapInput('job-1', 0))).toBe('first');
      expect([...store.getMapInput('job-1', 1)]).toEqual([0, 1, 2, 0, 0xfe]);
      expect(store.getMapInput('job-1', 2).length).toBe(0);
      expect(() => store.getMapInput('job-1', 3)).toThrow();
      expect(() => store.getMapInput('job-nope', 0)).toThrow();
    });

    it('gives back a partition blocks in map order, whatever order the maps finished in', () => {
      const record = insert(store, job('job-1', 11, 3));
      for (const mapIndex of [10, 3, 0, 7, 1, 2, 9, 4, 6, 5, 8]) {
        store.putMapOutput('job-1', mapIndex, [0, 1, 2].map((partition) => bytes(`"m${mapIndex}p${partition}"`)));
      }
      for (let partition = 0; partition < record.reducers; partition++) {
        expect(store.getPartitionBlocks('job-1', partition).map(text)).toEqual(Array.from({ length: 11 }, (_, m) => `"m${m}p${partition}"`));
      }
    });

    it('leaves empty blocks out of a partition, and refuses a job it does not hold', () => {
      insert(store, job('job-1', 3, 2));
      store.putMapOutput('job-1', 0, [bytes('[]'), bytes('[["a",[1]]]')]);
      store.putMapOutput('job-1', 1, [bytes('[["b",[2]]]'), bytes('[]')]);
      store.putMapOutput('job-1', 2, [bytes('[]'), bytes('[["c",[3]]]')]);
      expect(store.getPartitionBlocks('job-1', 0).map(text)).toEqual(['[["b",[2]]]']);
      expect(store.getPartitionBlocks('job-1', 1).map(text)).toEqual(['[["a",[1]]]', '[["c",[3]]]']);
      expect(() => store.getPartitionBlocks('job-nope', 0)).toThrow();
    });

    it('replaces a map output written again (a retried or backup copy)', () => {
      insert(store, job('job-1', 1, 2));
      store.putMapOutput('job-1', 0, [bytes('"old0"'), bytes('"old1"')]);
      store.putMapOutput('job-1', 0, [bytes('"new0"'), bytes('"new1"')]);
      expect(store.getPartitionBlocks('job-1', 0).map(text)).toEqual(['"new0"']);
      expect(store.getPartitionBlocks('job-1', 1).map(text)).toEqual(['"new1"']);
    });

    it('refuses map output for a job it does not hold', () => {
      expect(() => store.putMapOutput('job-nope', 0, [bytes('[]')])).toThrow();
    });
  });

  describe('reduce outputs and results', () => {
    it('gives back reduce outputs in partition order, and refuses while one is missing', () => {
      insert(store, job('job-1', 1, 3));
      store.putReduceOutput('job-1', 2, json([['c', 3]]));
      store.putReduceOutput('job-1', 0, json([['a', 1], ['d', { nested: [1, 'x', null] }]]));
      expect(() => store.getReduceOutputs('job-1')).toThrow(/reduce output 1/);
      store.putReduceOutput('job-1', 1, json([]));
      expect(store.getReduceOutputs('job-1').map(parse)).toEqual([[['a', 1], ['d', { nested: [1, 'x', null] }]], [], [['c', 3]]]);
      expect(() => store.getReduceOutputs('job-nope')).toThrow();
    });

    it('keeps a result exactly: order, key types, nested values', () => {
      insert(store, job('job-1'));
      const result: KeyValue[] = [
        [false, 1],
        [true, 'yes'],
        [-2.5, [1, 2]],
        [7, { a: { b: [null, 'é', '\u0000'] } }],
        ['', 0],
        ['z', 'last'],
        [['tuple', 1, true], 9],
      ];
      expect(store.resultChunks('job-1')).toBe(0);
      store.putResult('job-1', chunkResult(result));
      expect(pairsOf(store, 'job-1')).toEqual(result);
    });

    it('tells an empty result from no result', () => {
      insert(store, job('job-1'));
      store.putResult('job-1', chunkResult([]));
      expect(pairsOf(store, 'job-1')).toEqual([]);
    });

    it('keeps a large result whole and in order', () => {
      insert(store, job('job-1'));
      // About 4 MB of JSON: several of the SQLite store's chunks.
      const result: KeyValue[] = Array.from({ length: 16_000 }, (_, i) => [`key-${String(i).padStart(6, '0')}`, { count: i, text: 'x'.repeat(220) }]);
      store.putResult('job-1', chunkResult(result));
      expect(pairsOf(store, 'job-1')).toEqual(result);
    });

    it('answers undefined for the result of a job it does not hold, and refuses to store one', () => {
      expect(store.resultChunks('job-nope')).toBe(0);
      expect(() => store.putResult('job-nope', chunkResult([]))).toThrow();
      expect(() => store.putReduceOutput('job-nope', 0, json([]))).toThrow();
    });
  });

  describe('deleting', () => {
    function filled(id: string): JobRecord {
      const record = insert(store, job(id, 2, 2));
      mapAll(store, record);
      store.putReduceOutput(id, 0, json([['a', 1]]));
      store.putReduceOutput(id, 1, json([['b', 2]]));
      store.putResult(id, chunkResult([['a', 1], ['b', 2]]));
      store.saveTask(task(id, 'map', 0, retried));
      return record;
    }

    it('deleteIntermediate drops inputs, map outputs and reduce outputs, and keeps the job, its tasks and its result', () => {
      const record = filled('job-1');
      filled('job-2');
      const tasksBefore = store.listTasks('job-1');
      store.deleteIntermediate('job-1');
      expect(() => store.getMapInput('job-1', 0)).toThrow();
      expect(store.getPartitionBlocks('job-1', 0)).toEqual([]);
      expect(() => store.getReduceOutputs('job-1')).toThrow();
      expect(store.getJob('job-1')).toEqual(record);
      expect(store.listTasks('job-1')).toEqual(tasksBefore);
      expect(pairsOf(store, 'job-1')).toEqual([['a', 1], ['b', 2]]);
      // The other job is untouched.
      expect(text(store.getMapInput('job-2', 1))).toBe('job-2 input 1');
      expect(store.getPartitionBlocks('job-2', 1).map(text)).toEqual(['"m0p1"', '"m1p1"']);
      expect(store.getReduceOutputs('job-2').map(parse)).toEqual([[['a', 1]], [['b', 2]]]);
      expect(() => store.deleteIntermediate('job-nope')).toThrow();
    });

    it('deleteIntermediate is safe to repeat', () => {
      filled('job-1');
      store.deleteIntermediate('job-1');
      store.deleteIntermediate('job-1');
      expect(pairsOf(store, 'job-1')).toEqual([['a', 1], ['b', 2]]);
    });

    it('deleteJob removes the job and everything of it, and nothing of another job', () => {
      filled('job-1');
      const other = filled('job-2');
      store.deleteJob('job-1');
      expect(store.getJob('job-1')).toBeUndefined();
      expect(store.listJobs()).toEqual([other]);
      expect(store.resultChunks('job-1')).toBe(0);
      expect(() => store.listTasks('job-1')).toThrow();
      expect(() => store.getMapInput('job-1', 0)).toThrow();
      expect(() => store.getPartitionBlocks('job-1', 0)).toThrow();
      expect(() => store.deleteJob('job-1')).toThrow();
      expect(store.listTasks('job-2')).toHaveLength(1);
      expect(store.getPartitionBlocks('job-2', 0).map(text)).toEqual(['"m0p0"', '"m1p0"']);
      expect(pairsOf(store, 'job-2')).toEqual([['a', 1], ['b', 2]]);
    });

    it('takes a job id again once that job was deleted', () => {
      filled('job-1');
      store.deleteJob('job-1');
      const again = insert(store, job('job-1', 1, 1));
      expect(store.getJob('job-1')).toEqual(again);
      expect(store.listTasks('job-1')).toEqual([]);
      expect(store.resultChunks('job-1')).toBe(0);
    });
  });

  it('says when the writes so far are stored: durable() resolves after them, at once when none is pending', async () => {
    await expect(store.durable()).resolves.toBeUndefined();
    const record = insert(store, job('job-1'));
    store.saveTask(task('job-1', 'map', 0, retried));
    const stored = store.durable();
    await expect(stored).resolves.toBeUndefined();
    expect(store.getJob('job-1')).toEqual(record);
    expect(store.listTasks('job-1')[0]!.state).toEqual(retried);
  });

  it('closes, more than once', () => {
    store.close();
    store.close();
  });
});

describe.each(implementations.filter((implementation) => implementation.durable))('JobStore contract, durable: $name', ({ open }) => {
  let harness: Harness;
  let store: JobStore;
  beforeEach(() => {
    harness = open();
    store = harness.store;
  });
  afterEach(() => harness.dispose());

  it('after close and reopen, gives back jobs, task states, blocks, reduce outputs and results', () => {
    const finished = insert(store, { ...job('job-done', 2, 2), state: { status: 'succeeded', startedAtMs: 1100, finishedAtMs: 1900 } });
    store.putResult('job-done', chunkResult([['a', 1], [2, 'b']]));
    const running = insert(store, { ...job('job-running', 3, 2, 2000), state: { status: 'running', startedAtMs: 2100 } });
    store.saveTask(task('job-running', 'map', 0, retried));
    store.saveTask(task('job-running', 'map', 2, failed));
    mapAll(store, running);
    store.putReduceOutput('job-running', 1, json([['k', [1, 2]]]));
    const tasksBefore = store.listTasks('job-running');

    const reopened = harness.reopen!();
    expect(reopened.listJobs()).toEqual([finished, running]);
    expect(pairsOf(reopened, 'job-done')).toEqual([['a', 1], [2, 'b']]);
    expect(reopened.listTasks('job-running')).toEqual(tasksBefore);
    expect(text(reopened.getMapInput('job-running', 2))).toBe('job-running input 2');
    expect(reopened.getPartitionBlocks('job-running', 1).map(text)).toEqual(['"m0p1"', '"m1p1"', '"m2p1"']);
    reopened.putReduceOutput('job-running', 0, json([]));
    expect(reopened.getReduceOutputs('job-running').map(parse)).toEqual([[], [['k', [1, 2]]]]);
  });

  it('after close and reopen, has nothing of a job begun and not finished, and holds the ones finished', () => {
    const whole = insertInPieces(store, job('job-whole', 5, 1), 2);
    const half = job('job-half', 5, 1);
    store.beginJob(half);
    store.putMapInputs('job-half', 0, inputsOf(half).slice(0, 3));
    store.flush();

    const reopened = harness.reopen!();
    expect(reopened.listJobs()).toEqual([whole]);
    expect(reopened.getJob('job-half')).toBeUndefined();
    expect(() => reopened.getMapInput('job-half', 0)).toThrow();
    expect(text(reopened.getMapInput('job-whole', 4))).toBe('job-whole input 4');
    // Its id is free again: nothing of it was left behind.
    insert(reopened, half);
    expect(text(reopened.getMapInput('job-half', 4))).toBe('job-half input 4');
  });

  it('after close and reopen, deleted data stays deleted', () => {
    const kept = insert(store, job('job-kept', 1, 1));
    kept.state = { status: 'succeeded', startedAtMs: 1, finishedAtMs: 2 };
    store.updateJob(kept);
    mapAll(store, kept);
    store.putResult('job-kept', chunkResult([['x', 1]]));
    store.deleteIntermediate('job-kept');
    insert(store, job('job-gone'));
    store.deleteJob('job-gone');

    const reopened = harness.reopen!();
    expect(reopened.listJobs()).toEqual([kept]);
    expect(pairsOf(reopened, 'job-kept')).toEqual([['x', 1]]);
    expect(() => reopened.getMapInput('job-kept', 0)).toThrow();
    expect(reopened.getPartitionBlocks('job-kept', 0)).toEqual([]);
    expect(reopened.getJob('job-gone')).toBeUndefined();
  });
});
