/**
 * A real cluster: three coordinator processes on one throwaway PostgreSQL, behind nginx,
 * with Node volunteers (the browser tab's own client code) connected through nginx. A
 * coordinator killed with SIGKILL during the map phase, and another during the reduce
 * phase, lose nothing: the volunteers reconnect through nginx to the survivors, the dead
 * coordinators' leases end, and the job's answer is exact.
 */
import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterSummary, JobSummary, KeyValue, TaskSummary } from '../../shared/job.ts';
import { startClusterRig, type ClusterRig } from '../../testing/cluster-rig.ts';
import { api, startVolunteer, waitFor, waitForJobEnd, type TestVolunteer } from '../../testing/integration-rig.ts';
import { InProcessExecutor } from '../../node-volunteer/in-process-executor.ts';

let cluster: ClusterRig;
let volunteers: TestVolunteer[] = [];

beforeAll(async () => {
  cluster = await startClusterRig({ size: 3 });
  volunteers = Array.from({ length: 3 }, () => startVolunteer(cluster.url, new InProcessExecutor({ slots: 2 })));
  await waitFor('three volunteers in the cluster', async () => (await api<ClusterSummary>(cluster.url, '/api/volunteers')).body.volunteers === 3);
}, 120_000);
afterAll(async () => {
  for (const volunteer of volunteers) volunteer.stop();
  await cluster?.stop();
});

/** A word count whose tasks take long enough (busy 200 ms a map, 100 ms a word in reduce) for a kill to land in the phase it aims at, even on a loaded machine. */
const SLOW_WORD_COUNT = `
const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
export function* map(file, text) { busy(200); for (const word of text.split(/\\s+/)) if (word) yield [word, 1]; }
export function reduce(word, counts) { busy(100); return counts.reduce((a, b) => a + b, 0); }
`;

const lines = Array.from({ length: 1200 }, (_, index) => `line ${index % 7} of the test ${index % 3 === 0 ? 'cluster' : 'coordinator'} text`);
const text = lines.join('\n') + '\n';
const expected: KeyValue[] = [...text.split(/\s+/).filter(Boolean).reduce((counts, word) => counts.set(word, (counts.get(word) ?? 0) + 1), new Map<string, number>())].sort(
  ([a], [b]) => (String(a) < String(b) ? -1 : 1),
);

async function submit(url: string, name: string): Promise<string> {
  const { status, body } = await api<{ id: string }>(url, '/api/jobs', {
    method: 'POST',
    json: { name, source: SLOW_WORD_COUNT, input: { kind: 'texts', files: [{ name: 'words.txt', text }] }, splitBytes: 1024, reducers: 8 },
  });
  expect(status).toBe(201);
  return body.id;
}

const jobOf = async (url: string, id: string) => (await api<JobSummary>(url, `/api/jobs/${id}`)).body;

