/** `tabreduce volunteer` as a child process: it joins, a job finishes on it, Ctrl-C stops it cleanly. */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Coordinator } from '../server/coordinator.ts';
import { testCoordinator, waitFor } from '../testing/integration-rig.ts';
import { REPO_ROOT, runCli, startCli, type RunningCli } from '../testing/cli-process.ts';
import { EXIT } from './exit-codes.ts';

describe('tabreduce volunteer', () => {
  let coordinator: Coordinator | undefined;
  let volunteer: RunningCli | undefined;
  afterEach(async () => {
    if (volunteer && volunteer.process.exitCode === null) {
      volunteer.process.kill('SIGKILL');
      await volunteer.exited();
    }
    await coordinator?.close();
  });

  it('joins with its threads as slots, runs a job to its answer, and stops on SIGINT', async () => {
    coordinator = await testCoordinator();
    const { url } = coordinator;
    volunteer = startCli(['volunteer', '--url', url, '--threads', '2']);
    await volunteer.waitForOutput(/connected as v-\S+, 2 slots/);
    const cluster = await coordinator.scheduler.cluster();
    expect(cluster).toMatchObject({ volunteers: 1, slots: 2 });
    expect(cluster.volunteerList[0]!.agent).toMatch(/^tabreduce volunteer \(Node v\d+/);

    const run = await runCli([
      'submit',
      path.join(REPO_ROOT, 'examples', 'char-count.js'),
      '--records',
      path.join(REPO_ROOT, 'examples', 'inputs', 'pymapreduce-strings.json'),
      '--records-per-task',
      '1',
      '--wait',
      '--quiet',
      '--url',
      url,
    ]);
    expect(run.code).toBe(EXIT.OK);
    // 40 characters, so the top 20 by count: pyMapReduce's ' ' 265 and 'e' 198 first.
    expect((JSON.parse(run.stdout) as [string, number][]).slice(0, 2)).toEqual([[' ', 265], ['e', 198]]);
    expect((await coordinator.scheduler.cluster()).volunteerList[0]!.tasksDone).toBeGreaterThan(0);
    expect(volunteer.stdout()).toMatch(/working on "char-count"/);

    volunteer.process.kill('SIGINT');
    expect(await volunteer.exited()).toBe(EXIT.OK);
    expect(volunteer.stdout()).toMatch(/SIGINT: stopped after \d+ tasks? done, 0 failed\n$/);
    await waitFor('the volunteer to leave', async () => (await coordinator!.scheduler.cluster()).volunteers === 0);
  });

  it('refuses a bad --threads (exit 2)', async () => {
    const run = await runCli(['volunteer', '--threads', '0']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toBe('tabreduce: --threads must be a whole number from 1 to 64, got "0"\n');
  });
});
