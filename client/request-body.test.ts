/** The streamed request body is exactly JSON.stringify of the submission, however the files cut. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidJobError } from './errors.ts';
import { submissionBody } from './request-body.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-body-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

const head = { name: 'job', source: 'export function map() {}', reducers: 3 };

describe('submissionBody', () => {
  it('streams text files as a texts input, escaping quotes, control characters and multi-byte text', async () => {
    // Characters of 2, 3 and 4 UTF-8 bytes across the 1 MiB read edges, and JSON's specials.
    const big = `${'a'.repeat(1024 * 1024 - 1)}é${'"\\\n\t\u0001'.repeat(1000)}${'b'.repeat(1024 * 1024 - 6000)}€😀 end\n`;
    const files = [write('big.txt', big), write('small.txt', 'to be or not\n'), write('empty.txt', '')];
    const progress: [number, number][] = [];
    const body = await submissionBody(head, { kind: 'paths', paths: files }, (sent, total) => progress.push([sent, total]));
    const expected = { ...head, input: { kind: 'texts', files: [{ name: files[0], text: big }, { name: files[1], text: 'to be or not\n' }, { name: files[2], text: '' }] } };
    const sent = await text(body.stream);
    expect(sent).toBe(JSON.stringify(expected));
    const total = Buffer.byteLength(big) + 13;
    expect(body.totalBytes).toBe(total);
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.map(([bytes]) => bytes)).toEqual([...progress.map(([bytes]) => bytes)].sort((a, b) => a - b));
  });

  it('drops a byte-order mark, as a browser reading the file would', async () => {
    const file = write('bom.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('hello\n')]));
    const sent = JSON.parse(await text((await submissionBody(head, { kind: 'paths', paths: [file] })).stream));
    expect(sent.input.files[0].text).toBe('hello\n');
  });

  it('sends any other input as it is', async () => {
    const input = { kind: 'range', from: 0, to: 10 } as const;
    const body = await submissionBody(head, input);
    expect(await text(body.stream)).toBe(JSON.stringify({ ...head, input }));
    expect(body.totalBytes).toBe(0);
  });

  it.each([
    ['a missing file', () => path.join(dir, 'nope.txt'), (file: string) => `cannot read the input file ${file}: no such file`],
    ['a directory', () => (mkdirSync(path.join(dir, 'sub'), { recursive: true }), path.join(dir, 'sub')), (file: string) => `the input ${file} is a directory: give text files`],
  ])('refuses %s before sending anything', async (_name, makePath, message) => {
    const file = makePath();
    const attempt = submissionBody(head, { kind: 'paths', paths: [write('fine.txt', 'x\n'), file] });
    await expect(attempt).rejects.toThrow(InvalidJobError);
    await expect(attempt).rejects.toThrow(message(file));
  });
});
