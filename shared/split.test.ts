import { describe, expect, it } from 'vitest';
import { inputBytes, splitAtLines, splitInput, utf8Length } from './split.ts';

describe('utf8Length', () => {
  it.each([['', 0], ['abc', 3], ['é', 2], ['€', 3], ['😀', 4], ['a\né😀', 8]])('%j is %i bytes', (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
    expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('splitAtLines', () => {
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)} é😀\n`);
  const text = lines.join('');

  it.each([16, 100, 1024, 4096, 1_000_000])('never cuts a line, and loses nothing (splitBytes %i)', (splitBytes) => {
    const pieces = splitAtLines(text, splitBytes);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) {
      expect(piece.endsWith('\n')).toBe(true);
      // A piece exceeds the target only when it is a single line longer than it.
      if (utf8Length(piece) > splitBytes) expect(piece.indexOf('\n')).toBe(piece.length - 1);
    }
  });

  it('keeps pieces near the target size', () => {
    const pieces = splitAtLines(text, 4096);
    for (const piece of pieces.slice(0, -1)) expect(utf8Length(piece)).toBeGreaterThan(4096 - 80);
  });

  it('keeps a text without a final newline whole at the end', () => {
    expect(splitAtLines('a\nb\nlast', 2)).toEqual(['a\n', 'b\n', 'last']);
  });

  it('gives nothing for an empty text', () => {
    expect(splitAtLines('', 10)).toEqual([]);
  });
});

describe('splitInput', () => {
  it('makes one task per text piece, keyed by file name', () => {
    const tasks = splitInput({ kind: 'texts', files: [{ name: 'a.txt', text: 'x\n'.repeat(1000) }, { name: 'b.txt', text: '' }] }, { splitBytes: 1024 });
    expect(tasks).toHaveLength(2);
    expect(tasks[0]).toEqual({ kind: 'text', key: 'a.txt', text: 'x\n'.repeat(512) });
  });

  it('chunks records by recordsPerTask', () => {
    const records: [number, number][] = Array.from({ length: 10 }, (_, i) => [i, i * i]);
    const tasks = splitInput({ kind: 'records', records }, { splitBytes: 1024, recordsPerTask: 4 });
    expect(tasks.map((task) => (task.kind === 'records' ? task.records.length : 0))).toEqual([4, 4, 2]);
  });

  it('chunks a range without materialising it', () => {
    expect(splitInput({ kind: 'range', from: 0, to: 10 }, { splitBytes: 1024, recordsPerTask: 4 })).toEqual([
      { kind: 'range', from: 0, to: 4 },
      { kind: 'range', from: 4, to: 8 },
      { kind: 'range', from: 8, to: 10 },
    ]);
  });
});

describe('inputBytes', () => {
  it.each([0, 1, 2, 9_999, 10_000, 10_001, 25_000])('counts %i records as their JSON would be, without making it whole', (count) => {
    const records: [string, unknown][] = Array.from({ length: count }, (_, i) => [`k${i}é`, i % 3 === 0 ? { v: [i, '😀'] } : i]);
    expect(inputBytes({ kind: 'records', records })).toBe(new TextEncoder().encode(JSON.stringify(records)).length);
  });
});
