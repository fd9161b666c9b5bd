/**
 * Nothing acknowledged is lost: a coordinator process killed with SIGKILL right after it
 * acknowledged something (a submit, a cancel, an upload, a volunteer's result or failure)
 * and started again on the same data directory still holds what it acknowledged. Every
 * acknowledgement that says "stored" follows the commit that stores it, so the kill can
 * come no earlier than the data reaches the disk. Real processes, HTTP and Socket.IO.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import type { JobSummary, KeyValue, TaskSummary } from '../shared/job.ts';
import { api, startVolunteer, waitForJobEnd, type TestVolunteer } from './integration-rig.ts';
import { holdOneTask, killHard, type HeldTask } from './process-rig.ts';

const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');
const TEXT = 'to be or not to be\n';
const COUNTS: KeyValue[] = [['be', 2], ['not', 1], ['or', 1], ['to', 2]];

describe('a coordinator killed with SIGKILL right after an acknowledgement, then restarted', () => {
  let dataDir: string;
  let coordinator: CoordinatorProcess | undefined;
  let volunteer: TestVolunteer | undefined;
  let held: HeldTask | undefined;
  beforeEach(() => {
    // Not the e2e prefix: stopping a coordinator would delete a directory of that prefix, and this one must outlive each kill.
    dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-acks-'));
  });
  afterEach(async () => {
    volunteer?.stop();
    volunteer = undefined;
    held?.socket.disconnect();
    held = undefined;
    await coordinator?.stop();
    coordinator = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => (coordinator = await startCoordinatorProcess({ TABREDUCE_DATA_DIR: dataDir }));
  /** The crash right after the answer, and the restart on the same directory. */
  const crashAndRestart = async () => {
    await killHard(coordinator!);
    return start();
  };
  const upload = async (url: string) => {
    const response = await fetch(`${url}/api/files?name=words.txt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: TEXT });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const submit = async (url: string, input: unknown, extra: Record<string, unknown> = {}) => {
    const { status, body } = await api<{ id: string }>(url, '/api/jobs', { method: 'POST', json: { name: 'acked', source: WORD_COUNT, input, reducers: 1, ...extra } });
    expect(status).toBe(201);
    return body.id;
  };
  const job = async (url: string, id: string) => api<JobSummary>(url, `/api/jobs/${id}`);

  it('keeps a submitted job, and the upload it claimed, which then runs to the right answer', async () => {
    const before = await start();
    const fileId = await upload(before.url);
    const id = await submit(before.url, { kind: 'files', files: [{ fileId }] });

    const after = await crashAndRestart();
    expect(await job(after.url, id)).toMatchObject({ status: 200, body: { state: 'queued' } });
    volunteer = startVolunteer(after.url);
    expect(await waitForJobEnd(after.url, id)).toMatchObject({ state: 'succeeded' });
    expect((await api<KeyValue[]>(after.url, `/api/jobs/${id}/result`)).body).toEqual(COUNTS);
  });

  it('keeps a cancel', async () => {
    const before = await start();
    const id = await submit(before.url, { kind: 'texts', files: [{ name: 'words.txt', text: TEXT }] });
    expect((await api(before.url, `/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(200);

    const after = await crashAndRestart();
    expect((await job(after.url, id)).body.state).toBe('cancelled');
  });

  it('keeps an upload, which a job can then use', async () => {
    const before = await start();
    const fileId = await upload(before.url);

    const after = await crashAndRestart();
    await submit(after.url, { kind: 'files', files: [{ fileId }] });
  });

  it("keeps a volunteer's result once acknowledged", async () => {
    const before = await start();
    const id = await submit(before.url, { kind: 'texts', files: [{ name: 'words.txt', text: TEXT }] });
    held = await holdOneTask(before.url);
    const { assignment, output } = held;
    const receipt = await held.socket.emitWithAck('task:complete', { taskId: assignment.taskId, leaseToken: assignment.leaseToken, output });
    expect(receipt.ok).toBe(true);

    const after = await crashAndRestart();
    const tasks = (await api<TaskSummary[]>(after.url, `/api/jobs/${id}/tasks`)).body;
    expect(tasks.find((task) => task.id === assignment.taskId)).toMatchObject({ status: 'done', attemptsStarted: 1 });
    expect((await job(after.url, id)).body).toMatchObject({ state: 'reducing', progress: { map: { done: 1, total: 1 } } });
  });

  it("keeps a volunteer's failure report once acknowledged", async () => {
    const before = await start();
    const id = await submit(before.url, { kind: 'texts', files: [{ name: 'words.txt', text: TEXT }] }, { maxAttempts: 1 });
    held = await holdOneTask(before.url);
    const error = { name: 'RangeError', message: 'the volunteer says no' };
    const { assignment } = held;
    const receipt = await held.socket.emitWithAck('task:fail', { taskId: assignment.taskId, leaseToken: assignment.leaseToken, error });
    expect(receipt.ok).toBe(true);

    const after = await crashAndRestart();
    // Its only attempt spent, the task failed and its job with it; unrecorded, the task would be pending again.
    expect((await job(after.url, id)).body).toMatchObject({ state: 'failed', error: { ...error, taskId: assignment.taskId } });
  });
});
