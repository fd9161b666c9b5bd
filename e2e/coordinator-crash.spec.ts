/**
 * A coordinator crash loses nothing: SIGKILL it during the map phase (a quarter done), start
 * it again on the same data directory and port, and the job finishes with the exact
 * answer. Map tasks finished before the crash are not run again, and the volunteer
 * tabs reconnect by themselves, without a reload.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { JobSummary, KeyValue, TaskSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { makeProse, referenceWordCount } from './corpus.ts';
import { getJson, openVolunteer, submitJob, waitForJob, waitForVolunteers } from './fixtures.ts';

/**
 * examples/word-count.js with each map task held back 200 ms, so the map phase lasts a few
 * seconds and the kill lands inside it even on a loaded machine: at full speed all 47
 * tasks sometimes finished between the poll that saw a quarter done and the kill.
 */
const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8').replace(
  'export function map(fileName, text, emit) {',
  'export function map(fileName, text, emit) {\n  const heldUntil = Date.now() + 200;\n  while (Date.now() < heldUntil) {}',
);

test('SIGKILL during the map phase: the job resumes and finishes exactly', async ({ browser }) => {
  let coordinator: CoordinatorProcess = await startCoordinatorProcess();
  const port = new URL(coordinator.url).port;
  const volunteers: Page[] = [];
  try {
    for (let i = 0; i < 2; i++) volunteers.push(await openVolunteer(browser, coordinator.url));
    await waitForVolunteers(coordinator.url, 2);
    // A mark that a reload would wipe out.
    for (const page of volunteers) await page.evaluate(() => ((window as unknown as { mark: string }).mark = 'never reloaded'));

    const text = makeProse(3_000_000, 7);
    const id = await submitJob(coordinator.url, {
      name: 'crash test',
      source: WORD_COUNT,
      input: { kind: 'texts', files: [{ name: 'prose.txt', text }] },
      splitBytes: 64 * 1024,
      reducers: 4,
    });
    const total = (await getJson<JobSummary>(`${coordinator.url}/api/jobs/${id}`)).progress.map.total;
    await expect
      .poll(async () => (await getJson<JobSummary>(`${coordinator.url}/api/jobs/${id}`)).progress.map.done, { intervals: [20] })
      .toBeGreaterThanOrEqual(Math.floor(total / 4));
    const before = await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${id}/tasks`);
    coordinator.child.kill('SIGKILL');
    await new Promise((resolve) => coordinator.child.once('exit', resolve));
    const doneBefore = before.filter((task) => task.kind === 'map' && task.status === 'done');
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeLessThan(total);
    for (const page of volunteers) await expect(page.getByTestId('connection-status')).not.toHaveText('connected');

    coordinator = await startCoordinatorProcess({ PORT: port, TABREDUCE_DATA_DIR: coordinator.dataDir });
    for (const page of volunteers) await expect(page.getByTestId('connection-status')).toHaveText('connected');
    const job = await waitForJob(coordinator.url, id);
    expect(job.state).toBe('succeeded');

    const result = await getJson<KeyValue[]>(`${coordinator.url}/api/jobs/${id}/result`);
    expect(new Map(result as [string, number][])).toEqual(referenceWordCount([text]));

    // Every map task done before the crash is still the same attempt by the same volunteer.
    const after = new Map((await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${id}/tasks`)).map((task) => [task.id, task]));
    for (const task of doneBefore) {
      expect(after.get(task.id)).toMatchObject({ status: 'done', attemptsStarted: task.attemptsStarted, volunteerId: task.volunteerId });
    }
    for (const page of volunteers) {
      expect(await page.evaluate(() => (window as unknown as { mark?: string }).mark)).toBe('never reloaded');
    }
  } finally {
    await Promise.all(volunteers.map((page) => page.context().close()));
    await coordinator.stop();
  }
});
