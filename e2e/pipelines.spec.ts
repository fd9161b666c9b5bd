/**
 * Pipelines run by real tabs: from the dashboard, the two-job example (a word count, then
 * frequencies of frequencies on its result) submitted in one click and a job given another
 * job's result as its input by hand; over HTTP, PageRank iterated to convergence.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { JobSummary, KeyValue } from '../shared/job.ts';
import { EXAMPLES } from '../examples/catalog.ts';
import { iterateToConvergence, pagerankReference, pagerankWeb, type PageState } from '../testing/pagerank-reference.ts';
import { dashboardWithTabs, getJson, submitJob, waitForJob } from './fixtures.ts';

// The word count example's sample: 7 words once, 4 twice (catalog.ts).
const FREQUENCIES: KeyValue[] = [[1, 7], [2, 4]];

test.describe.serial('pipelines on the dashboard', () => {
  const rig = dashboardWithTabs(2);

  const jobNamed = async (name: string): Promise<JobSummary> => {
    const jobs = await getJson<JobSummary[]>(`${rig.coordinator.url}/api/jobs`);
    const job = jobs.find((candidate) => candidate.name === name);
    if (!job) throw new Error(`no job named ${name}`);
    return job;
  };

  test('the two-job example submits the word count, then frequencies of frequencies on its result', async () => {
    await rig.dashboard.getByTestId('example-card-frequency-of-frequencies').click();
    await expect(rig.dashboard.getByTestId('input-kind-example')).toBeChecked();
    await expect(rig.dashboard.getByText(/the result of the Word count example, submitted first/)).toBeVisible();
    await rig.dashboard.getByTestId('submit-job').click();
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText('succeeded', { timeout: 60_000 });
    const words = await jobNamed('Word count');
    const frequencies = await jobNamed('Frequencies of frequencies');
    expect((await waitForJob(rig.coordinator.url, words.id)).state).toBe('succeeded');
    expect(await getJson<KeyValue[]>(`${rig.coordinator.url}/api/jobs/${frequencies.id}/result`)).toEqual(FREQUENCIES);
    await expect(rig.dashboard.getByTestId('job-row')).toHaveCount(2);
  });

  test("a job's input is chosen from the jobs: another job's result", async () => {
    const words = await jobNamed('Word count');
    await rig.dashboard.getByTestId('job-name').fill('frequencies again');
    await rig.dashboard.getByTestId('input-kind-job').check();
    await rig.dashboard.getByTestId('input-job').selectOption(words.id);
    await rig.dashboard.getByTestId('submit-job').click();
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText('succeeded', { timeout: 60_000 });
    const again = await jobNamed('frequencies again');
    // The page's state may still be the word count's, selected before: the new job's own state is the API's to say.
    expect((await waitForJob(rig.coordinator.url, again.id)).state).toBe('succeeded');
    expect(await getJson<KeyValue[]>(`${rig.coordinator.url}/api/jobs/${again.id}/result`)).toEqual(FREQUENCIES);
  });

  test('pagerank iterated through the HTTP API on the tabs, each job reading the last one, converges to the power method', async () => {
    const { url } = rig.coordinator;
    const source = readFileSync(new URL('../examples/pagerank.js', import.meta.url), 'utf8');
    const web = pagerankWeb(EXAMPLES);
    const job = (name: string, input: unknown) => submitJob(url, { name, source, input, recordsPerTask: 2, reducers: 2 });
    let submitted = 0;
    const { ranks, iterations } = await iterateToConvergence(web, 1e-9, {
      start: () => job(`pagerank ${++submitted}`, { kind: 'records', records: web }),
      next: (last) => job(`pagerank ${++submitted}`, { kind: 'job', id: last }),
      resultOf: async (id) => {
        expect((await waitForJob(url, id)).state).toBe('succeeded');
        return getJson<KeyValue[]>(`${url}/api/jobs/${id}/result`);
      },
    });
    const reference = pagerankReference(web, 1e-9);
    for (const [page, state] of ranks) expect((state as PageState).rank).toBeCloseTo(reference.get(page as string)!, 7);
    expect(iterations).toBeGreaterThan(5);
  });
});
