/**
 * The pool against stand-in workers: each "worker" is the real job worker API exposed
 * with Comlink over a Node MessageChannel, so the Comlink wiring, transfers, deadlines
 * and replacement are the real ones; only the thread is not.
 */
import * as Comlink from 'comlink';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { unpackParts } from '../shared/byte-packing.ts';
import type { JobSourceReply, MapAssignment, MapInputPayload, ReduceAssignment, TaskOutput } from '../shared/protocol.ts';
import { createJobWorkerApi, type ModuleImporter } from './job-worker-api.ts';
import { importFromDataUrl } from '../node-volunteer/data-url-import.ts';
import { WorkerPool, type WorkerLike } from './worker-pool.ts';

class StandInWorker extends EventTarget implements WorkerLike {
  terminated = false;
  readonly #port: MessagePort;
  readonly #other: MessagePort;

  constructor(importer: ModuleImporter) {
    super();
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(createJobWorkerApi(importer), port2);
    this.#port = port1;
    this.#other = port2;
  }

  /** Calls of the worker API by method name, as Comlink sends them. */
  readonly calls: string[] = [];

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    const path = (message as { path?: string[] } | undefined)?.path;
    if (path?.length) this.calls.push(path.join('.'));
    this.#port.postMessage(message, transfer);
  }

  start(): void {
    this.#port.start();
  }

  // Comlink's messages go to and come from the port; 'error' stays on this object,
  // where the test dispatches it.
  override addEventListener(...[type, listener, options]: Parameters<EventTarget['addEventListener']>): void {
    if (type === 'message' && listener) this.#port.addEventListener(type, listener, options);
    else super.addEventListener(type, listener, options);
  }

  override removeEventListener(...[type, listener, options]: Parameters<EventTarget['removeEventListener']>): void {
    if (type === 'message' && listener) this.#port.removeEventListener(type, listener, options);
    else super.removeEventListener(type, listener, options);
  }

  terminate(): void {
    this.terminated = true;
    this.#port.close();
    this.#other.close();
  }
}

/**
 * Resolves once every task handed to the pool is on a worker: they are shared out at
 * the end of the turn, a microtask away, well before any worker can answer.
 */
async function started(pool: WorkerPool): Promise<void> {
  for (let tick = 0; tick < 10 && pool.unstarted().length > 0; tick++) await Promise.resolve();
  expect(pool.unstarted()).toEqual([]);
}

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: ArrayBuffer | Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));
const arrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

let digestCounter = 0;
/** A job with a fresh digest (and a fresh module: the comment makes the data: URL unique). */
function job(body: string): JobSourceReply {
  const digest = `digest-${++digestCounter}`;
  return { jobId: `job-${digest}`, name: `job ${digest}`, digest, source: `// ${digest}\n${body}` };
}

const WORD_COUNT = `
export function* map(key, value) { for (const w of value.split(/\\s+/)) if (w) yield [w, 1]; }
export function reduce(key, values) { return values.reduce((a, b) => a + b, 0); }
`;
/** Module set-up that never finishes: the stand-in for job code that hangs. */
const HANGS = `await new Promise(() => {});\nexport function* map() {}\nexport function reduce() {}`;

function mapTask(text: string, timeoutMs = 10_000): MapAssignment {
  return {
    kind: 'map',
    taskId: `m-${text}`,
    jobId: 'j',
    index: 0,
    leaseToken: 'lease',
    sourceDigest: 'unused',
    timeoutMs,
    partitions: 2,
    input: { format: 'text', key: 'file', bytes: arrayBuffer(new TextEncoder().encode(text)) },
  };
}

function reduceTask(blocks: unknown[]): ReduceAssignment {
  return {
    kind: 'reduce',
    taskId: 'r',
    jobId: 'j',
    index: 0,
    leaseToken: 'lease',
    sourceDigest: 'unused',
    timeoutMs: 10_000,
    partition: 0,
    blocks: arrayBuffer(encode(blocks)),
  };
}

const live = (signal = new AbortController().signal) => signal;

