import { describe, expect, test } from 'vitest';
import { compareKeys, type Key } from '../shared/keys.ts';
import type { KeyValue } from '../shared/job.ts';
import { chunkResult, mergeReduceOutputs, RESULT_CHUNK_BYTES, resultEntries, resultJsonParts } from './result-data.ts';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const joined = async (parts: AsyncIterable<Uint8Array>) => {
  const all: Uint8Array[] = [];
  for await (const part of parts) all.push(part);
  return JSON.parse(Buffer.concat(all).toString('utf8')) as unknown;
};
const sorted = (pairs: KeyValue[]) => [...pairs].sort((x, y) => compareKeys(x[0], y[0]));

describe('mergeReduceOutputs', () => {
  test('merges sorted partitions into one sorted result', () => {
    const chunks = mergeReduceOutputs([encode([['b', 1]]), encode([['a', 2], ['c', 3]])]);
    expect([...resultEntries(chunks)]).toEqual([['a', 2], ['b', 1], ['c', 3]]);
  });

  test('merges many partitions of mixed key types, empty ones included, as a sort would', () => {
    const keys: Key[] = [false, true, -3, 0, 2.5, 10, '', 'a', 'ab', 'é', ['t', 1], ['t', 2], [1]];
    const partitions: KeyValue[][] = Array.from({ length: 5 }, () => []);
    keys.forEach((key, i) => partitions[(i * 7) % 5]!.push([key, i]));
    const outputs = partitions.map((pairs) => encode(sorted(pairs)));
    outputs.push(encode([]));
    expect([...resultEntries(mergeReduceOutputs(outputs))]).toEqual(sorted(partitions.flat()));
  });

  test('takes a single partition as the result without parsing it', () => {
    const only = encode([['a', 1]]);
    expect(mergeReduceOutputs([only])[0]).toBe(only);
  });

  test('cuts a large result into chunks of about RESULT_CHUNK_BYTES, nothing lost', () => {
    const pairs: KeyValue[] = Array.from({ length: 12_000 }, (_, i) => [`k${String(i).padStart(6, '0')}`, 'x'.repeat(200)]);
    const chunks = mergeReduceOutputs([encode(pairs.filter((_, i) => i % 2 === 0)), encode(pairs.filter((_, i) => i % 2 === 1))]);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.byteLength).toBeGreaterThanOrEqual(RESULT_CHUNK_BYTES);
    expect([...resultEntries(chunks)]).toEqual(pairs);
  });
});

describe('resultJsonParts', () => {
  test('joins the chunks into one JSON array without parsing them', async () => {
    const pairs: KeyValue[] = Array.from({ length: 9000 }, (_, i) => [i, { text: 'y'.repeat(300) }]);
    const chunks = chunkResult(pairs);
    expect(chunks.length).toBeGreaterThan(1);
    expect(await joined(resultJsonParts(chunks))).toEqual(pairs);
  });

  test('an empty result is an empty array, and empty chunks are skipped', async () => {
    expect(await joined(resultJsonParts(chunkResult([])))).toEqual([]);
    expect(await joined(resultJsonParts([encode([]), encode([['a', 1]]), encode([]), encode([['b', 2]])]))).toEqual([['a', 1], ['b', 2]]);
  });
});
