/**
 * Watching jobs on the dashboard with real tabs working: the task timeline and the
 * throughput chart fill as the job runs, the jobs list filters by state, the result
 * can be searched and shows its top keys, and a running job can be cancelled.
 */
import { expect, test } from '@playwright/test';
import { dashboardWithTabs, submitJob, waitForJob } from './fixtures.ts';
import { submitWordCount } from './word-count-job.ts';

/** Map tasks that take a moment each (200 ms: at 60 ms the whole job could end before a cold dashboard drew its first bar), so the timeline is watched while it fills. */
const PACED_JOB = `export function map(k, v, emit) { const end = Date.now() + 200; while (Date.now() < end) {} emit('n' + (v % 5), 1); }
export function reduce(k, vs) { return vs.length; }`;

test.describe.serial('the dashboard watches jobs', () => {
  const rig = dashboardWithTabs(2);

  test('the task timeline and the throughput chart fill while the job runs', async () => {
    const id = await submitJob(rig.coordinator.url, { name: 'paced', source: PACED_JOB, input: { kind: 'range', from: 0, to: 60 }, recordsPerTask: 1, reducers: 2 });
    await rig.dashboard.getByTestId('job-row').filter({ hasText: 'paced' }).click();
    const bars = rig.dashboard.getByTestId('timeline-bar');
    await expect.poll(() => bars.count()).toBeGreaterThan(0);
    const early = await bars.count();
    await expect.poll(() => bars.count(), { timeout: 60_000 }).toBeGreaterThan(early);
    await waitForJob(rig.coordinator.url, id);
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText('succeeded');
    // Every map and reduce task has its bar, on one row per tab.
    await expect(bars).toHaveCount(62);
    await expect(rig.dashboard.getByTestId('throughput-chart')).toBeVisible();
  });

  test('a failed attempt shows on the timeline in its own colour, the retry beside it', async () => {
    const id = await submitJob(rig.coordinator.url, {
      name: 'fails once',
      source: `let thrown = false;
export function map(k, v, emit) { if (v === 2 && !thrown) { thrown = true; throw new Error('the first try fails'); } emit('n', 1); }
export function reduce(k, vs) { return vs.length; }`,
      input: { kind: 'range', from: 0, to: 6 },
      recordsPerTask: 1,
      reducers: 1,
    });
    expect((await waitForJob(rig.coordinator.url, id)).state).toBe('succeeded');
    await rig.dashboard.getByTestId('job-row').filter({ hasText: 'fails once' }).click();
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText('succeeded');
    await expect.poll(() => rig.dashboard.locator('[data-testid="timeline-past-attempt"][data-outcome="failed"]').count()).toBeGreaterThanOrEqual(1);
    await expect(rig.dashboard.getByTestId('timeline-bar')).toHaveCount(7);
  });

  test('the result shows its top keys and can be searched; the jobs list filters by state', async () => {
    const job = await submitWordCount(rig.coordinator.url, { bytes: 40_000, seed: 7, splitBytes: 8 * 1024, reducers: 2, name: 'searchable words' });
    await waitForJob(rig.coordinator.url, job.id);
    await rig.dashboard.getByTestId('job-row').filter({ hasText: 'searchable words' }).click();
    const top = [...job.reference].sort((a, b) => b[1] - a[1]).slice(0, 10);
    await expect(rig.dashboard.getByTestId('top-chart').locator('li')).toHaveCount(10);
    await expect(rig.dashboard.getByTestId('top-chart').locator('li').first()).toContainText(top[0]![0]);

    const word = top[0]![0];
    await rig.dashboard.getByTestId('result-search').fill(word);
    const rows = rig.dashboard.getByTestId('result-table').locator('tbody tr');
    const containing = [...job.reference.keys()].filter((key) => key.toLowerCase().includes(word.toLowerCase()));
    await expect(rows).toHaveCount(Math.min(containing.length, 100));

    await rig.dashboard.getByTestId('jobs-filter').selectOption('failed');
    await expect(rig.dashboard.getByTestId('job-row')).toHaveCount(0);
    await rig.dashboard.getByTestId('jobs-filter').selectOption('succeeded');
    await expect(rig.dashboard.getByTestId('job-row').filter({ hasText: 'searchable words' })).toHaveCount(1);
    await rig.dashboard.getByTestId('jobs-filter').selectOption('all');
  });

  test('a module is written in the editor: a problem is shown at its line and blocks submit until fixed; files are dropped in', async () => {
    await rig.dashboard.getByTestId('source-editor').click();
    await rig.dashboard.keyboard.press('ControlOrMeta+a');
    await rig.dashboard.keyboard.insertText("export function map(k, v, emit) {\n  for (const line of v.split('\\n')) if (line) emit(line, 1);\n}\nexport function reduce(k, vs) { return vs.length; \n");
    await expect(rig.dashboard.getByTestId('source-check')).toContainText('Line 5');
    await expect(rig.dashboard.getByTestId('submit-job')).toBeDisabled();
    await expect(rig.dashboard.locator('.cm-lint-marker-error')).toHaveCount(1);
    await rig.dashboard.keyboard.insertText('}\n');
    await expect(rig.dashboard.getByTestId('source-check')).toHaveText(/Exports map, reduce/);
    await expect(rig.dashboard.getByTestId('submit-job')).toBeEnabled();

    // Two files dropped on the input section become the job's input.
    const drop = await rig.dashboard.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['alpha\nbeta\nalpha\n'], 'one.txt', { type: 'text/plain' }));
      transfer.items.add(new File(['beta\ngamma\n'], 'two.txt', { type: 'text/plain' }));
      return transfer;
    });
    await rig.dashboard.getByTestId('input-drop').dispatchEvent('dragover', { dataTransfer: drop });
    await rig.dashboard.getByTestId('input-drop').dispatchEvent('drop', { dataTransfer: drop });
    await expect(rig.dashboard.getByText('one.txt')).toBeVisible();
    await rig.dashboard.getByTestId('job-name').fill('lines from the editor');
    await rig.dashboard.getByTestId('submit-job').click();
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText('succeeded', { timeout: 30_000 });
    const rows = rig.dashboard.getByTestId('result-table').locator('tbody tr');
    await expect(rows).toHaveCount(3);
    await expect(rig.dashboard.getByTestId('result-table')).toContainText('alpha');
  });

  test('a running job is cancelled from the dashboard', async () => {
    const id = await submitJob(rig.coordinator.url, { name: 'to cancel', source: PACED_JOB, input: { kind: 'range', from: 0, to: 2000 }, recordsPerTask: 1, reducers: 1 });
    await rig.dashboard.getByTestId('job-row').filter({ hasText: 'to cancel' }).click();
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText(/mapping|queued/);
    await rig.dashboard.getByTestId('cancel-job').click();
    await expect(rig.dashboard.getByTestId('job-state')).toHaveText('cancelled');
    expect((await waitForJob(rig.coordinator.url, id)).state).toBe('cancelled');
  });
});
