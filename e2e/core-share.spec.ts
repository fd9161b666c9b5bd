/**
 * Tabs of one browser share its cores (web/volunteer/core-share.ts), on real Chromium:
 * three volunteer tabs in one browser context (one profile, so one set of Web Locks),
 * the core count pinned to 2, run 2 workers between them, never more; the page says how
 * many each runs and why; a word count finishes exactly on the tabs that hold the cores;
 * when one of those closes, the tab that had none takes its core and works.
 * Tests that open tabs in contexts of their own (fixtures.ts) are separate profiles,
 * which share nothing.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { ClusterSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { getJson } from './fixtures.ts';
import { expectExactWordCount, submitWordCount } from './word-count-job.ts';

const CORES = 2;

test.describe.serial('tabs of one browser share its cores', () => {
  let coordinator: CoordinatorProcess;
  let context: BrowserContext;
  /** The most slots the coordinator was ever seen counting, over every poll of this test. */
  let mostSlots = 0;

  test.beforeAll(async ({ browser }) => {
    coordinator = await startCoordinatorProcess();
    context = await browser.newContext();
    // The same count on any machine; every tab of the context reads it.
    await context.addInitScript((cores) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => cores }), CORES);
  });
  test.afterAll(async () => {
    await context?.close();
    await coordinator?.stop();
  });

  const cluster = async () => {
    const summary = await getJson<ClusterSummary>(`${coordinator.url}/api/volunteers`);
    mostSlots = Math.max(mostSlots, summary.slots);
    return summary;
  };
  const slotsOf = async (ids: string[]) => {
    const { volunteerList } = await cluster();
    return ids.map((id) => volunteerList.find((volunteer) => volunteer.id === id)?.slots);
  };
  const workersShown = async (page: Page) => Number(await page.getByTestId('core-share').getAttribute('data-workers'));
  const idOf = async (page: Page) => (await page.getByTestId('volunteer-id').textContent()) ?? '';

  test('three tabs run two workers between them; closing one hands its core to the tab that had none', async () => {
    const tabs: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      await page.goto(`${coordinator.url}/volunteer`);
      await expect(page.getByTestId('connection-status')).toHaveText('connected');
      tabs.push(page);
    }
    const [first, second, third] = tabs as [Page, Page, Page];
    const ids = await Promise.all(tabs.map(idOf));
    // Each wants min(2, 4) = 2; the two oldest get one core each, the newest none.
    await expect.poll(() => slotsOf(ids)).toEqual([1, 1, 0]);
    await expect.poll(() => Promise.all(tabs.map(workersShown))).toEqual([1, 1, 0]);
    await expect(first.getByTestId('core-share')).toHaveText("1 worker of the 2 chosen: this browser's 2 other volunteer tabs run 1 of its 2 cores");
    await expect(third.getByTestId('core-share')).toHaveText(
      "No workers of the 2 chosen: this browser's 2 other volunteer tabs run 2 of its 2 cores; this tab gets its share when one of them closes or runs fewer",
    );

    const before = await submitWordCount(coordinator.url, { bytes: 400_000, seed: 13, splitBytes: 25_000, reducers: 2, name: 'three tabs, two cores' });
    const tasksBefore = await expectExactWordCount(coordinator.url, before);
    // The tab without a core asked for no work.
    expect(tasksBefore.filter((task) => task.volunteerId === ids[2])).toEqual([]);

    await first.close();
    await expect.poll(async () => (await cluster()).volunteers).toBe(2);
    await expect.poll(() => slotsOf(ids.slice(1))).toEqual([1, 1]);
    await expect(third.getByTestId('core-share')).toHaveText("1 worker of the 2 chosen: this browser's other volunteer tab runs 1 of its 2 cores");
    await expect(second.getByTestId('core-share')).toHaveText("1 worker of the 2 chosen: this browser's other volunteer tab runs 1 of its 2 cores");

    const after = await submitWordCount(coordinator.url, { bytes: 400_000, seed: 14, splitBytes: 25_000, reducers: 2, name: 'two tabs, two cores' });
    const tasksAfter = await expectExactWordCount(coordinator.url, after);
    // The tab that took the closed tab's core works with it.
    expect(tasksAfter.some((task) => task.volunteerId === ids[2] && task.status === 'done')).toBe(true);
    expect(mostSlots).toBeLessThanOrEqual(CORES);
  });

  test('pausing a tab hands its core to the other tab; resuming takes its share back', async () => {
    const [a, b] = context.pages() as [Page, Page];
    const ids = await Promise.all([a, b].map(idOf));
    await a.getByTestId('pause-toggle').click();
    await expect.poll(() => slotsOf(ids)).toEqual([0, 2]);
    await expect(a.getByTestId('core-share')).toHaveText("No workers while paused: this browser's other volunteer tabs may use its cores");
    await a.getByTestId('pause-toggle').click();
    await expect.poll(() => slotsOf(ids)).toEqual([1, 1]);
    expect(mostSlots).toBeLessThanOrEqual(CORES);
  });
});
