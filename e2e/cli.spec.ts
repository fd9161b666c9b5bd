/**
 * The command line against real browser tabs: `tabreduce submit --wait` uploads a word
 * count over a megabyte of text to a coordinator process, two Chromium volunteer tabs
 * run it, and the CLI's answer (printed and saved) equals an independent reference.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { KeyValue, TaskSummary } from '../shared/job.ts';
import { startCoordinatorProcess, type CoordinatorProcess } from './coordinator-process.ts';
import { makeProse, referenceWordCount } from './corpus.ts';
import { getJson, openVolunteer, waitForVolunteers } from './fixtures.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');

/** Runs `tabreduce ...args` to its end, as a script would. */
function tabreduce(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'bin', 'tabreduce.js'), ...args], { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

test.describe.serial('tabreduce submit --wait on real browser tabs', () => {
  let coordinator: CoordinatorProcess;
  let tabs: Page[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-e2e-cli-'));

  test.beforeAll(async ({ browser }) => {
    coordinator = await startCoordinatorProcess();
    tabs = await Promise.all([0, 1].map(() => openVolunteer(browser, coordinator.url)));
    await waitForVolunteers(coordinator.url, 2);
  });

  test.afterAll(async () => {
    await Promise.all(tabs.map((page) => page.context().close()));
    await coordinator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('word count over 1.2 MB: the printed top 20 and the saved result equal the reference', async () => {
    const text = makeProse(1_200_000, 20261201);
    const reference = referenceWordCount([text]);
    const input = path.join(dir, 'prose.txt');
    const out = path.join(dir, 'counts.json');
    writeFileSync(input, text);

    const run = await tabreduce([
      'submit',
      'examples/word-count.js',
      input,
      '--split-bytes',
      '64k',
      '--reducers',
      '3',
      '--name',
      'cli word count',
      '--wait',
      '--out',
      out,
      '--url',
      coordinator.url,
    ]);
    expect(run.stderr).not.toMatch(/^tabreduce:/m);
    expect(run.code).toBe(0);

    // stdout: the top 20 words by count, highest first, exactly as the reference counts them.
    const top = JSON.parse(run.stdout) as [string, number][];
    const referenceTop = [...reference].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, 20);
    expect(top).toEqual(referenceTop);
    // --out: every word.
    expect(new Map(JSON.parse(readFileSync(out, 'utf8')) as KeyValue[] as [string, number][])).toEqual(reference);

    // stderr, not a terminal: the job id, plain progress lines through to success, where the result went.
    const id = /^job (job-\S+) submitted/m.exec(run.stderr)?.[1];
    expect(id).toBeDefined();
    // Progress is polled every 250 ms, and two tabs can finish this job between two polls:
    // the line before success may be the queued one or a mapping one.
    expect(run.stderr).toMatch(/^(queued|mapping): \d+\/\d+ map · 0\/3 reduce/m);
    expect(run.stderr).toMatch(/^succeeded: (\d+)\/\1 map · 3\/3 reduce/m);
    expect(run.stderr).toMatch(new RegExp(`^wrote ${reference.size} keys \\(json, .+\\) to ${out.replaceAll('.', '\\.')}$`, 'm'));

    // The tasks ran on the tabs, on both of them.
    const tasks = await getJson<TaskSummary[]>(`${coordinator.url}/api/jobs/${id}/tasks`);
    const tabIds = await Promise.all(tabs.map((page) => page.getByTestId('volunteer-id').textContent()));
    const ranOn = new Set(tasks.map((task) => task.volunteerId));
    for (const volunteer of ranOn) expect(tabIds).toContain(volunteer);
    expect(ranOn.size).toBe(2);

    // And the other commands see the same job.
    const status = await tabreduce(['status', id!, '--json', '--url', coordinator.url]);
    expect(JSON.parse(status.stdout)).toMatchObject({ id, state: 'succeeded', name: 'cli word count' });
  });
});
