/**
 * The coordinator with real Socket.IO volunteers: the same VolunteerClient a tab runs,
 * over real sockets, running the seed examples and surviving volunteers that vanish.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { apiInputOf, EXAMPLES } from '../examples/catalog.ts';
import type { KeyValue, TaskSummary } from '../shared/job.ts';
import type { JobSourceReply, TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import { taskRevoked, type TaskExecutor } from '../runtime/task-executor.ts';
import type { Coordinator } from './coordinator.ts';
import { api, rawVolunteer, startVolunteer, testCoordinator, waitFor, waitForJobEnd, type TestVolunteer } from '../testing/integration-rig.ts';

const source = (id: string) => readFileSync(new URL(`../examples/${id}.js`, import.meta.url), 'utf8');

/** An executor that takes tasks and never finishes them: a tab that froze. */
class FrozenExecutor implements TaskExecutor {
  readonly slots = 2;
  started: string[] = [];
  run(assignment: TaskAssignment, _job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    this.started.push(assignment.taskId);
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(taskRevoked())));
  }
  resize(): void {}
  dispose(): void {}
}

describe('coordinator with real volunteers', () => {
  let coordinator: Coordinator | undefined;
  let volunteers: TestVolunteer[] = [];
  afterEach(async () => {
    for (const volunteer of volunteers) volunteer.stop();
    volunteers = [];
    await coordinator?.close();
  });

  it('runs every seed example to its published answer on three volunteers', async () => {
    coordinator = await testCoordinator();
    volunteers = [0, 1, 2].map(() => startVolunteer(coordinator!.url));
    await waitFor('three volunteers', async () => (await coordinator!.scheduler.cluster()).volunteers === 3);
    const ids = await Promise.all(
      EXAMPLES.map(async (example) => {
        const post = async (posted: { id: string }, input: unknown) => {
          const { body } = await api<{ id: string }>(coordinator!.url, '/api/jobs', {
            method: 'POST',
            json: { name: posted.id, source: source(posted.id), input, reducers: 3, recordsPerTask: 5 },
          });
          return body.id;
        };
        return post(example, await apiInputOf(example.input, post));
      }),
    );
    for (const [i, id] of ids.entries()) {
      const job = await waitForJobEnd(coordinator.url, id);
      expect(job.error).toBeUndefined();
      expect(job.state).toBe('succeeded');
      const { body: result } = await api<KeyValue[]>(coordinator.url, `/api/jobs/${id}/result`);
      const byKey = new Map(result.map(([key, value]) => [JSON.stringify(key), value]));
      for (const [key, value] of EXAMPLES[i]!.expected ?? []) expect(byKey.get(JSON.stringify(key))).toEqual(value);
    }
    const tasksDone = volunteers.map((volunteer) => volunteer.state().tasksDone);
    expect(tasksDone.filter((done) => done > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('serves the result as CSV, quoted where needed', async () => {
    coordinator = await testCoordinator();
    volunteers = [startVolunteer(coordinator.url)];
    const text = 'Hello, "world"\nhello world\n';
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'chars', source: source('char-count'), input: { kind: 'records', records: [[1, text]] } },
    });
    await waitForJobEnd(coordinator.url, body.id);
    const csv = await api<string>(coordinator.url, `/api/jobs/${body.id}/result?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('key,value');
    expect(lines).toContain('"\n",2');
    expect(lines).toContain('"""",2');
    expect(lines).toContain('",",1');
    expect(lines).toContain('" ",2');
  });

  it('gives a frozen volunteer\'s tasks to others once it disconnects, and finishes exactly', async () => {
    coordinator = await testCoordinator();
    const frozen = new FrozenExecutor();
    const stuck = startVolunteer(coordinator.url, frozen);
    volunteers = [stuck];
    await waitFor('the frozen volunteer', () => stuck.state()?.connected);
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'tri', source: source('triangular-numbers'), input: { kind: 'range', from: 0, to: 100 }, recordsPerTask: 10, reducers: 2 },
    });
    // Two slots: two tasks running and two more held ready.
    await waitFor('the frozen volunteer to hold four tasks', () => frozen.started.length === 4);
    const healthy = startVolunteer(coordinator.url);
    volunteers.push(healthy);
    stuck.stop();
    const job = await waitForJobEnd(coordinator.url, body.id);
    expect(job).toMatchObject({ state: 'succeeded', retries: 4 });
    const { body: result } = await api<KeyValue[]>(coordinator.url, `/api/jobs/${body.id}/result`);
    expect(result).toEqual(Array.from({ length: 100 }, (_, k) => [k, (k * (k + 1)) / 2]));
  });

  it('reassigns a task whose lease expires while its volunteer stays connected but silent', async () => {
    coordinator = await testCoordinator({ leaseMs: 300, sweepIntervalMs: 50 });
    // A tab that froze whole: its socket stays up, but it neither answers nor renews.
    const silent = await rawVolunteer(coordinator.url);
    await silent.emitWithAck('volunteer:hello', { agent: 'frozen', slots: 2 });
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'tri', source: source('triangular-numbers'), input: { kind: 'range', from: 0, to: 10 }, recordsPerTask: 5, reducers: 1 },
    });
    const taken = await silent.emitWithAck('task:request', { max: 2 });
    expect(taken.ok && taken.value.tasks).toHaveLength(2);
    volunteers = [startVolunteer(coordinator.url)];
    const job = await waitForJobEnd(coordinator.url, body.id);
    expect(job).toMatchObject({ state: 'succeeded', retries: 2 });
    // The frozen tab wakes up with its stale answer: refused, never counted twice.
    const stale = taken.ok ? taken.value.tasks[0]! : undefined;
    const late = await silent.emitWithAck('task:fail', { taskId: stale!.taskId, leaseToken: stale!.leaseToken, error: { name: 'Late', message: 'late' } });
    expect(late).toMatchObject({ ok: false, error: { code: 'LEASE_INVALID' } });
    silent.disconnect();
  });

  it('fails a job whose code throws, with the error, and keeps the volunteers for the next job', async () => {
    coordinator = await testCoordinator();
    volunteers = [startVolunteer(coordinator.url), startVolunteer(coordinator.url)];
    const bad = `export function* map(k) { if (k === 7) throw new TypeError('seven is not allowed'); yield [k, 1]; }
export function reduce(k, vs) { return vs.length; }`;
    const failing = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'bad', source: bad, input: { kind: 'range', from: 0, to: 10 }, recordsPerTask: 1, maxAttempts: 2 },
    });
    const job = await waitForJobEnd(coordinator.url, failing.body.id);
    expect(job).toMatchObject({ state: 'failed', error: { name: 'TypeError', message: expect.stringContaining('seven is not allowed') } });
    expect(job.error?.stack).toBeTruthy();
    const { body: tasks } = await api<TaskSummary[]>(coordinator.url, `/api/jobs/${failing.body.id}/tasks`);
    expect(tasks.find((task) => task.id === job.error?.taskId)).toMatchObject({ status: 'failed', attemptsStarted: 2 });

    const healthy = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'ok', source: source('sum-of-products'), input: EXAMPLES.find((e) => e.id === 'sum-of-products')!.input },
    });
    expect(await waitForJobEnd(coordinator.url, healthy.body.id)).toMatchObject({ state: 'succeeded' });
  });

  it('keeps a volunteer working across a coordinator restart: it reconnects by itself', async () => {
    coordinator = await testCoordinator();
    const port = coordinator.config.port;
    const volunteer = startVolunteer(coordinator.url, new InProcessExecutor({ slots: 1 }));
    volunteers = [volunteer];
    const firstId = await waitFor('welcome', () => volunteer.state()?.volunteerId);
    await coordinator.close();
    await waitFor('the volunteer to notice', () => !volunteer.state().connected);
    coordinator = await testCoordinator({ port });
    const secondId = await waitFor('a welcome from the new coordinator', () => volunteer.state().volunteerId);
    expect(secondId).not.toBe(firstId);
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'tri', source: source('triangular-numbers'), input: { kind: 'range', from: 0, to: 10 } },
    });
    expect(await waitForJobEnd(coordinator.url, body.id)).toMatchObject({ state: 'succeeded' });
  });
});
