import { describe, expect, test } from 'vitest';
import { unpackParts } from '../shared/byte-packing.ts';
import { importFromDataUrl } from '../node-volunteer/data-url-import.ts';
import { createJobWorkerApi } from './job-worker-api.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

const WORD_COUNT = `
export function* map(key, value) { for (const w of value.split(/\\s+/)) if (w) yield [w, 1]; }
export function reduce(key, values) { return values.reduce((a, b) => a + b, 0); }
`;

describe('job worker API', () => {
  test('loads a module once per digest and runs map and reduce', async () => {
    let imports = 0;
    const api = createJobWorkerApi((source) => {
      imports++;
      return importFromDataUrl(source);
    });
    expect(await api.load('d1', WORD_COUNT)).toEqual({ ok: true, value: null });
    expect(await api.load('d1', WORD_COUNT)).toEqual({ ok: true, value: null });
    expect(imports).toBe(1);

    const mapped = await api.runMap('d1', { format: 'json', bytes: encode({ kind: 'records', records: [['f', 'a b a']] }) }, 2);
    if (!mapped.ok) throw new Error(mapped.error.message);
    const blocks = unpackParts(mapped.value.blocks, mapped.value.offsets).map(decode);
    expect(blocks).toHaveLength(2);
    expect(blocks.flat()).toEqual(expect.arrayContaining([['a', [1, 1]], ['b', [1]]]));
    const reduced = await api.runReduce('d1', encode([[['a', [1, 1]]], [['a', [3]]]]));
    expect(reduced.ok && decode(reduced.value)).toEqual([['a', 5]]);
  });

  test('never rejects: failures of set-up, map and reduce come back as data', async () => {
    const api = createJobWorkerApi(importFromDataUrl);
    const setupThrows = `throw new RangeError('no set-up for you'); export function map() {} export function reduce() {}`;
    const load = await api.load('bad', setupThrows);
    expect(load).toMatchObject({ ok: false, error: { name: 'RangeError', message: 'no set-up for you' } });

    const notLoaded = await api.runMap('missing', { format: 'json', bytes: encode({ kind: 'range', from: 0, to: 1 }) }, 1);
    expect(notLoaded).toMatchObject({ ok: false, error: { message: expect.stringContaining('no job module with digest missing') } });

    const noReduce = await api.load('half', 'export function* map() {}');
    expect(noReduce).toMatchObject({ ok: false, error: { name: 'TypeError', message: expect.stringContaining('`reduce`') } });

    const throwing = `export function* map() { throw new Error('map broke'); } export function reduce() { throw new Error('reduce broke'); }`;
    expect(await api.load('t', throwing)).toEqual({ ok: true, value: null });
    const map = await api.runMap('t', { format: 'json', bytes: encode({ kind: 'range', from: 0, to: 1 }) }, 2);
    expect(map).toMatchObject({ ok: false, error: { name: 'Error', message: 'map broke (in map of record #0 (key 0))' } });
    const reduce = await api.runReduce('t', encode([[['k', [1]]]]));
    expect(reduce).toMatchObject({ ok: false, error: { message: 'reduce broke (in reduce of key "k")' } });
  });

  test('a failed load is retried by the next load', async () => {
    let attempts = 0;
    const api = createJobWorkerApi(async (source) => {
      attempts++;
      if (attempts === 1) throw new Error('flaky');
      return importFromDataUrl(source);
    });
    expect((await api.load('d', WORD_COUNT)).ok).toBe(false);
    expect((await api.load('d', WORD_COUNT)).ok).toBe(true);
    expect(attempts).toBe(2);
  });
});
