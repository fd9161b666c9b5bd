/**
 * Shared Playwright fixtures: a coordinator process and volunteer tabs, each in its
 * own browser context (a context is what a separate browser profile would be).
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { ClusterSummary, JobSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';

/**
 * Opens a volunteer tab in a browser context of its own and waits until it is welcomed.
 * `beforeLoad` runs on the blank page first: the place for init scripts and listeners
 * that must see the page from its first moment (its WebSocket, say).
 */
export async function openVolunteer(browser: Browser, baseUrl: string, beforeLoad?: (page: Page) => Promise<void> | void): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await beforeLoad?.(page);
  await page.goto(`${baseUrl}/volunteer`);
  // goto resolves before the page's socket connects: wait for the page's own word.
  await expect(page.getByTestId('connection-status')).toHaveText('connected');
  return page;
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function submitJob(baseUrl: string, body: unknown): Promise<string> {
  const { id } = await getJson<{ id: string }>(`${baseUrl}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return id;
}

/** Polls a job until it ends; answers its final summary. */
export async function waitForJob(baseUrl: string, id: string): Promise<JobSummary> {
  let job: JobSummary | undefined;
  await expect
    .poll(
      async () => {
        job = await getJson<JobSummary>(`${baseUrl}/api/jobs/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(job.state);
      },
      { timeout: 120_000, intervals: [100, 250, 500] },
    )
    .toBe(true);
  return job!;
}

export async function waitForVolunteers(baseUrl: string, count: number): Promise<void> {
  await expect.poll(async () => (await getJson<ClusterSummary>(`${baseUrl}/api/volunteers`)).volunteers).toBe(count);
}

/** What `dashboardWithTabs` starts: read its fields inside tests, once `beforeAll` has run. */
export interface DashboardRig {
  coordinator: CoordinatorProcess;
  tabs: Page[];
  dashboard: Page;
}

/**
 * Inside a serial describe: a coordinator process, `tabs` volunteer tabs and a dashboard
 * page on it, started before its tests and closed after them.
 */
export function dashboardWithTabs(tabs = 2): DashboardRig {
  const rig = {} as DashboardRig;
  test.beforeAll(async ({ browser }) => {
    rig.coordinator = await startCoordinatorProcess();
    rig.tabs = await Promise.all(Array.from({ length: tabs }, () => openVolunteer(browser, rig.coordinator.url)));
    await waitForVolunteers(rig.coordinator.url, tabs);
    rig.dashboard = await (await browser.newContext()).newPage();
    await rig.dashboard.goto(rig.coordinator.url);
  });
  test.afterAll(async () => {
    await Promise.all([...(rig.tabs ?? []), ...(rig.dashboard ? [rig.dashboard] : [])].map((page) => page.context().close()));
    await rig.coordinator?.stop();
  });
  return rig;
}
