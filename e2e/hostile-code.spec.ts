/**
 * Hostile job code on real Chromium tabs: code that throws, loops forever, returns
 * values JSON cannot carry, or allocates without bound. Each job must fail with an
 * error that says what happened, and a healthy word count submitted right after must
 * finish with the exact answer: on the same tabs where they survive, on fresh tabs
 * where Chromium killed them.
 */
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import type { ClusterSummary, JobSummary } from '../shared/job.ts';
import { CHROMIUM_ARGS, CHROMIUM_LAUNCH } from './chromium.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { getJson, openVolunteer, submitJob, waitForJob, waitForVolunteers } from './fixtures.ts';
import { expectExactWordCount, submitWordCount } from './word-count-job.ts';

/** Task limit of this file's coordinator: short, so a job that loops forever fails in seconds. */
const TASK_TIMEOUT_MS = 3000;
const TABS = 2;

/** Submits a hostile job with two attempts per task, and waits for it to end. */
async function runHostile(baseUrl: string, name: string, source: string, input: unknown = { kind: 'range', from: 0, to: 1 }): Promise<JobSummary> {
  const id = await submitJob(baseUrl, { name, source, input, recordsPerTask: 1, reducers: 1, maxAttempts: 2 });
  return waitForJob(baseUrl, id);
}

const volunteerIds = (tabs: Page[]): Promise<string[]> =>
  Promise.all(tabs.map(async (tab) => (await tab.getByTestId('volunteer-id').textContent()) ?? ''));

/** A healthy word count finishes exactly, and only on `tabs` (which must all still be connected). */
async function expectTabsStillWork(baseUrl: string, tabs: Page[], seed: number): Promise<void> {
  for (const tab of tabs) await expect(tab.getByTestId('connection-status')).toHaveText('connected');
  const ids = await volunteerIds(tabs);
  const job = await submitWordCount(baseUrl, { bytes: 300_000, seed, splitBytes: 32 * 1024, reducers: 3, maxAttempts: 2 });
  const tasks = await expectExactWordCount(baseUrl, job);
  for (const task of tasks) expect(ids).toContain(task.volunteerId);
}

test.describe.serial('hostile job code fails its job, and the same tabs run the next one', () => {
  let coordinator: CoordinatorProcess;
  let tabs: Page[] = [];

  test.beforeAll(async ({ browser }) => {
    coordinator = await startCoordinatorProcess({ TABREDUCE_TASK_TIMEOUT_MS: String(TASK_TIMEOUT_MS) });
    tabs = await Promise.all(Array.from({ length: TABS }, () => openVolunteer(browser, coordinator.url)));
    await waitForVolunteers(coordinator.url, TABS);
  });

  test.afterAll(async () => {
    await Promise.all(tabs.map((tab) => tab.context().close()));
    await coordinator?.stop();
  });

  test('a job that throws on one record fails with that error', async () => {
    const job = await runHostile(
      coordinator.url,
      'throws on record 3',
      `export function* map(k, v) { if (v === 3) throw new RangeError('record 3 is cursed'); yield ['n', v]; }
export function reduce(k, vs) { return vs.length; }`,
      { kind: 'range', from: 0, to: 6 },
    );
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ name: 'RangeError', message: 'record 3 is cursed (in map of record #0 (key 3))' });
    await expectTabsStillWork(coordinator.url, tabs, 1);
  });

  test('a job that loops forever is stopped at the task timeout, and the dashboard says so', async ({ browser }) => {
    const job = await runHostile(coordinator.url, 'loops forever', `export function* map() { for (;;) {} }\nexport function reduce() { return 0; }`);
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({
      name: 'TaskTimeout',
      message: `the task ran longer than its limit of ${TASK_TIMEOUT_MS} ms and was stopped`,
    });
    // Each attempt was reported by the tab that ran it; the tab shows it too.
    await expect
      .poll(async () => (await Promise.all(tabs.map(async (tab) => Number(await tab.getByTestId('tasks-failed').textContent())))).reduce((a, b) => a + b))
      .toBeGreaterThanOrEqual(2);

    const dashboard = await (await browser.newContext()).newPage();
    await dashboard.goto(coordinator.url);
    await dashboard.getByTestId('job-row').filter({ hasText: 'loops forever' }).click();
    await expect(dashboard.getByTestId('job-state')).toHaveText('failed');
    await expect(dashboard.getByTestId('job-error')).toContainText('TaskTimeout');
    await expect(dashboard.getByTestId('job-error')).toContainText(`ran longer than its limit of ${TASK_TIMEOUT_MS} ms`);
    await dashboard.context().close();

    // The looping workers were terminated and replaced: the next job runs on the same tabs.
    await expectTabsStillWork(coordinator.url, tabs, 2);
  });

  const unencodable: { what: string; source: string; message: RegExp }[] = [
    {
      what: 'a function returned by reduce',
      source: `export function* map(k, v) { yield ['k', v]; }\nexport function reduce(k, vs) { return function later() {}; }`,
      message: /^reduce of key "k" returned a value that JSON cannot carry: a function \(later\)/,
    },
    {
      what: 'a BigInt yielded by map',
      source: `export function* map(k, v) { yield ['big', BigInt(v) * 10n]; }\nexport function reduce(k, vs) { return vs.length; }`,
      message: /^map of record #0 \(key 0\) yielded a value for key "big" that JSON cannot carry: a BigInt \(0n\)/,
    },
    {
      what: 'a cycle returned by combine',
      source: `export function* map(k, v) { yield ['k', v]; }
export function combine(k, vs) { const node = { vs }; node.self = node; return node; }
export function reduce(k, vs) { return vs.length; }`,
      message: /^combine of key "k" returned a value that JSON cannot carry: a cycle at \.self/,
    },
  ];
  for (const [i, { what, source, message }] of unencodable.entries()) {
    test(`a job whose value is ${what} fails with a clear error`, async () => {
      const job = await runHostile(coordinator.url, what, source);
      expect(job.state).toBe('failed');
      expect(job.error?.name).toBe('TypeError');
      expect(job.error?.message).toMatch(message);
      await expectTabsStillWork(coordinator.url, tabs, 10 + i);
    });
  }
});

