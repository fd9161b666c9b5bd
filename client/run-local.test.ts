/** `runLocal` from the Node client: jobs as functions and modules, its progress, and its refusals. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidJobError, LocalTaskError, runLocal, type SubmitProgress } from 'tabreduce/client';
import { REPO_ROOT } from '../testing/cli-process.ts';

describe('runLocal', () => {
  it('runs a job given as functions on worker threads, reporting each task as submit reports a job', async () => {
    const seen: SubmitProgress[] = [];
    const result = await runLocal(
      {
        *map(_key: unknown, value: number) {
          yield [value % 3, value];
        },
        reduce(_key: unknown, values: number[]) {
          return values.reduce((a, b) => a + b, 0);
        },
        input: { kind: 'range', from: 0, to: 30 },
      },
      { threads: 2, recordsPerTask: 4, reducers: 2, onProgress: (progress) => seen.push(progress) },
    );
    // 0+3+...+27, 1+4+...+28, 2+5+...+29.
    expect(result).toEqual([[0, 135], [1, 145], [2, 155]]);
    expect(seen.map((progress) => progress.phase)).toEqual(['mapping', ...Array(7).fill('mapping'), 'reducing', 'reducing', 'reducing', 'succeeded']);
    const last = seen.at(-1)!;
    expect(last.phase !== 'uploading' && last.job.progress).toEqual({ map: { done: 8, total: 8 }, reduce: { done: 2, total: 2 } });
  });

  it('runs a module file on text files, keyed by the paths given', async () => {
    const result = await runLocal({ module: path.join(REPO_ROOT, 'examples', 'inverted-index.js'), input: { kind: 'paths', paths: ['README.md', 'package.json'] } }, { threads: 1 });
    expect(result).toContainEqual(['tabreduce', ['README.md', 'package.json']]);
  });

  it('rejects with the failing task and its job code error, and refuses what needs a coordinator', async () => {
    const failing = runLocal({ map: () => { throw new TypeError('no map here'); }, reduce: () => 0, input: { kind: 'records', records: [['a', 1]] } }, { threads: 1 });
    await expect(failing).rejects.toBeInstanceOf(LocalTaskError);
    await expect(failing).rejects.toMatchObject({ taskId: 'local/map/0', taskError: { name: 'TypeError' } });
    await expect(runLocal({ module: path.join(REPO_ROOT, 'examples', 'word-count.js'), input: { kind: 'job', id: 'job-x' } })).rejects.toThrow(InvalidJobError);
    await expect(runLocal({ module: path.join(REPO_ROOT, 'examples', 'word-count.js'), input: { kind: 'paths', paths: ['no-such-file.txt'] } })).rejects.toThrow(/cannot read the input file no-such-file\.txt/);
  });
});
