/**
 * Pipelines from the Node client, against a real coordinator (SQLite store) with real
 * volunteers: a job whose input is another job's result, chained and iterated, with the
 * examples that need it and their exact answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValue } from '../shared/job.ts';
import { EXAMPLES } from '../examples/catalog.ts';
import type { Coordinator } from '../server/coordinator.ts';
import { api, startVolunteer, testCoordinator, waitFor, waitForJobEnd, type TestVolunteer } from '../testing/integration-rig.ts';
import { iterateToConvergence, pagerankReference, pagerankWeb, type PageState } from '../testing/pagerank-reference.ts';
import { ApiError, JobFailedError, startJob, submit } from 'tabreduce/client';

const example = (id: string) => new URL(`../examples/${id}.js`, import.meta.url);
const TEXT = 'the cat and the hat\nthe bat and a cat\n';

describe('pipelines, with two volunteers', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-pipelines-'));
  let coordinator: Coordinator;
  let volunteers: TestVolunteer[];
  let options: { url: string };
  beforeAll(async () => {
    coordinator = await testCoordinator({ store: 'sqlite', dataDir });
    options = { url: coordinator.url };
    volunteers = [startVolunteer(coordinator.url), startVolunteer(coordinator.url)];
    await waitFor('two volunteers', async () => (await coordinator.scheduler.cluster()).volunteers === 2);
  });
  afterAll(async () => {
    for (const volunteer of volunteers) volunteer.stop();
    await coordinator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('frequencies of frequencies: a word count, then a job on its result, submitted before the first one ends', async () => {
    const counts = await startJob({ module: example('word-count'), input: { kind: 'texts', files: [{ name: 'a.txt', text: TEXT }] } }, options);
    // Submitted at once: it waits, queued, for the word count.
    const frequencies = await submit({ module: example('frequency-of-frequencies'), input: { kind: 'job', id: counts } }, { ...options, recordsPerTask: 2 });
    // the 3, and 2, cat 2, hat 1, bat 1, a 1: three words once, two twice, one three times.
    expect(frequencies).toEqual<KeyValue[]>([[1, 3], [2, 2], [3, 1]]);
    expect((await waitForJobEnd(coordinator.url, counts)).state).toBe('succeeded');
  });

  it('pagerank, iterated on its own result until the ranks stop moving, matches the power method', async () => {
    const web = pagerankWeb(EXAMPLES);
    const { ranks, iterations } = await iterateToConvergence(web, 1e-9, {
      start: () => startJob({ module: example('pagerank'), input: { kind: 'records', records: web } }, options),
      next: (last) => startJob({ module: example('pagerank'), input: { kind: 'job', id: last } }, { ...options, recordsPerTask: 2, reducers: 2 }),
      resultOf: async (id) => {
        expect((await waitForJobEnd(coordinator.url, id)).state).toBe('succeeded');
        return (await api<KeyValue[]>(coordinator.url, `/api/jobs/${id}/result`)).body;
      },
    });
    const reference = pagerankReference(web, 1e-9);
    for (const [page, state] of ranks) expect((state as PageState).rank).toBeCloseTo(reference.get(page as string)!, 7);
    expect(iterations).toBeGreaterThan(5);
  });

  it('refuses a job input naming no job, and fails a job whose input job fails, saying so', async () => {
    await expect(submit({ module: example('frequency-of-frequencies'), input: { kind: 'job', id: 'job-nobody' } }, options)).rejects.toThrow(ApiError);
    const refused = await api<{ error: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'x', source: 'export function* map(k, v) { yield [k, v]; }\nexport function reduce(k, vs) { return vs; }', input: { kind: 'job', id: 'job-nobody' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/names job job-nobody, which this coordinator does not hold/);

    const throwing = await startJob(
      { map: () => { throw new Error('no map today'); }, reduce: () => 0, input: { kind: 'range', from: 0, to: 2 } },
      { ...options, maxAttempts: 1 },
    );
    const reader = submit({ module: example('frequency-of-frequencies'), input: { kind: 'job', id: throwing } }, options);
    await expect(reader).rejects.toThrow(JobFailedError);
    await expect(reader).rejects.toThrow(new RegExp(`its input job ${throwing} failed: .*no map today`));
  });
});
