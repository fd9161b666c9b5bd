/**
 * Uploads that no job uses expire after the upload retention: in a coordinator whose
 * clock the test moves (so nothing waits on the wall clock: its sweeper is polled), and in
 * the real process, which sweeps at start what expired while it was down. When exactly an
 * upload expires is InputFiles.expire's, tested in input-files.test.ts.
 */
import { mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinatorProcess } from '../e2e/coordinator-process.ts';
import { api, testCoordinator } from '../testing/integration-rig.ts';
import type { Coordinator } from './coordinator.ts';

const WORD_COUNT = 'export function* map(file, text) { yield [text, 1]; }\nexport function reduce(key, values) { return values.length; }';

async function upload(url: string, name: string, text: string): Promise<string> {
  const { status, body } = await api<{ id: string }>(url, `/api/files?name=${name}`, { method: 'POST', body: text, headers: { 'content-type': 'text/plain' } });
  expect(status).toBe(201);
  return body.id;
}

describe('upload retention', () => {
  const dirs: string[] = [];
  let coordinator: Coordinator | undefined;
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-retention-test-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await coordinator?.close();
    coordinator = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('deletes an upload no job claimed once it is older than the retention, and keeps one a job holds', async () => {
    const dir = dataDir();
    let clockMs = Date.now();
    const retentionMs = 5_000;
    coordinator = await testCoordinator({ store: 'sqlite', dataDir: dir, uploadRetentionMs: retentionMs, now: () => clockMs });
    const unused = await upload(coordinator.url, 'unused.txt', 'a b\n');
    const used = await upload(coordinator.url, 'used.txt', 'c d\n');
    const job = await api<{ id: string }>(coordinator.url, '/api/jobs', { method: 'POST', json: { name: 'keeps', source: WORD_COUNT, input: { kind: 'files', files: [{ fileId: used }] } } });
    expect(job.status).toBe(201);
    const uploads = () => readdirSync(path.join(dir, 'files', 'uploads'));
    expect(uploads().some((entry) => entry.startsWith(unused))).toBe(true);

    clockMs += 2 * retentionMs;
    await expect.poll(() => uploads().some((entry) => entry.startsWith(unused)), { timeout: 20_000 }).toBe(false);
    expect((await api(coordinator.url, `/api/files/${unused}`, { method: 'DELETE' })).status).toBe(404);
    expect(readdirSync(path.join(dir, 'files', 'jobs', job.body.id))).toHaveLength(1);
    expect((await api(coordinator.url, `/api/files/${used}`, { method: 'DELETE' })).status).toBe(409);
  });

  it('keeps uploads forever with a retention of 0', async () => {
    const dir = dataDir();
    let clockMs = Date.now();
    coordinator = await testCoordinator({ store: 'sqlite', dataDir: dir, uploadRetentionMs: 0, now: () => clockMs });
    const id = await upload(coordinator.url, 'kept.txt', 'a\n');
    clockMs += 365 * 24 * 3_600_000;
    expect((await api(coordinator.url, `/api/files/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('in the real process, deletes at start an upload that expired while it was down', async () => {
    const dir = dataDir();
    const env = { TABREDUCE_DATA_DIR: dir, TABREDUCE_UPLOAD_RETENTION_HOURS: '1', TABREDUCE_STORE: '', TABREDUCE_TOKEN: '' };
    const first = await startCoordinatorProcess(env);
    const old = await upload(first.url, 'old.txt', 'a\n');
    const fresh = await upload(first.url, 'fresh.txt', 'b\n');
    await first.stop();
    const oldFile = readdirSync(path.join(dir, 'files', 'uploads')).find((entry) => entry.startsWith(old))!;
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(path.join(dir, 'files', 'uploads', oldFile), twoHoursAgo, twoHoursAgo);

    const second = await startCoordinatorProcess(env);
    try {
      expect((await api(second.url, `/api/files/${old}`, { method: 'DELETE' })).status).toBe(404);
      expect((await api(second.url, `/api/files/${fresh}`, { method: 'DELETE' })).status).toBe(200);
      expect(second.logRecords()).toContainEqual(expect.objectContaining({ uploadId: old, msg: expect.stringMatching(/^upload deleted/) }));
    } finally {
      await second.stop();
    }
  }, 60_000);
});