describe('WorkerPool', () => {
  let workers: StandInWorker[] = [];
  let imports = 0;
  let pool: WorkerPool | undefined;

  const makePool = (slots: number) => {
    pool = new WorkerPool({
      slots,
      createWorker: () => {
        const worker = new StandInWorker((source) => {
          imports++;
          return importFromDataUrl(source);
        });
        workers.push(worker);
        return worker;
      },
    });
    return pool;
  };
  const alive = () => workers.filter((worker) => !worker.terminated);

  afterEach(() => {
    pool?.dispose();
    workers = [];
    imports = 0;
  });

  test('runs map and reduce tasks on workers, loading each job once per worker', async () => {
    const pool = makePool(1);
    const wordCount = job(WORD_COUNT);
    const first = mapTask('a b a');
    const output = await pool.run(first, wordCount, live());
    expect(output.kind).toBe('map');
    const { blocks: packed, offsets } = output as Extract<TaskOutput, { kind: 'map' }>;
    expect(offsets).toHaveLength(3);
    const blocks = unpackParts(new Uint8Array(packed), offsets).map(decode).flat();
    expect(blocks).toEqual(expect.arrayContaining([['a', [1, 1]], ['b', [1]]]));
    // The input was moved to the worker, not copied.
    expect(((first.input as MapInputPayload).bytes as ArrayBuffer).byteLength).toBe(0);

    await pool.run(mapTask('c'), wordCount, live());
    const reduced = await pool.run(reduceTask([[['a', [1, 1]]], [['a', [1]], ['b', [4]]]]), wordCount, live());
    expect(decode((reduced as Extract<TaskOutput, { kind: 'reduce' }>).pairs)).toEqual([['a', 3], ['b', 4]]);
    expect(imports).toBe(1);
    expect(workers).toHaveLength(1);
  });

  test('a failing task rejects with the job error and leaves the worker in service', async () => {
    const pool = makePool(1);
    const broken = job(`export function* map() { throw new SyntaxError('nope'); }\nexport function reduce() {}`);
    await expect(pool.run(mapTask('x'), broken, live())).rejects.toMatchObject({
      name: 'SyntaxError',
      message: 'nope (in map of record #0 (key "file"))',
    });
    const setupFails = job(`throw new Error('set-up failed');`);
    await expect(pool.run(mapTask('x'), setupFails, live())).rejects.toMatchObject({ message: 'set-up failed' });
    expect(await pool.run(mapTask('still works'), job(WORD_COUNT), live())).toMatchObject({ kind: 'map' });
    expect(workers).toHaveLength(1);
    expect(workers[0]!.terminated).toBe(false);
  });

  test('a task past its deadline rejects with TaskTimeout and its worker is replaced', async () => {
    const pool = makePool(1);
    await expect(pool.run(mapTask('x', 50), job(HANGS), live())).rejects.toMatchObject({ name: 'TaskTimeout' });
    expect(workers[0]!.terminated).toBe(true);
    expect(alive()).toHaveLength(1);
    expect(await pool.run(mapTask('after'), job(WORD_COUNT), live())).toMatchObject({ kind: 'map' });
  });

  test('an aborted task rejects with TaskRevoked and its worker is replaced', async () => {
    const pool = makePool(1);
    const controller = new AbortController();
    const running = pool.run(mapTask('x'), job(HANGS), controller.signal);
    await started(pool);
    controller.abort();
    await expect(running).rejects.toMatchObject({ name: 'TaskRevoked' });
    expect(workers[0]!.terminated).toBe(true);
    expect(alive()).toHaveLength(1);
    await expect(pool.run(mapTask('y'), job(WORD_COUNT), AbortSignal.abort())).rejects.toMatchObject({ name: 'TaskRevoked' });
  });

  test('a worker that dies mid-task fails the task and is replaced', async () => {
    const pool = makePool(1);
    const running = pool.run(mapTask('x'), job(HANGS), live());
    await started(pool);
    workers[0]!.dispatchEvent(Object.assign(new Event('error'), { message: 'out of memory' }));
    await expect(running).rejects.toMatchObject({ name: 'WorkerCrashed', message: expect.stringContaining('out of memory') });
    expect(alive()).toHaveLength(1);
    expect(await pool.run(mapTask('after'), job(WORD_COUNT), live())).toMatchObject({ kind: 'map' });
  });

  test('an idle worker that dies is replaced when next needed', async () => {
    const pool = makePool(1);
    workers[0]!.dispatchEvent(new Event('error'));
    expect(alive()).toHaveLength(0);
    expect(await pool.run(mapTask('after'), job(WORD_COUNT), live())).toMatchObject({ kind: 'map' });
    expect(alive()).toHaveLength(1);
  });

  test('more tasks than slots wait their turn', async () => {
    const pool = makePool(2);
    const wordCount = job(WORD_COUNT);
    const outputs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((word) => pool.run(mapTask(word), wordCount, live())));
    expect(outputs).toHaveLength(5);
    expect(workers).toHaveLength(2);
  });

  test('resize adds workers, removes idle ones at once and busy ones after their task', async () => {
    const pool = makePool(2);
    expect(pool.slots).toBe(2);
    pool.resize(4);
    expect(pool.slots).toBe(4);
    expect(alive()).toHaveLength(4);

    const controller = new AbortController();
    const busy = [pool.run(mapTask('h1'), job(HANGS), controller.signal), pool.run(mapTask('h2'), job(HANGS), controller.signal)];
    await started(pool);
    pool.resize(1);
    expect(pool.slots).toBe(1);
    // The two idle workers went at once; the two busy ones stay until their tasks end.
    expect(alive()).toHaveLength(2);
    controller.abort();
    await Promise.allSettled(busy);
    expect(alive()).toHaveLength(1);
    expect(pool.slots).toBe(1);
    expect(await pool.run(mapTask('ok'), job(WORD_COUNT), live())).toMatchObject({ kind: 'map' });
  });

  test('tasks handed over in one turn are shared out among the idle workers, several to a call', async () => {
    const pool = makePool(2);
    const wordCount = job(WORD_COUNT);
    const words = Array.from({ length: 10 }, (_, i) => `w${i}`);
    const outputs = await Promise.all(words.map((word) => pool.run({ ...mapTask(word), taskId: word }, wordCount, live())));
    const keys = outputs.map((output) => unpackParts(new Uint8Array((output as Extract<TaskOutput, { kind: 'map' }>).blocks), (output as Extract<TaskOutput, { kind: 'map' }>).offsets).map(decode).flat());
    expect(keys.map((entries) => (entries as [string, number[]][]).map(([key]) => key))).toEqual(words.map((word) => [word]));
    expect(workers.map((worker) => worker.calls.filter((call) => call === 'runBatch').length)).toEqual([1, 1]);
    expect(pool.taskMs).toBeGreaterThanOrEqual(0);
  });

  test('a batch whose worker dies runs again task by task, so no task is blamed for another', async () => {
    const pool = makePool(1);
    const wordCount = job(WORD_COUNT);
    const running = ['a', 'b', 'c'].map((word) => pool.run({ ...mapTask(word), taskId: word }, wordCount, live()));
    await started(pool);
    workers[0]!.dispatchEvent(Object.assign(new Event('error'), { message: 'out of memory' }));
    const outputs = await Promise.all(running);
    expect(outputs.map((output) => output.kind)).toEqual(['map', 'map', 'map']);
    // The crashed worker, then one call each on its replacement.
    expect(workers[0]!.terminated).toBe(true);
    expect(workers.slice(1).flatMap((worker) => worker.calls.filter((call) => call === 'runBatch'))).toHaveLength(3);
  });

  test('one task of a batch aborted: the others finish on the same worker', async () => {
    const pool = makePool(1);
    const wordCount = job(WORD_COUNT);
    const controller = new AbortController();
    const revoked = pool.run({ ...mapTask('gone'), taskId: 'gone' }, wordCount, controller.signal);
    const kept = pool.run({ ...mapTask('kept'), taskId: 'kept' }, wordCount, live());
    await started(pool);
    controller.abort();
    await expect(revoked).rejects.toMatchObject({ name: 'TaskRevoked' });
    expect(await kept).toMatchObject({ kind: 'map' });
    expect(workers).toHaveLength(1);
    expect(workers[0]!.terminated).toBe(false);
  });

  test('dispose stops running tasks and every worker', async () => {
    const pool = makePool(2);
    const running = pool.run(mapTask('x'), job(HANGS), live());
    pool.dispose();
    await expect(running).rejects.toMatchObject({ name: 'TaskRevoked' });
    expect(alive()).toHaveLength(0);
    await expect(pool.run(mapTask('y'), job(WORD_COUNT), live())).rejects.toMatchObject({ name: 'TaskRevoked' });
  });

  test('a busy worker fetches its next split ahead, and maps it without fetching it again', async () => {
    // The first split is answered only once the second is asked for: the pool must have the
    // busy worker fetch the second ahead, or the first never arrives and the test times out.
    const requests: string[] = [];
    let firstResponse: ServerResponse | undefined;
    const server = createServer((request, response) => {
      requests.push(request.url!);
      if (request.url === '/first') firstResponse = response;
      else response.end('second split');
      if (requests.includes('/second')) firstResponse?.end('first split');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const fetched = (name: string): MapAssignment => ({ ...mapTask(name), input: { format: 'text', key: 'file', url: `${base}/${name}` } });
      const pool = makePool(1);
      const wordCount = job(WORD_COUNT);
      // Handed over a turn apart, so they are not one batch (a batch fetches all its inputs at once).
      const first = pool.run(fetched('first'), wordCount, live());
      await started(pool);
      const outputs = await Promise.all([first, pool.run(fetched('second'), wordCount, live())]);
      const words = outputs.map((output) => {
        if (output.kind !== 'map') throw new Error('expected map output');
        return unpackParts(new Uint8Array(output.blocks), output.offsets).flatMap((block) => (decode(block) as [string, number[]][]).map(([word]) => word)).sort();
      });
      expect(words).toEqual([['first', 'split'], ['second', 'split']]);
      expect(requests.sort()).toEqual(['/first', '/second']);
      expect(workers[0]!.calls).toContain('prefetch');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
