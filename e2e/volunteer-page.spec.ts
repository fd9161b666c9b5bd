/**
 * The volunteer page's controls and both pages' presentation on real Chromium: the
 * worker count shows on the dashboard, pausing stops new work while another tab goes
 * on, the choice survives a reload; screenshots at desktop and phone sizes in light
 * and dark, and an axe-core scan of each page with no serious or critical violation.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { ClusterSummary, TaskSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { getJson, openVolunteer, submitJob, waitForJob } from './fixtures.ts';

/** Map tasks that each keep a worker busy for a while, so a tab is seen holding work. */
const SLOW_JOB = `export function map(k, v, emit) { const end = Date.now() + 150; while (Date.now() < end) {} emit(v % 3, 1); }
export function reduce(k, vs) { return vs.length; }`;

const tasksDone = async (tab: Page) => Number(await tab.getByTestId('tasks-done').textContent());
const volunteerIdOf = async (tab: Page) => (await tab.getByTestId('volunteer-id').textContent()) ?? '';

test.describe.serial('the volunteer page and the dashboard', () => {
  let coordinator: CoordinatorProcess;

  test.beforeAll(async () => {
    coordinator = await startCoordinatorProcess();
  });
  test.afterAll(async () => {
    await coordinator?.stop();
  });

  test('the worker count chosen on a tab shows as its slots on the dashboard', async ({ browser }) => {
    const tab = await openVolunteer(browser, coordinator.url);
    const dashboard = await (await browser.newContext()).newPage();
    await dashboard.goto(coordinator.url);
    const cores = await tab.evaluate(() => navigator.hardwareConcurrency || 2);
    await tab.getByTestId('worker-count').fill('1');
    await expect(dashboard.getByTestId('slot-count')).toHaveText('0/1');
    if (cores > 1) {
      await tab.getByTestId('worker-count').fill(String(Math.min(cores, 4)));
      await expect(dashboard.getByTestId('slot-count')).toHaveText(`0/${Math.min(cores, 4)}`);
    }
    await Promise.all([tab.context().close(), dashboard.context().close()]);
  });

  test('pausing stops new work at once while another tab goes on; the choice survives a reload', async ({ browser }) => {
    const [pausing, working] = await Promise.all([openVolunteer(browser, coordinator.url), openVolunteer(browser, coordinator.url)]);
    const pausingId = await volunteerIdOf(pausing);
    const id = await submitJob(coordinator.url, { name: 'slow tasks', source: SLOW_JOB, input: { kind: 'range', from: 0, to: 80 }, recordsPerTask: 1, reducers: 1 });
    await expect.poll(() => tasksDone(pausing)).toBeGreaterThanOrEqual(2);

    await pausing.getByTestId('pause-toggle').click();
    await expect(pausing.getByTestId('taking-work')).toContainText('paused by hand');
    // Tasks it held unstarted went back at once; the ones running finish.
    await expect
      .poll(async () => (await getJson<ClusterSummary>(`${coordinator.url}/api/volunteers`)).volunteerList.find((v) => v.id === pausingId)?.running)
      .toBe(0);
    // Counted by the coordinator: the page's counter moves when an answer's ack arrives, a moment later.
    const doneBy = async (volunteerId: string) =>
      (await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${id}/tasks`)).filter((task) => task.status === 'done' && task.volunteerId === volunteerId).length;
    const doneWhenIdle = await doneBy(pausingId);
    const workingId = await volunteerIdOf(working);
    const workingBefore = await doneBy(workingId);
    // The other tab does ten more tasks meanwhile; the paused one does none.
    await expect.poll(() => doneBy(workingId), { timeout: 30_000 }).toBeGreaterThanOrEqual(workingBefore + 10);
    expect(await doneBy(pausingId)).toBe(doneWhenIdle);

    // Remembered: after a reload the tab is still paused, and takes no work.
    await pausing.reload();
    await expect(pausing.getByTestId('connection-status')).toHaveText('connected');
    await expect(pausing.getByTestId('pause-toggle')).toHaveText('Resume');
    await expect(pausing.getByTestId('taking-work')).toContainText('paused by hand');

    await pausing.getByTestId('pause-toggle').click();
    await expect(pausing.getByTestId('taking-work')).toHaveText('yes');
    await expect.poll(() => tasksDone(pausing), { timeout: 30_000 }).toBeGreaterThan(0);
    const job = await waitForJob(coordinator.url, id);
    expect(job.state).toBe('succeeded');
    const tasks = await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${id}/tasks`);
    expect(tasks.filter((task) => task.attemptsStarted > 1)).toEqual([]);
    await Promise.all([pausing.context().close(), working.context().close()]);
  });

  for (const [size, viewport] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`both pages at ${size} size in ${colorScheme}: no horizontal scroll, no serious axe violation, screenshots saved`, async ({ browser }, testInfo) => {
        const pages = await openBothPages(browser, coordinator.url, viewport, colorScheme);
        for (const [name, page] of Object.entries(pages)) {
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
          const scan = await new AxeBuilder({ page }).analyze();
          const serious = scan.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
          expect(serious.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`)).toEqual([]);
          const file = testInfo.outputPath(`${name}-${size}-${colorScheme}.png`);
          await page.screenshot({ path: file, fullPage: true });
          await testInfo.attach(`${name} ${size} ${colorScheme}`, { path: file, contentType: 'image/png' });
        }
        await Promise.all(Object.values(pages).map((page) => page.context().close()));
      });
    }
  }
});

/** The volunteer page with a job running and the dashboard showing that job, at one size and scheme. */
async function openBothPages(browser: Browser, baseUrl: string, viewport: { width: number; height: number }, colorScheme: 'light' | 'dark'): Promise<Record<string, Page>> {
  const volunteer = await (await browser.newContext({ viewport, colorScheme })).newPage();
  await volunteer.goto(`${baseUrl}/volunteer`);
  await expect(volunteer.getByTestId('connection-status')).toHaveText('connected');
  const id = await submitJob(baseUrl, { name: `screenshot ${viewport.width} ${colorScheme}`, submitter: 'the screenshot test', source: SLOW_JOB, input: { kind: 'range', from: 0, to: 30 }, recordsPerTask: 1, reducers: 1 });
  await expect(volunteer.getByTestId('running-job-name').first()).toBeVisible();
  const dashboard = await (await browser.newContext({ viewport, colorScheme })).newPage();
  await dashboard.goto(baseUrl);
  await dashboard.getByTestId('job-row').filter({ hasText: `screenshot ${viewport.width} ${colorScheme}` }).click();
  await expect(dashboard.getByTestId('job-state')).toBeVisible();
  await waitForJob(baseUrl, id);
  await expect(dashboard.getByTestId('job-state')).toHaveText('succeeded');
  return { volunteer, dashboard };
}
