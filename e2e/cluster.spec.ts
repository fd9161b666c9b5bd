/**
 * Many coordinators on one PostgreSQL, as deployed: three coordinator processes on a
 * throwaway database behind nginx, and Chromium volunteer tabs that know only nginx's
 * address. Jobs give their exact answers; a coordinator SIGKILLed during the map phase and
 * another during the reduce phase lose nothing (the tabs reconnect through nginx, and no
 * task finished before a kill runs again); a job submitted on one coordinator is cancelled
 * on another.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import type { ClusterSummary, JobSummary, KeyValue, TaskSummary } from '../shared/job.ts';
import { startClusterRig, type ClusterRig } from '../testing/cluster-rig.ts';
import { makeProse, referenceWordCount } from './corpus.ts';
import { getJson, openVolunteer, submitJob, waitForJob, waitForVolunteers } from './fixtures.ts';
import { expectExactWordCount, submitWordCount, WORD_COUNT_SOURCE } from './word-count-job.ts';

const INVERTED_INDEX = readFileSync(new URL('../examples/inverted-index.js', import.meta.url), 'utf8');

/**
 * The word count with each map task held back 300 ms and each reduce call 30 ms (its
 * combine, run by map tasks, is not held), so each phase lasts long enough for a kill to
 * land in it on a loaded machine: about 300 distinct words over 6 reducers on 3 tabs
 * give a reduce phase of a few seconds (at 5 ms a call it lasted under a second, and a
 * fresh-clone CI run polled straight past it, from mapping to succeeded).
 */
const SLOW_WORD_COUNT = WORD_COUNT_SOURCE.replace(
  'export function map(fileName, text, emit) {',
  'export function map(fileName, text, emit) {\n  const heldUntil = Date.now() + 300;\n  while (Date.now() < heldUntil) {}',
)
  .replace('export const combine = reduce;', 'export function combine(word, counts) { let total = 0; for (const count of counts) total += count; return total; }')
  .replace('export function reduce(word, counts) {', 'export function reduce(word, counts) {\n  const heldUntil = Date.now() + 30;\n  while (Date.now() < heldUntil) {}');

test.describe.configure({ mode: 'serial' });

let cluster: ClusterRig;
let tabs: Page[] = [];

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  cluster = await startClusterRig({ size: 3 });
  tabs = await Promise.all(Array.from({ length: 3 }, () => openVolunteer(browser, cluster.url)));
  // One worker a tab: the held tasks spin, and three coordinators, PostgreSQL and nginx share these two cores with them.
  for (const tab of tabs) await tab.getByTestId('worker-count').fill('1');
  await waitForVolunteers(cluster.url, 3);
  await expect.poll(async () => (await getJson<ClusterSummary>(`${cluster.url}/api/volunteers`)).slots).toBe(3);
});
test.afterAll(async () => {
  await Promise.all(tabs.map((page) => page.context().close()));
  await cluster?.stop();
});

const jobOf = (url: string, id: string) => getJson<JobSummary>(`${url}/api/jobs/${id}`);

test('a word count and an inverted index through nginx give their exact answers', async () => {
  const words = await submitWordCount(cluster.url, { bytes: 400_000, seed: 11, splitBytes: 16 * 1024, reducers: 4 });
  const files = [0, 1, 2].map((seed) => ({ name: `book-${seed}.txt`, text: makeProse(20_000, 100 + seed) }));
  const index = await submitJob(cluster.url, { name: 'inverted index', source: INVERTED_INDEX, input: { kind: 'texts', files }, splitBytes: 4096, reducers: 3 });
  const tasks = await expectExactWordCount(cluster.url, words);
  // Tabs on different coordinators shared the work.
  expect(new Set(tasks.map((task) => task.volunteerId)).size).toBeGreaterThan(1);
  expect((await waitForJob(cluster.url, index)).state).toBe('succeeded');
  const reference = new Map<string, Set<string>>();
  for (const file of files) for (const [word] of file.text.toLowerCase().matchAll(/\p{L}+/gu)) reference.set(word, (reference.get(word) ?? new Set()).add(file.name));
  const result = await getJson<KeyValue[]>(`${cluster.url}/api/jobs/${index}/result`);
  expect(new Map(result as [string, string[]][])).toEqual(new Map([...reference].map(([word, names]) => [word, [...names].sort()])));
});

test('a coordinator killed during map and another during reduce lose nothing', async () => {
  const text = makeProse(3_000_000, 5);
  const id = await submitJob(cluster.url, { name: 'failover', source: SLOW_WORD_COUNT, input: { kind: 'texts', files: [{ name: 'prose.txt', text }] }, splitBytes: 64 * 1024, reducers: 6 });
  const total = (await jobOf(cluster.url, id)).progress.map.total;
  await expect.poll(async () => (await jobOf(cluster.url, id)).progress.map.done, { intervals: [20] }).toBeGreaterThanOrEqual(1);
  const doneBefore = (await getJson<TaskSummary[]>(`${cluster.url}/api/jobs/${id}/tasks`)).filter((task) => task.status === 'done');
  await cluster.kill(0);
  expect(doneBefore.length).toBeLessThan(total);
  await expect.poll(async () => (await jobOf(cluster.url, id)).state, { intervals: [20], timeout: 90_000 }).toBe('reducing');
  await cluster.kill(1);
  const job = await waitForJob(cluster.url, id);
  expect(job.state).toBe('succeeded');
  const result = await getJson<KeyValue[]>(`${cluster.url}/api/jobs/${id}/result`);
  expect(new Map(result as [string, number][])).toEqual(referenceWordCount([text]));
  // What was done before the first kill was not run again: same volunteer, same finish.
  const after = new Map((await getJson<TaskSummary[]>(`${cluster.url}/api/jobs/${id}/tasks`)).map((task) => [task.id, task]));
  for (const task of doneBefore) expect(after.get(task.id)).toMatchObject({ status: 'done', volunteerId: task.volunteerId, finishedAtMs: task.finishedAtMs });
  // The tabs are all on the survivor now, without a reload.
  await waitForVolunteers(cluster.coordinators[2]!.url, 3);
});

test('a job submitted on one coordinator is cancelled on another, and its tasks stop everywhere', async () => {
  await cluster.restart(0);
  await cluster.restart(1);
  const [first, second, third] = cluster.coordinators.map((coordinator) => coordinator.url);
  const id = await submitJob(first!, { name: 'cancelled elsewhere', source: SLOW_WORD_COUNT, input: { kind: 'texts', files: [{ name: 'prose.txt', text: makeProse(800_000, 9) }] }, splitBytes: 64 * 1024, reducers: 2 });
  await expect.poll(async () => (await jobOf(second!, id)).running, { intervals: [20] }).toBeGreaterThan(0);
  const cancelled = await getJson<JobSummary>(`${third}/api/jobs/${id}`, { method: 'DELETE' });
  expect(cancelled.state).toBe('cancelled');
  expect((await jobOf(first!, id)).state).toBe('cancelled');
  await expect.poll(async () => (await jobOf(second!, id)).running).toBe(0);
  // The tabs were told to stop, and are idle again.
  for (const page of tabs) await expect(page.getByTestId('workers-busy')).toHaveText('0');
});