describe('a cluster of three coordinators behind nginx', () => {
  it('loses nothing to a coordinator killed during map and another killed during reduce', async () => {
    const id = await submit(cluster.url, 'failover');
    const total = (await jobOf(cluster.url, id)).progress.map.total;
    expect(total).toBeGreaterThan(15);
    await waitFor('a few maps done', async () => (await jobOf(cluster.url, id)).progress.map.done >= 4);
    const doneBefore = (await api<TaskSummary[]>(cluster.url, `/api/jobs/${id}/tasks`)).body.filter((task) => task.status === 'done');
    expect(doneBefore.length).toBeLessThan(total);
    await cluster.kill(0);
    await waitFor('the reduce phase', async () => (await jobOf(cluster.url, id)).state === 'reducing', 60_000);
    await cluster.kill(1);
    const ended = await waitForJobEnd(cluster.url, id, 90_000);
    expect(ended.state).toBe('succeeded');
    const result = await api<KeyValue[]>(cluster.url, `/api/jobs/${id}/result`);
    expect(result.body).toEqual(expected);
    // Nothing finished before the first kill ran again: the same volunteer's answer, at the same time.
    const after = new Map((await api<TaskSummary[]>(cluster.url, `/api/jobs/${id}/tasks`)).body.map((task) => [task.id, task]));
    for (const task of doneBefore) expect(after.get(task.id)).toMatchObject({ status: 'done', volunteerId: task.volunteerId, finishedAtMs: task.finishedAtMs });
    // The survivor serves everyone: every volunteer reconnected to it.
    await waitFor('every volunteer on the survivor', async () => (await api<ClusterSummary>(cluster.coordinators[2]!.url, '/api/volunteers')).body.volunteers === 3);
  }, 150_000);

  it('lets coordinators rejoin, and a job submitted on one be cancelled on another', async () => {
    await cluster.restart(0);
    await cluster.restart(1);
    const [first, second, third] = cluster.coordinators.map((coordinator) => coordinator.url);
    const id = await submit(first!, 'cancelled elsewhere');
    await waitFor('the job running', async () => (await jobOf(second!, id)).state === 'mapping');
    const cancelled = await api<JobSummary>(third!, `/api/jobs/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    expect((await jobOf(first!, id)).state).toBe('cancelled');
    // Revoked everywhere: no task of it stays leased.
    await waitFor('its leases gone', async () => (await jobOf(second!, id)).running === 0);
    const listed = (await api<JobSummary[]>(second!, '/api/jobs')).body.map((job) => job.id);
    expect(listed).toContain(id);
  }, 120_000);

  it('runs a job on an upload sent to another coordinator, uses it once, pipes its result into a job submitted on a third, and keeps nothing of an upload cut short', async () => {
    const [first, second, third] = cluster.coordinators.map((coordinator) => coordinator.url);
    // Over 1 MiB, so the upload is stored in several chunks.
    const big = lines.join('\n').repeat(60) + '\n';
    const uploaded = await api<{ id: string; bytes: number }>(first!, '/api/files?name=big.txt', { method: 'POST', body: big });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.bytes).toBe(Buffer.byteLength(big));
    const wordCount = 'export function* map(file, text) { for (const word of text.split(/\\s+/)) if (word) yield [word, 1]; }\nexport function reduce(word, counts) { return counts.reduce((a, b) => a + b, 0); }';
    const job = { name: 'uploaded elsewhere', source: wordCount, input: { kind: 'files', files: [{ fileId: uploaded.body.id }] }, splitBytes: 256 * 1024, reducers: 3 };
    const submitted = await api<{ id: string }>(second!, '/api/jobs', { method: 'POST', json: job });
    expect(submitted.status).toBe(201);
    expect((await waitForJobEnd(third!, submitted.body.id, 60_000)).state).toBe('succeeded');
    const counts = new Map<string, number>();
    for (const word of big.split(/\s+/)) if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
    expect(new Map((await api<KeyValue[]>(third!, `/api/jobs/${submitted.body.id}/result`)).body as [string, number][])).toEqual(counts);
    // Used up by the job: gone on every coordinator.
    expect((await api(third!, `/api/files/${uploaded.body.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api<{ code: string }>(first!, '/api/jobs', { method: 'POST', json: job })).body.code).toBe('BAD_INPUT');

    // A pipeline across coordinators: the word count's result, counted by count, submitted on one while it runs.
    const countsOfCounts = { name: 'counts of counts', source: wordCount.replace('for (const word of text.split(/\\s+/)) if (word) yield [word, 1];', 'yield [text, 1];'), input: { kind: 'job', id: submitted.body.id }, reducers: 2 };
    const piped = await api<{ id: string }>(third!, '/api/jobs', { method: 'POST', json: countsOfCounts });
    expect(piped.status).toBe(201);
    expect((await waitForJobEnd(first!, piped.body.id, 60_000)).state).toBe('succeeded');
    const expectedCounts = new Map<number, number>();
    for (const count of counts.values()) expectedCounts.set(count, (expectedCounts.get(count) ?? 0) + 1);
    expect(new Map((await api<KeyValue[]>(second!, `/api/jobs/${piped.body.id}/result`)).body as [number, number][])).toEqual(expectedCounts);

    // An upload whose client goes away half way is deleted, chunks and all.
    await new Promise<void>((resolve) => {
      const cut = request(`${first}/api/files?name=cut.txt`, { method: 'POST', headers: { 'content-length': String(8 << 20) } });
      cut.on('error', () => resolve());
      cut.write(Buffer.alloc(3 << 20, 'a'), () => setImmediate(() => cut.destroy()));
      cut.on('close', () => resolve());
    });
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      await waitFor('the cut upload gone', async () => (await db.query('SELECT (SELECT count(*) FROM uploads)::int + (SELECT count(*) FROM upload_chunks)::int AS left')).rows[0].left === 0);
    } finally {
      await db.end();
    }
  }, 120_000);
});
