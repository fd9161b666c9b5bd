/**
 * A full disk is an error, not a crash. A coordinator process whose data directory sits
 * on a 20 MiB tmpfs that fills up stays up; refuses new jobs and uploads with a 507 that
 * names the directory and what is free; runs to the end a job whose writes still fit;
 * answers a commit the disk refuses with a 507, keeping nothing of it; starts again on the
 * full disk; and goes on once space returns.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import type { HttpErrorBody } from '../shared/errors.ts';
import type { JobSummary, KeyValue } from '../shared/job.ts';
import { api, startVolunteer, waitFor, waitForJobEnd, type TestVolunteer } from './integration-rig.ts';
import { holdOneTask, killHard, type HeldTask } from './process-rig.ts';

const MiB = 1024 * 1024;
const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');
const TEXT = 'to be or not to be\n';
const COUNTS: KeyValue[] = [['be', 2], ['not', 1], ['or', 1], ['to', 2]];
const jobOf = (text: string) => ({ name: 'disk', source: WORD_COUNT, input: { kind: 'texts', files: [{ name: 'words.txt', text }] }, reducers: 1 });

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('testing/full-disk.test.ts is skipped: it mounts a 20 MiB tmpfs to fill, which needs root');

/** Fills the filesystem that holds `directory` with 1 MiB files until a write fails with ENOSPC; answers the files. */
function fill(directory: string): string[] {
  const chunk = Buffer.alloc(MiB, 0x61);
  const files: string[] = [];
  for (;;) {
    const file = path.join(directory, `ballast-${files.length}`);
    files.push(file);
    const fd = openSync(file, 'w');
    try {
      // A short write fills the last pages; the next write is the one that fails.
      writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return files;
      throw error;
    } finally {
      closeSync(fd);
    }
  }
}

/** A body sent without Content-Length, so that nothing is refused from its declared size. */
const chunked = (bytes: Uint8Array): RequestInit =>
  ({
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    }),
    duplex: 'half',
  }) as RequestInit;

describe.skipIf(!isRoot)('a coordinator whose disk fills up (a 20 MiB tmpfs; needs root)', () => {
  let mountPoint: string;
  let dataDir: string;
  let coordinator: CoordinatorProcess | undefined;
  let volunteer: TestVolunteer | undefined;
  let held: HeldTask | undefined;
  let ballast: string[] = [];
  beforeAll(() => {
    mountPoint = mkdtempSync(path.join(tmpdir(), 'tabreduce-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint]);
    dataDir = path.join(mountPoint, 'data');
  });
  afterEach(async () => {
    volunteer?.stop();
    volunteer = undefined;
    held?.socket.disconnect();
    held = undefined;
    await coordinator?.stop();
    coordinator = undefined;
    for (const file of ballast.splice(0)) rmSync(file, { force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(() => {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  const start = async (minFreeBytes: number) =>
    (coordinator = await startCoordinatorProcess({ TABREDUCE_DATA_DIR: dataDir, TABREDUCE_MIN_FREE_BYTES: String(minFreeBytes) }));
  const submit = async (url: string, text = TEXT) => {
    const { status, body } = await api<{ id: string }>(url, '/api/jobs', { method: 'POST', json: jobOf(text) });
    expect(status, JSON.stringify(body)).toBe(201);
    return body.id;
  };
  const expectRefused = (answer: { status: number; body: unknown }, wording: RegExp) => {
    expect(answer.status).toBe(507);
    const { code, error } = answer.body as HttpErrorBody;
    expect(code).toBe('INSUFFICIENT_STORAGE');
    expect(error).toContain(dataDir);
    expect(error).toMatch(/\d+ bytes\)? free/);
    expect(error).toMatch(wording);
  };
  const upload = async (url: string, init: RequestInit) => {
    const response = await fetch(`${url}/api/files?name=words.txt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, ...init });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('refuses new jobs and uploads below its floor, finishes the job whose writes fit, and takes new work once space returns', async () => {
    const { url } = await start(4 * MiB);
    const running = await submit(url);
    ballast = fill(mountPoint);
    // 2 MiB back: under the 4 MiB floor, yet room for the running job's few writes.
    for (const file of ballast.splice(0, 2)) rmSync(file);

    expectRefused(await api(url, '/api/jobs', { method: 'POST', json: jobOf(TEXT) }), /TABREDUCE_MIN_FREE_BYTES/);
    expectRefused(await upload(url, { body: TEXT }), /refuses the upload/);

    volunteer = startVolunteer(url);
    expect(await waitForJobEnd(url, running)).toMatchObject({ state: 'succeeded' });
    expect((await api<KeyValue[]>(url, `/api/jobs/${running}/result`)).body).toEqual(COUNTS);

    for (const file of ballast.splice(0)) rmSync(file);
    const next = await submit(url);
    expect(await waitForJobEnd(url, next)).toMatchObject({ state: 'succeeded' });
    expect((await upload(url, { body: TEXT })).status).toBe(201);
    expect(coordinator!.child.exitCode).toBeNull();
  });

  it('answers a write the full disk refuses with a 507 and keeps none of it, starts again on the full disk, and goes on once space returns', async () => {
    let { url } = await start(0);
    // Leased before the disk fills: the lease is not stored (it would not outlive a restart), the job's start is.
    const leased = await submit(url);
    held = await holdOneTask(url);
    // A read commits what the lease wrote.
    expect((await api<JobSummary>(url, `/api/jobs/${leased}`)).body.state).toBe('mapping');
    ballast = fill(mountPoint);

    // Sent without a length, these pass the floor check and fail where the disk refuses them: the commit, the upload's file.
    const big = new TextEncoder().encode(JSON.stringify(jobOf('word '.repeat(200_000))));
    expectRefused(await api(url, '/api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, ...chunked(big) }), /ran out of space/);
    expectRefused(await upload(url, chunked(new Uint8Array(MiB).fill(0x61))), /ran out of space/);
    expect(readdirSync(path.join(dataDir, 'files', 'uploads'))).toEqual([]);
    expect((await api<JobSummary[]>(url, '/api/jobs')).body.map((job) => job.id)).toEqual([leased]);
    expect((await api(url, '/api/health')).status).toBe(200);

    await killHard(coordinator!);
    held.socket.disconnect();
    ({ url } = await start(0));
    // Started on the full disk, it hands the task out again; the failure reported for it is a write the disk refuses.
    held = await holdOneTask(url);
    const receipt = await held.socket.emitWithAck('task:fail', { taskId: held.assignment.taskId, leaseToken: held.assignment.leaseToken, error: { name: 'E', message: 'no' } });
    expect(receipt).toMatchObject({ ok: false });
    await waitFor('the restarted coordinator to fail a commit', () => /a commit failed/.test(coordinator!.output()));
    expect((await api(url, '/api/health')).status).toBe(200);
    expect((await api<JobSummary>(url, `/api/jobs/${leased}`)).body.state).toBe('mapping');

    for (const file of ballast.splice(0)) rmSync(file);
    volunteer = startVolunteer(url);
    expect(await waitForJobEnd(url, leased)).toMatchObject({ state: 'succeeded' });
    expect((await api<KeyValue[]>(url, `/api/jobs/${leased}/result`)).body).toEqual(COUNTS);
    expect(coordinator!.child.exitCode).toBeNull();
  });
});
