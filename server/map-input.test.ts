/** The stored form of a map task's input: encoded straight from the task, it is what encoding its payload gives. */
import { describe, expect, it } from 'vitest';
import type { MapTaskInput } from '../shared/job.ts';
import { toMapInputPayload } from '../shared/map-input-payload.ts';
import { decodeMapInput, encodeInlineMapInput, encodeMapInput, rangeMapInput, rangeMapInputSource } from './map-input.ts';

describe('encodeInlineMapInput', () => {
  it.each<[string, MapTaskInput]>([
    ['ASCII text', { kind: 'text', key: 'a.txt', text: 'to be or not to be\n' }],
    ['text beyond ASCII', { kind: 'text', key: 'é😀.txt', text: 'naïve café 😀 日本\n' }],
    ['text with a lone surrogate', { kind: 'text', key: 'k', text: `a\ud800b\udc00c` }],
    ['empty text', { kind: 'text', key: '', text: '' }],
    ['records', { kind: 'records', records: [['é', 1], [[1, 'x'], { v: '😀\ud800' }]] }],
    ['a range', { kind: 'range', from: -5, to: 1e9 }],
  ])('stores %s exactly as encoding its payload does', (_name, task) => {
    const stored = encodeInlineMapInput(task);
    expect(stored).toEqual(encodeMapInput(toMapInputPayload(task)));
    expect(decodeMapInput(stored).format).toBe(task.kind === 'text' ? 'text' : 'json');
  });
});

describe('rangeMapInputSource', () => {
  it('is what the stored form of a range task decodes to, the last short task included', () => {
    const range = { from: -5, to: 18, recordsPerTask: 4 };
    for (const index of [0, 1, 5]) expect(rangeMapInputSource(range, index)).toEqual(decodeMapInput(rangeMapInput(range, index)));
  });
});
