/**
 * `submit` from the Node client against a real coordinator with real volunteers: jobs as
 * functions and as module files, results, progress, and every way a job can go wrong.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator } from '../server/coordinator.ts';
import { startVolunteer, testCoordinator, waitFor, type TestVolunteer } from '../testing/integration-rig.ts';
import { ApiError, InvalidJobError, JobFailedError, submit, type SubmitProgress } from 'tabreduce/client';

const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-client-test-'));
const write = (name: string, content: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
};

describe('submit, with two volunteers', () => {
  let coordinator: Coordinator;
  let volunteers: TestVolunteer[];
  beforeAll(async () => {
    coordinator = await testCoordinator();
    volunteers = [startVolunteer(coordinator.url), startVolunteer(coordinator.url)];
    await waitFor('two volunteers', async () => (await coordinator.scheduler.cluster()).volunteers === 2);
  });
  afterAll(async () => {
    for (const volunteer of volunteers) volunteer.stop();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job given as functions and resolves with the result; progress goes from upload to success', async () => {
    const progress: SubmitProgress[] = [];
    const counts = await submit(
      {
        *map(file: string, text: string) {
          for (const [word] of text.matchAll(/\p{L}+/gu)) yield [word.toLowerCase(), 1];
        },
        reduce: (word: string, ones: number[]) => ones.reduce((a, b) => a + b, 0),
        input: { kind: 'texts', files: [{ name: 'a.txt', text: 'To be, or not to be\n' }] },
        name: 'to be',
      },
      { url: coordinator.url, onProgress: (update) => progress.push(update), reducers: 2, pollMs: 20 },
    );
    expect(counts).toEqual([['be', 2], ['not', 1], ['or', 1], ['to', 2]]);
    expect(progress[0]).toEqual({ phase: 'uploading', sentBytes: 0, totalBytes: 0 });
    expect(progress.at(-1)).toMatchObject({ phase: 'succeeded', job: { name: 'to be', reducers: 2 } });
  });

  it('runs a module file over files streamed from disk, keyed by their paths', async () => {
    const a = write('a.txt', 'Volunteers open tabs.\n');
    const b = write('b.txt', 'Tabs run map tasks.\n');
    const index = await submit(
      { module: new URL('../examples/inverted-index.js', import.meta.url), input: { kind: 'paths', paths: [a, b] } },
      { url: coordinator.url },
    );
    expect(new Map(index)).toEqual(
      new Map([
        ['map', [b]],
        ['open', [a]],
        ['run', [b]],
        ['tabs', [a, b]],
        ['tasks', [b]],
        ['volunteers', [a]],
      ]),
    );
    expect((await coordinator.scheduler.listJobs())[0]!.name).toBe('inverted-index');
  });

  it('uploads several files at once, keeping their order in the job, and counts every byte sent', async () => {
    const paths = Array.from({ length: 7 }, (_, i) => write(`many-${i}.txt`, `shared word ${i}\n`.repeat(2000 + 500 * i)));
    const progress: SubmitProgress[] = [];
    const index = await submit(
      { module: new URL('../examples/inverted-index.js', import.meta.url), input: { kind: 'paths', paths } },
      { url: coordinator.url, onProgress: (update) => progress.push(update), pollMs: 20 },
    );
    expect(new Map(index).get('shared')).toEqual(paths);
    const sent = progress.filter((update) => update.phase === 'uploading').map((update) => (update as { sentBytes: number }).sentBytes);
    const total = paths.reduce((sum, _, i) => sum + `shared word ${i}\n`.length * (2000 + 500 * i), 0);
    expect(sent.at(-1)).toBe(total);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it("rejects a failed job with the task's error: name, message, stack and task id", async () => {
    const failure = await submit(
      {
        *map(key: number) {
          if (key === 3) throw new TypeError(`record ${key} is cursed`);
          yield ['n', key];
        },
        reduce: (key: string, values: number[]) => values.length,
        input: { kind: 'range', from: 0, to: 5 },
      },
      { url: coordinator.url, maxAttempts: 1 },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobFailedError);
    const { jobId, state, taskId, taskError, message, stack } = failure as JobFailedError;
    expect(state).toBe('failed');
    expect(taskId).toMatch(new RegExp(`^${jobId}`));
    expect(taskError).toMatchObject({ name: 'TypeError', message: expect.stringContaining('record 3 is cursed') });
    expect(message).toMatch(new RegExp(`^job ${jobId} failed in task ${taskId}: TypeError: record 3 is cursed`));
    // The stack is the job code's, where it threw on the volunteer.
    expect(stack).toBe(taskError!.stack);
    expect(stack).toMatch(/at (Object\.)?map \(data:/);
  });

  it('says what to do when a function used a variable from around it', async () => {
    const threshold = 2;
    const failure = await submit(
      {
        *map(key: number) {
          if (key > threshold) yield ['big', 1];
        },
        reduce: (key: string, values: number[]) => values.length,
        input: { kind: 'range', from: 0, to: 5 },
      },
      { url: coordinator.url, maxAttempts: 1 },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect((failure as Error).message).toMatch(
      /ReferenceError: threshold is not defined.*\(functions are sent as source text and cannot use variables from around them: move them inside, or pass \{ module \}\)$/,
    );
  });

  it.each([
    ['a module that does not export reduce', () => ({ module: write('half.js', 'export function* map() {}\n'), input: { kind: 'range', from: 0, to: 1 } }), 'BAD_JOB_SOURCE', /half\.js: the job module must export `reduce`/],
    ['a module that is not there', () => ({ module: path.join(dir, 'gone.js'), input: { kind: 'range', from: 0, to: 1 } }), 'JOB_FILE', /cannot read the job module .*gone\.js: no such file/],
    ['an input file that is not there', () => ({ module: new URL('../examples/word-count.js', import.meta.url), input: { kind: 'paths', paths: [path.join(dir, 'gone.txt')] } }), 'INPUT_FILE', /cannot read the input file .*gone\.txt: no such file/],
  ] as const)('refuses %s before sending anything', async (_name, job, code, message) => {
    const jobsBefore = (await coordinator.scheduler.listJobs()).length;
    const failure = await submit(job() as Parameters<typeof submit>[0], { url: coordinator.url }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidJobError);
    expect(failure).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(await coordinator.scheduler.listJobs()).toHaveLength(jobsBefore);
  });

  it("passes on the coordinator's refusal as an ApiError", async () => {
    const failure = await submit({ module: new URL('../examples/word-count.js', import.meta.url), input: { kind: 'range', from: 5, to: 1 } }, { url: coordinator.url }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: expect.stringContaining('to > from') });
  });
});

describe('submit, without volunteers', () => {
  let coordinator: Coordinator;
  beforeAll(async () => {
    coordinator = await testCoordinator({ token: 'letmein' });
  });
  afterAll(async () => {
    await coordinator.close();
  });

  const job = { module: new URL('../examples/triangular-numbers.js', import.meta.url), input: { kind: 'range', from: 0, to: 10 } } as const;

  it('cancels the job on the coordinator when the caller aborts while waiting', async () => {
    const controller = new AbortController();
    let jobId: string | undefined;
    const pending = submit(job, {
      url: coordinator.url,
      token: 'letmein',
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.phase === 'queued') {
          jobId = progress.jobId;
          controller.abort();
        }
      },
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect((await coordinator.scheduler.getJob(jobId!))?.state).toBe('cancelled');
  });

  it('rejects a wrong token with ApiError 401, and an unreachable coordinator with ApiError 0', async () => {
    await expect(submit(job, { url: coordinator.url, token: 'guess' })).rejects.toMatchObject({ name: 'ApiError', status: 401, code: 'UNAUTHORIZED' });
    // A port the system just handed out and took back: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    await expect(submit(job, { url: `http://127.0.0.1:${port}`, token: 'letmein' })).rejects.toMatchObject({ name: 'ApiError', status: 0, code: 'NETWORK' });
  });
});
