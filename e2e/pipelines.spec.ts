/**
 * Pipelines from the dashboard, run by real tabs: the two-job example (a word count, then
 * frequencies of frequencies on its result) submitted in one click, and a job given
 * another job's result as its input by hand.
 */
import { expect, test } from '@playwright/test';
import type { JobSummary, KeyValue } from '../shared/job.ts';
import { dashboardWithTabs, getJson, waitForJob } from './fixtures.ts';

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
    expect(await getJson<KeyValue[]>(`${rig.coordinator.url}/api/jobs/${again.id}/result`)).toEqual(FREQUENCIES);
  });
});
