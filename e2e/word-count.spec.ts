/**
 * The foundation, end to end: three volunteer tabs and a dashboard tab in one real
 * Chromium; word count over more than 1 MB submitted through the dashboard; the counts
 * shown and downloaded equal an independent reference; then every seed example runs
 * through the HTTP API on the same tabs, each to its exact answer.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { apiInputOf, EXAMPLES } from '../examples/catalog.ts';
import type { KeyValue, TaskSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { makeProse, referenceWordCount } from './corpus.ts';
import { getJson, openVolunteer, submitJob, waitForJob, waitForVolunteers } from './fixtures.ts';

const exampleSource = (id: string) => readFileSync(new URL(`../examples/${id}.js`, import.meta.url), 'utf8');

test.describe.serial('a job runs end to end on real browser tabs', () => {
  let coordinator: CoordinatorProcess;
  let volunteers: Page[] = [];

  test.beforeAll(async ({ browser }) => {
    coordinator = await startCoordinatorProcess();
    volunteers = await Promise.all([0, 1, 2].map(() => openVolunteer(browser, coordinator.url)));
    await waitForVolunteers(coordinator.url, 3);
  });

  test.afterAll(async () => {
    await Promise.all(volunteers.map((page) => page.context().close()));
    await coordinator?.stop();
  });

  test('word count over 1.5 MB, submitted from the dashboard, equals the reference', async ({ browser }, testInfo) => {
    const text = makeProse(1_500_000, 20261130);
    const reference = referenceWordCount([text]);
    const dashboard = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await dashboard.goto(coordinator.url);

    await expect(dashboard.getByTestId('volunteer-count')).toHaveText('3');
    await dashboard.getByTestId('example-card-word-count').click();
    await dashboard.getByTestId('job-name').fill('e2e word count');
    await dashboard.getByTestId('input-kind-text').check();
    await dashboard.getByTestId('input-files').setInputFiles({ name: 'prose.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    // Small splits, so the map phase has enough tasks to spread over the tabs.
    await dashboard.getByTestId('split-kib').fill('64');
    await dashboard.getByTestId('reducers').fill('3');
    await dashboard.getByTestId('submit-job').click();

    await expect(dashboard.getByTestId('job-state')).toHaveText('succeeded');
    const mapTotal = Math.ceil(Buffer.byteLength(text) / (64 * 1024));
    await expect(dashboard.getByTestId('map-progress')).toHaveText(new RegExp(`^(${mapTotal - 1}|${mapTotal}|${mapTotal + 1})/\\1$`));
    await expect(dashboard.getByTestId('reduce-progress')).toHaveText('3/3');
    await expect(dashboard.getByTestId('result-count')).toHaveText(String(reference.size));

    // The table shows the top keys first, with their exact counts.
    const topReference = [...reference].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const rows = dashboard.getByTestId('result-table').locator('tbody tr');
    for (let i = 0; i < topReference.length; i++) {
      const [word, count] = topReference[i]!;
      await expect(rows.nth(i)).toHaveAttribute('data-key', JSON.stringify(word));
      await expect(rows.nth(i).locator('td').nth(1)).toHaveText(String(count));
    }
    await dashboard.screenshot({ path: testInfo.outputPath('dashboard-word-count.png'), fullPage: true });

    // Downloads: JSON and CSV, both complete and exact.
    const [jsonDownload] = await Promise.all([dashboard.waitForEvent('download'), dashboard.getByTestId('download-json').click()]);
    const downloaded = JSON.parse(readFileSync((await jsonDownload.path())!, 'utf8')) as KeyValue[];
    expect(new Map(downloaded as [string, number][])).toEqual(reference);
    expect(downloaded.map(([key]) => key)).toEqual([...reference.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    const [csvDownload] = await Promise.all([dashboard.waitForEvent('download'), dashboard.getByTestId('download-csv').click()]);
    const csvLines = readFileSync((await csvDownload.path())!, 'utf8').trimEnd().split('\r\n');
    expect(csvLines[0]).toBe('key,value');
    expect(new Map(csvLines.slice(1).map((line) => [line.split(',')[0]!, Number(line.split(',')[1])]))).toEqual(reference);

    // The map tasks really were spread over the tabs.
    const jobs = await getJson<{ id: string; name: string }[]>(`${coordinator.url}/api/jobs`);
    const jobId = jobs.find((job) => job.name === 'e2e word count')!.id;
    const tasks = await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${jobId}/tasks`);
    const mapVolunteers = new Set(tasks.filter((task) => task.kind === 'map').map((task) => task.volunteerId));
    const tabIds = await Promise.all(volunteers.map((page) => page.getByTestId('volunteer-id').textContent()));
    expect(mapVolunteers.size).toBeGreaterThanOrEqual(2);
    for (const id of mapVolunteers) expect(tabIds).toContain(id);
    await expect
      .poll(async () => {
        const tasksDone = await Promise.all(volunteers.map(async (page) => Number(await page.getByTestId('tasks-done').textContent())));
        return tasksDone.reduce((a, b) => a + b, 0);
      })
      .toBe(tasks.length);
    await volunteers[0]!.screenshot({ path: testInfo.outputPath('volunteer.png'), fullPage: true });
    await dashboard.context().close();
  });

  for (const example of EXAMPLES) {
    test(`example ${example.id} gives the seed's answer through the HTTP API`, async () => {
      const id = await submitJob(coordinator.url, { name: example.id, source: exampleSource(example.id), input: await apiInputOf(example.input, (upstream, input) => submitJob(coordinator.url, { name: upstream.id, source: exampleSource(upstream.id), input })), reducers: 2 });
      const job = await waitForJob(coordinator.url, id);
      expect(job.error).toBeUndefined();
      expect(job.state).toBe('succeeded');
      const result = await getJson<KeyValue[]>(`${coordinator.url}/api/jobs/${id}/result`);
      const byKey = new Map(result.map(([key, value]) => [JSON.stringify(key), value]));
      for (const [key, value] of example.expected ?? []) expect(byKey.get(JSON.stringify(key))).toEqual(value);
      if (example.id === 'char-count') {
        expect(result).toHaveLength(40);
        expect(result.reduce((sum, [, count]) => sum + (count as number), 0)).toBe(1780);
      }
      if (example.id === 'triangular-numbers') {
        expect(result).toEqual(Array.from({ length: 100 }, (_, k) => [k, (k * (k + 1)) / 2]));
      }
    });
  }

  test('a job whose code throws fails with the error shown, and the tabs keep working', async ({ browser }) => {
    const source = `export function* map(k, v) { if (v === 3) throw new RangeError('record 3 is cursed'); yield ['n', v]; }
export function reduce(k, vs) { return vs.length; }`;
    const id = await submitJob(coordinator.url, { name: 'cursed', source, input: { kind: 'range', from: 0, to: 10 }, recordsPerTask: 1, maxAttempts: 2 });
    const job = await waitForJob(coordinator.url, id);
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ name: 'RangeError', message: expect.stringContaining('record 3 is cursed') });

    const dashboard = await (await browser.newContext()).newPage();
    await dashboard.goto(coordinator.url);
    await dashboard.getByTestId('job-row').filter({ hasText: 'cursed' }).click();
    await expect(dashboard.getByTestId('job-state')).toHaveText('failed');
    await expect(dashboard.getByTestId('job-error')).toContainText('record 3 is cursed');
    await dashboard.context().close();

    const healthy = await submitJob(coordinator.url, { name: 'after', source: exampleSource('triangular-numbers'), input: { kind: 'range', from: 0, to: 20 } });
    expect((await waitForJob(coordinator.url, healthy)).state).toBe('succeeded');
  });
});
