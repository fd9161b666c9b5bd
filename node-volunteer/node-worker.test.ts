/**
 * The Node volunteer's executor: `WorkerPool` over worker threads, driven by a real
 * coordinator through the same `VolunteerClient` a tab runs. What a Web Worker pool
 * promises must hold on threads too: a task past its deadline is stopped and its thread
 * replaced, a thread that dies is replaced, job code's errors arrive whole.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobSummary, KeyValue } from '../shared/job.ts';
import type { Coordinator } from '../server/coordinator.ts';
import { api, startVolunteer, testCoordinator, waitFor, waitForJobEnd, type TestVolunteer } from '../testing/integration-rig.ts';
import { WorkerPool } from '../runtime/worker-pool.ts';
import { createNodeJobWorker } from './node-worker.ts';

const COUNT = 'export function reduce(key, values) { return values.reduce((a, b) => a + b, 0); }\n';

describe('WorkerPool on Node worker threads', () => {
  let coordinator: Coordinator | undefined;
  let volunteer: TestVolunteer | undefined;
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    volunteer?.stop();
    await coordinator?.close();
  });

  async function setUp(taskTimeoutMs = 60_000) {
    coordinator = await testCoordinator({ taskTimeoutMs });
    pool = new WorkerPool({ slots: 2, createWorker: createNodeJobWorker });
    volunteer = startVolunteer(coordinator.url, pool);
    await waitFor('the volunteer', async () => (await coordinator!.scheduler.cluster()).volunteers === 1);
  }

  async function run(source: string, input: unknown, extra: Record<string, unknown> = {}): Promise<JobSummary & { result?: KeyValue[] }> {
    const { body } = await api<{ id: string }>(coordinator!.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'node-worker-test', source, input, maxAttempts: 1, ...extra },
    });
    const job = await waitForJobEnd(coordinator!.url, body.id);
    if (job.state !== 'succeeded') return job;
    return { ...job, result: (await api<KeyValue[]>(coordinator!.url, `/api/jobs/${body.id}/result`)).body };
  }

  const countJob = `export function* map(k) { yield [k % 2 === 0 ? 'even' : 'odd', 1]; }\n${COUNT}`;

  it('runs map and reduce tasks on threads', async () => {
    await setUp();
    const job = await run(countJob, { kind: 'range', from: 0, to: 100 }, { recordsPerTask: 10, reducers: 2 });
    expect(job.result).toEqual([['even', 50], ['odd', 50]]);
    expect(volunteer!.state().tasksDone).toBe(12);
  });

  it("stops a task past its deadline, replaces that thread, and runs the next job", async () => {
    // Long enough for a fresh thread to boot under a loaded test run, short enough to wait for.
    await setUp(2_500);
    const job = await run(`export function* map(k) { for (;;) {} }\n${COUNT}`, { kind: 'range', from: 0, to: 1 });
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ name: 'TaskTimeout' });
    expect(pool!.workerCount).toBe(2);
    expect((await run(countJob, { kind: 'range', from: 0, to: 4 }, { maxAttempts: 4 })).result).toEqual([['even', 2], ['odd', 2]]);
  });

  it('reports a thread that job code ends with process.exit() as crashed, and replaces it', async () => {
    await setUp();
    const job = await run(`export function* map(k) { process.exit(3); }\n${COUNT}`, { kind: 'range', from: 0, to: 1 });
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ name: 'WorkerCrashed', message: expect.stringContaining('exit code 3') });
    expect((await run(countJob, { kind: 'range', from: 0, to: 4 }, { maxAttempts: 4 })).result).toEqual([['even', 2], ['odd', 2]]);
  });

  it("carries job code's error whole: name, message, stack", async () => {
    await setUp();
    const job = await run(`export function* map(k) { throw new SyntaxError('no parse ' + k); }\n${COUNT}`, { kind: 'range', from: 7, to: 8 });
    expect(job.error).toMatchObject({ name: 'SyntaxError', message: expect.stringContaining('no parse 7'), taskId: expect.any(String) });
    expect(job.error?.stack).toMatch(/at (Object\.)?map \(data:text\/javascript/);
  });

  it("gives job code none of the volunteer's environment variables", async () => {
    process.env.TABREDUCE_NODE_WORKER_TEST_SECRET = 'hunter2';
    try {
      await setUp();
      const job = await run(`export function* map(k) { yield [String(process.env.TABREDUCE_NODE_WORKER_TEST_SECRET), 1]; }\n${COUNT}`, { kind: 'range', from: 0, to: 1 });
      expect(job.result).toEqual([['undefined', 1]]);
    } finally {
      delete process.env.TABREDUCE_NODE_WORKER_TEST_SECRET;
    }
  });
});