/**
 * Measured on Chromium 156: a dedicated worker that exhausts its V8 heap takes the
 * whole renderer down with it, the tab's page included: no error event on the Worker,
 * no last message, nothing the page could report. The coordinator sees the tab
 * disconnect and retries the task elsewhere, which crashes that tab too, until the task
 * runs out of attempts. By default the heap limit is about 4 GB, reached in about 10 s
 * with large arrays (a minute with many small objects); these tests launch a browser
 * of their own that caps V8's heap at 512 MB, so the same crash comes within a second
 * or two and costs little memory.
 */
test.describe.serial('a job that allocates without bound', () => {
  let browser: Browser;
  let coordinator: CoordinatorProcess;
  let tabs: Page[] = [];
  const crashed = new Set<Page>();

  const openTab = async (): Promise<Page> => {
    const tab = await openVolunteer(browser, coordinator.url);
    tab.on('crash', () => crashed.add(tab));
    return tab;
  };

  test.beforeAll(async () => {
    browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_ARGS, '--js-flags=--max-old-space-size=512'] });
    // A long task limit, so the heap runs out before the deadline can stop the worker.
    coordinator = await startCoordinatorProcess({ TABREDUCE_TASK_TIMEOUT_MS: '300000' });
    tabs = await Promise.all(Array.from({ length: TABS }, () => openTab()));
    await waitForVolunteers(coordinator.url, TABS);
  });

  test.afterAll(async () => {
    await browser?.close();
    await coordinator?.stop();
  });

  test('crashes the tabs that run it, fails after its attempts, and fresh tabs run the next job', async () => {
    const job = await runHostile(
      coordinator.url,
      'allocates forever',
      `export function* map() { const hoard = []; for (;;) hoard.push(new Array(1e7).fill(0.5)); }\nexport function reduce() { return 0; }`,
    );
    expect(job.state).toBe('failed');
    // All the coordinator can know: the tab went away while it ran the task.
    expect(job.error).toMatchObject({ name: 'LeaseLost', message: expect.stringMatching(/closed or crashed|stopped answering/) });
    expect(crashed.size).toBeGreaterThanOrEqual(1);
    // The coordinator lost exactly the crashed tabs (`crashed` is re-read on each poll,
    // in case a tab running a copy of the task crashes just as the job fails).
    await expect.poll(async () => (await getJson<ClusterSummary>(`${coordinator.url}/api/volunteers`)).volunteers === TABS - crashed.size).toBe(true);
    test.info().annotations.push({ type: 'crashed tabs', description: String(crashed.size) });

    const fresh = await Promise.all([...crashed].map(() => openTab()));
    tabs.push(...fresh);
    const alive = tabs.filter((tab) => !crashed.has(tab));
    await waitForVolunteers(coordinator.url, alive.length);
    await expectTabsStillWork(coordinator.url, alive, 20);
  });
});
