import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputFiles, readSlice, sliceAtLines } from './input-files.ts';

describe('input files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-files-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'é'.repeat(i % 41)}\n`).join('');

  it.each([64, 1000, 4096, 100_000, 10_000_000])('slices a file at line ends, losing nothing (splitBytes %i)', async (splitBytes) => {
    const file = path.join(dir, 'text');
    writeFileSync(file, lines);
    const slices = sliceAtLines(file, splitBytes);
    const pieces = await Promise.all(slices.map(async (slice) => Buffer.from(await readSlice(file, slice)).toString('utf8')));
    expect(pieces.join('')).toBe(lines);
    for (const piece of pieces) {
      expect(piece.endsWith('\n')).toBe(true);
      if (Buffer.byteLength(piece) > splitBytes) expect(piece.indexOf('\n')).toBe(piece.length - 1);
    }
  });

  it('keeps a last line without a newline, and a line longer than the split whole', async () => {
    const file = path.join(dir, 'text');
    writeFileSync(file, `short\n${'x'.repeat(200_000)}\nend`);
    const pieces = await Promise.all(sliceAtLines(file, 100).map(async (slice) => Buffer.from(await readSlice(file, slice)).toString()));
    expect(pieces).toEqual(['short\n', `${'x'.repeat(200_000)}\n`, 'end']);
  });

  it('streams an upload to disk, then hands it to one job only', async () => {
    const files = new InputFiles(dir);
    const upload = await files.save('corpus é.txt', Readable.from([Buffer.from('a\n'), Buffer.from('b\n')]), 1000);
    expect(upload).toMatchObject({ name: 'corpus é.txt', bytes: 4 });
    expect(files.exists(upload.id)).toBe(true);
    const claimed = files.claim(upload.id, 'job-1', 0);
    expect(claimed).toMatchObject({ name: 'corpus é.txt', bytes: 4 });
    expect(files.exists(upload.id)).toBe(false);
    expect(() => files.claim(upload.id, 'job-2', 0)).toThrow(/no uploaded file/);
    files.release('job-1');
  });

  it('expires an unclaimed upload only once it is older than the retention, and never a claimed one', async () => {
    const files = new InputFiles(dir);
    const unused = await files.save('unused', Readable.from([Buffer.from('a\n')]), 1000);
    const used = await files.save('used', Readable.from([Buffer.from('b\n')]), 1000);
    files.claim(used.id, 'job-1', 0);
    const arrivedMs = Date.now();
    expect(files.expire(arrivedMs + 30_000, 60_000)).toEqual([]);
    expect(files.exists(unused.id)).toBe(true);
    expect(files.expire(arrivedMs + 120_000, 60_000)).toEqual([unused.id]);
    expect(files.exists(unused.id)).toBe(false);
    expect(() => files.delete(used.id)).toThrow(/input of job job-1/);
    files.release('job-1');
    expect(() => files.delete(used.id)).toThrow(/no upload/);
  });

  it('refuses an upload past the size limit and keeps nothing of it', async () => {
    const files = new InputFiles(dir);
    await expect(files.save('big', Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), 1000)).rejects.toThrow(/limit of 1000 bytes/);
    expect(new InputFiles(dir)).toBeDefined();
  });
});
