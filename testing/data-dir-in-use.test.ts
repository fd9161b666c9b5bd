/**
 * A second coordinator started on a data directory another one holds refuses at once,
 * with one line that says why, and exits non-zero: not after a busy timeout, not with a
 * stack trace. Real processes, as `npm start` runs them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import { api } from './integration-rig.ts';

describe('a second coordinator on a data directory in use', () => {
  let dataDir: string | undefined;
  let first: CoordinatorProcess | undefined;
  afterEach(async () => {
    await first?.stop();
    first = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses at once with one line, exits 1, and leaves the first one serving', async () => {
    // Not the e2e prefix: the refused coordinator's clean-up would delete a directory of that prefix, the first one's.
    dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-lock-'));
    first = await startCoordinatorProcess({ TABREDUCE_DATA_DIR: dataDir });

    const startedMs = Date.now();
    const refusal = (await startCoordinatorProcess({ TABREDUCE_DATA_DIR: dataDir }).then(
      () => new Error('the second coordinator started'),
      (error: unknown) => error as Error,
    )) as Error;
    const elapsedMs = Date.now() - startedMs;

    const [head, ...output] = refusal.message.split('\n');
    expect(head).toBe('the coordinator exited with 1 before listening:');
    const lines = output.join('\n').trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^tabreduce: the coordinator could not start: .*tabreduce\.db is in use by another tabreduce coordinator/)]);
    // The refusal used to wait out a 5 s busy timeout (7 s in all); what is left is Node and tsx starting.
    expect(elapsedMs).toBeLessThan(5000);
    expect((await api(first.url, '/api/health')).status).toBe(200);
  });
});
