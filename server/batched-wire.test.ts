/**
 * The batched wire (`tasks:claim`, `tasks:report`) against a real coordinator and a bare
 * Socket.IO client: many tasks per message each way, every result judged alone, and
 * the answer only once what it reports is stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyValue, TaskSummary } from '../shared/job.ts';
import { LIMITS } from '../shared/limits.ts';
import type { MapAssignment, MapInputPayload } from '../shared/protocol.ts';
import { packReports, unpackTaskBatch, type TaskEnd } from '../shared/task-batch.ts';
import { importFromDataUrl } from '../node-volunteer/data-url-import.ts';
import { runMapTaskPacked, runReduceTask, toJobModule } from '../runtime/task-runtime.ts';
import type { Coordinator } from './coordinator.ts';
import { api, rawVolunteer, startVolunteer, testCoordinator, waitForJobEnd, type RawVolunteer } from '../testing/integration-rig.ts';
import { mapInputBytes } from '../runtime/fetched-input.ts';

const SQUARES = `export function* map(key, value) { yield [value % 3, value * value]; }
export function reduce(key, values) { return values.reduce((a, b) => a + b, 0); }`;

describe('the batched wire', () => {
  let coordinator: Coordinator | undefined;
  let volunteer: RawVolunteer | undefined;
  afterEach(async () => {
    volunteer?.disconnect();
    await coordinator?.close();
  });

  it('claims many tasks in one message and reports them in one, each result judged alone', async () => {
    coordinator = await testCoordinator();
    volunteer = await rawVolunteer(coordinator.url);
    await volunteer.emitWithAck('volunteer:hello', { agent: 'batched', slots: 1 });
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'squares', source: SQUARES, input: { kind: 'range', from: 0, to: 10 }, recordsPerTask: 1, reducers: 2 },
    });
    const module = toJobModule(await importFromDataUrl(SQUARES));

    const claimed = await volunteer.emitWithAck('tasks:claim', { max: 10 });
    if (!claimed.ok) throw new Error(claimed.error.message);
    const tasks = unpackTaskBatch(claimed.value) as MapAssignment[];
    expect(tasks.map((task) => task.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const ends: TaskEnd[] = tasks.map((task) => ({ taskId: task.taskId, leaseToken: task.leaseToken, output: { kind: 'map', ...runMapTaskPacked(module, task.input as MapInputPayload, task.partitions) } }));
    // One stale lease and one output from another partitioning: refused, the rest recorded.
    ends[3] = { ...ends[3]!, leaseToken: 'not-the-lease' };
    const wrong = ends[5] as Extract<TaskEnd, { output: unknown }>;
    ends[5] = { ...wrong, output: { kind: 'map', blocks: new TextEncoder().encode('[["not a number key",[1]]][]'), offsets: [0, 26, 28] } };
    const reported = await volunteer.emitWithAck('tasks:report', { ...packReports(ends), next: 0 });
    if (!reported.ok) throw new Error(reported.error.message);
    expect(reported.value.tasks).toEqual([]);
    expect(reported.value.outcomes.map((outcome) => outcome?.code ?? null)).toEqual([null, null, null, 'LEASE_INVALID', null, 'BAD_RESULT', null, null, null, null]);

    // Acknowledged means stored: the eight recorded tasks are done, the two refused still leased.
    const { body: summaries } = await api<TaskSummary[]>(coordinator.url, `/api/jobs/${body.id}/tasks`);
    const status = new Map(summaries.map((task) => [task.id, task.status]));
    expect(tasks.filter((_, i) => i !== 3 && i !== 5).map((task) => status.get(task.taskId))).toEqual(Array(8).fill('done'));
    expect([status.get(tasks[3]!.taskId), status.get(tasks[5]!.taskId)]).toEqual(['leased', 'leased']);

    // The two again, right, with the reduce tasks asked for in the same round trip.
    const retry = [3, 5].map((i): TaskEnd => ({ taskId: tasks[i]!.taskId, leaseToken: tasks[i]!.leaseToken, output: { kind: 'map', ...runMapTaskPacked(module, tasks[i]!.input as MapInputPayload, tasks[i]!.partitions) } }));
    const second = await volunteer.emitWithAck('tasks:report', { ...packReports(retry), next: 5 });
    if (!second.ok) throw new Error(second.error.message);
    expect(second.value.outcomes).toEqual([null, null]);
    const reduces = unpackTaskBatch(second.value);
    expect(reduces.map((task) => task.kind)).toEqual(['reduce', 'reduce']);
    const reduced = await volunteer.emitWithAck('tasks:report', {
      ...packReports(reduces.map((task): TaskEnd => ({ taskId: task.taskId, leaseToken: task.leaseToken, output: { kind: 'reduce', pairs: runReduceTask(module, task.kind === 'reduce' ? task.blocks : new Uint8Array()) } }))),
    });
    expect(reduced).toMatchObject({ ok: true, value: { outcomes: [null, null] } });
    expect(await waitForJobEnd(coordinator.url, body.id)).toMatchObject({ state: 'succeeded' });
    const { body: result } = await api<KeyValue[]>(coordinator.url, `/api/jobs/${body.id}/result`);
    expect(result).toEqual([[0, 0 + 9 + 36 + 81], [1, 1 + 16 + 49], [2, 4 + 25 + 64]]);
  });

  it('a large split of an upload comes as a url its lease opens, and only while the lease lives', async () => {
    coordinator = await testCoordinator();
    const text = Array.from({ length: 12_000 }, (_, i) => `line ${i} of the whale`).join('\n');
    const upload = await api<{ id: string }>(coordinator.url, '/api/files?name=whale.txt', { method: 'POST', body: text, headers: { 'content-type': 'application/octet-stream' } });
    const source = `export function* map(key, text) { for (const word of text.split(/\\s+/)) if (word) yield [word, 1]; }
export function reduce(key, values) { return values.reduce((a, b) => a + b, 0); }`;
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'fetched', source, input: { kind: 'files', files: [{ fileId: upload.body.id }] }, splitBytes: 128 * 1024, reducers: 1 },
    });
    volunteer = await rawVolunteer(coordinator.url);
    await volunteer.emitWithAck('volunteer:hello', { agent: 'batched', slots: 1 });
    const claimed = await volunteer.emitWithAck('tasks:claim', { max: 10 });
    if (!claimed.ok) throw new Error(claimed.error.message);
    const tasks = unpackTaskBatch(claimed.value) as MapAssignment[];
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    const module = toJobModule(await importFromDataUrl(source));
    const ends: TaskEnd[] = [];
    let fetched = '';
    // Splits of 128 KiB come as urls; the short last one (under FETCHED_INPUT_BYTES) as bytes.
    expect(tasks.map((task) => 'url' in task.input)).toEqual(tasks.map((_, i) => i < tasks.length - 1));
    for (const task of tasks) {
      if ('url' in task.input) expect(task.input).toEqual({ format: 'text', key: 'whale.txt', url: `/api/inputs/${task.leaseToken}` });
      const input = await mapInputBytes('url' in task.input ? { ...task.input, url: coordinator.url + task.input.url } : task.input);
      fetched += new TextDecoder().decode(input.bytes);
      ends.push({ taskId: task.taskId, leaseToken: task.leaseToken, output: { kind: 'map', ...runMapTaskPacked(module, input, task.partitions) } });
    }
    expect(fetched).toBe(text);
    const reported = await volunteer.emitWithAck('tasks:report', { ...packReports(ends) });
    expect(reported).toMatchObject({ ok: true, value: { outcomes: ends.map(() => null) } });
    // The lease ended with the answer: the url is closed.
    const late = await api<{ code: string; error: string }>(coordinator.url, `/api/inputs/${tasks[0]!.leaseToken}`);
    expect(late).toMatchObject({ status: 409, body: { code: 'LEASE_INVALID' } });
    expect((await api(coordinator.url, '/api/inputs/not-a-lease')).status).toBe(409);
    volunteer.disconnect();
    volunteer = undefined;
    const volunteers = [startVolunteer(coordinator.url)];
    try {
      expect(await waitForJobEnd(coordinator.url, body.id)).toMatchObject({ state: 'succeeded' });
    } finally {
      for (const helper of volunteers) helper.stop();
    }
    const { body: result } = await api<KeyValue[]>(coordinator.url, `/api/jobs/${body.id}/result`);
    expect(new Map(result).get('whale')).toBe(12_000);
  });

  it('a claim gets at most its even share of what is queued, so one volunteer cannot take a job the crowd waits for', async () => {
    coordinator = await testCoordinator();
    volunteer = await rawVolunteer(coordinator.url);
    const other = await rawVolunteer(coordinator.url);
    try {
      await volunteer.emitWithAck('volunteer:hello', { agent: 'batched', slots: 1 });
      await other.emitWithAck('volunteer:hello', { agent: 'batched too', slots: 1 });
      await api(coordinator.url, '/api/jobs', { method: 'POST', json: { name: 'shared', source: SQUARES, input: { kind: 'range', from: 0, to: 10 }, recordsPerTask: 1, reducers: 1 } });
      const first = await volunteer.emitWithAck('tasks:claim', { max: 10 });
      expect(first.ok && first.value.tasks).toHaveLength(5);
      // What is left is queued for two: the second volunteer's share of it.
      const second = await other.emitWithAck('tasks:claim', { max: 10 });
      expect(second.ok && second.value.tasks).toHaveLength(3);
    } finally {
      other.disconnect();
    }
  });

  it('refuses a report that breaks its schema as a whole, and a claim past the message limit', async () => {
    coordinator = await testCoordinator();
    volunteer = await rawVolunteer(coordinator.url);
    await volunteer.emitWithAck('volunteer:hello', { agent: 'batched', slots: 1 });
    expect(await volunteer.emitWithAck('tasks:claim', { max: LIMITS.tasksPerMessage + 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const empty = await volunteer.emitWithAck('tasks:report', { results: [], data: new Uint8Array() } as never);
    expect(empty).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('results') } });
  });
});
