/**
 * The job report, opened in Chromium: a self-contained HTML file whose numbers are the
 * API's, and the dashboard's task-metric quantiles beside it.
 */
import { expect, test } from '@playwright/test';
import type { JobSummary, TaskSummary } from '../shared/job.ts';
import { taskMetrics } from '../shared/task-metrics.ts';
import { dashboardWithTabs, getJson, submitJob, waitForJob } from './fixtures.ts';

const PACED_JOB = `export function map(k, v, emit) { const end = Date.now() + 20 * (v % 3); while (Date.now() < end) {} emit('n' + (v % 4), v); }
export function reduce(k, vs) { return vs.reduce((a, b) => a + b, 0); }`;

test.describe.serial('the job report', () => {
  const rig = dashboardWithTabs(2);

  test("is self-contained HTML whose figures and task metrics are the API's, linked from the dashboard", async ({ browser }) => {
    const { url } = rig.coordinator;
    const id = await submitJob(url, { name: 'reported', source: PACED_JOB, input: { kind: 'range', from: 0, to: 24 }, recordsPerTask: 2, reducers: 2 });
    expect((await waitForJob(url, id)).state).toBe('succeeded');
    const job = await getJson<JobSummary>(`${url}/api/jobs/${id}`);
    const tasks = await getJson<TaskSummary[]>(`${url}/api/jobs/${id}/tasks`);
    const expected = taskMetrics(tasks);

    const response = await fetch(`${url}/api/jobs/${id}/report`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="tabreduce-report-${id}.html"`);
    const html = await response.text();

    // Opened as a saved file is: no coordinator behind it, every request refused.
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    await page.setContent(html);
    expect(requests).toEqual([]);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('reported');
    await expect(page.getByTestId('report-state')).toHaveText('succeeded');
    await expect(page.getByTestId('report-map-tasks')).toHaveText(`${job.progress.map.done} of ${job.progress.map.total}`);
    await expect(page.getByTestId('report-reduce-tasks')).toHaveText('2 of 2');
    await expect(page.getByTestId('report-retries')).toHaveText(String(job.retries));
    await expect(page.getByTestId('report-volunteers')).toHaveText(String(job.volunteersUsed));
    for (const kind of ['map', 'reduce'] as const) {
      for (const [id, values] of [['duration', expected[kind].durationMs], ['input', expected[kind].inputBytes], ['output', expected[kind].outputBytes]] as const) {
        for (const column of ['min', 'p25', 'median', 'p75', 'max'] as const) {
          await expect(page.getByTestId(`report-${kind}-${id}-${column}`)).toHaveAttribute('data-value', String(values![column]));
        }
      }
    }
    // A bar per accepted attempt, and one per attempt that ended otherwise (a task handed back to an idle tab, say).
    const attempts = tasks.filter((task) => task.status === 'done').length + tasks.reduce((sum, task) => sum + (task.pastAttempts?.length ?? 0), 0);
    await expect(page.getByTestId('report-bar')).toHaveCount(attempts);
    await expect(page.getByTestId('report-no-errors')).toBeVisible();
    await context.close();

    // The dashboard shows the same quantiles, and links the report.
    const dashboard = rig.dashboard;
    await dashboard.getByTestId('job-row').filter({ hasText: 'reported' }).click();
    await expect(dashboard.getByTestId('task-metrics')).toContainText(`${expected.map.tasks} map, 2 reduce`);
    await expect(dashboard.getByTestId('metrics-map-input-max')).not.toHaveText('–');
    const download = dashboard.waitForEvent('download');
    await dashboard.getByTestId('download-report').click();
    expect((await download).suggestedFilename()).toBe(`tabreduce-report-${id}.html`);
  });
});
