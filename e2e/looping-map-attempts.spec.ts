/**
 * A map that never returns, on three real tabs with backup copies starting early: every
 * copy, the backups included, runs into the task timeout, and the job fails with
 * TaskTimeout after no more than maxAttempts attempts. Before attempts bounded backups,
 * a fresh backup started whenever one copy timed out while another ran, and the job
 * stayed `mapping` for as long as anyone waited.
 */
import { expect, test, type Page } from '@playwright/test';
import type { ClusterSummary, TaskSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { getJson, openVolunteer, submitJob, waitForJob, waitForVolunteers } from './fixtures.ts';

const TASK_TIMEOUT_MS = 3000;
/** Well under the task timeout, so every copy gets a backup while it runs. */
const BACKUP_AFTER_MS = 1000;
const MAX_ATTEMPTS = 4;
const TABS = 3;

test.describe.serial('a map that never returns, with backup copies', () => {
  let coordinator: CoordinatorProcess;
  let tabs: Page[] = [];

  test.beforeAll(async ({ browser }) => {
    coordinator = await startCoordinatorProcess({
      TABREDUCE_TASK_TIMEOUT_MS: String(TASK_TIMEOUT_MS),
      TABREDUCE_BACKUP_AFTER_MS: String(BACKUP_AFTER_MS),
    });
    tabs = await Promise.all(Array.from({ length: TABS }, () => openVolunteer(browser, coordinator.url)));
    await waitForVolunteers(coordinator.url, TABS);
  });

  test.afterAll(async () => {
    await Promise.all(tabs.map((tab) => tab.context().close()));
    await coordinator?.stop();
  });

  test('fails with TaskTimeout within maxAttempts attempts, backups included', async () => {
    const submittedAtMs = Date.now();
    const id = await submitJob(coordinator.url, {
      name: 'loops forever, backed up',
      source: `export function* map() { for (;;) {} }\nexport function reduce() { return 0; }`,
      input: { kind: 'range', from: 0, to: 1 },
      recordsPerTask: 1,
      reducers: 1,
      maxAttempts: MAX_ATTEMPTS,
    });
    const job = await waitForJob(coordinator.url, id);
    const failedAfterMs = Date.now() - submittedAtMs;

    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({
      name: 'TaskTimeout',
      message: `the task ran longer than its limit of ${TASK_TIMEOUT_MS} ms and was stopped`,
    });
    // Backups did run: without them this would only retest hostile-code.spec.ts.
    expect(job.backups.started).toBeGreaterThanOrEqual(1);

    const tasks = await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${id}/tasks`);
    const map = tasks.find((task) => task.kind === 'map')!;
    expect(map).toMatchObject({ status: 'failed', lastError: { name: 'TaskTimeout' } });
    expect(map.attemptsStarted).toBeLessThanOrEqual(MAX_ATTEMPTS);
    // Every attempt started ended in a failure its tab reported: none was cut short, and
    // the tabs, counted by the coordinator, failed no more tasks than that.
    expect(map.pastAttempts?.map((attempt) => attempt.outcome)).toEqual(Array(map.attemptsStarted).fill('failed'));
    const cluster = await getJson<ClusterSummary>(`${coordinator.url}/api/volunteers`);
    expect(cluster.volunteerList.reduce((sum, volunteer) => sum + volunteer.tasksFailed, 0)).toBe(map.attemptsStarted);

    // Copies overlap, so the job fails sooner than maxAttempts timeouts one after another;
    // the bound leaves room for a busy machine.
    expect(failedAfterMs).toBeLessThan(2 * MAX_ATTEMPTS * TASK_TIMEOUT_MS);
    test.info().annotations.push({
      type: 'looping job',
      description: `failed after ${failedAfterMs} ms: ${map.attemptsStarted} attempts, ${job.backups.started} of them backups`,
    });
  });
});
