import { describe, expect, test } from 'vitest';
import type { MapAssignment, MapInputPayload, ReduceAssignment, TaskAssignment } from './protocol.ts';
import { packReports, packTaskBatch, unpackReports, unpackTaskBatch, type TaskEnd } from './task-batch.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: ArrayBuffer | Uint8Array) => new TextDecoder().decode(data);

const base = { jobId: 'j', leaseToken: 'l', sourceDigest: 'd', timeoutMs: 1000 };
const map = (index: number, input: MapAssignment['input']): MapAssignment => ({ ...base, kind: 'map', taskId: `j/map/${index}`, index, partitions: 2, input });
const reduce = (index: number, blocks: string): ReduceAssignment => ({ ...base, kind: 'reduce', taskId: `j/reduce/${index}`, index, partition: index, blocks: bytes(blocks) });

describe('task batches', () => {
  test('assignments survive the trip, each binary part in an ArrayBuffer of its own', () => {
    const tasks: TaskAssignment[] = [
      map(0, { format: 'json', bytes: bytes('{"kind":"range","from":0,"to":1}') }),
      map(1, { format: 'text', key: 'moby.txt', bytes: bytes('Call me Ishmael.') }),
      reduce(0, '[[["a",[1]]]]'),
      map(2, { format: 'json', bytes: new Uint8Array(0) }),
    ];
    const batch = packTaskBatch(tasks);
    expect(batch.data.byteLength).toBe(32 + 16 + 13);
    const back = unpackTaskBatch(batch);
    expect(back.map((task) => task.taskId)).toEqual(tasks.map((task) => task.taskId));
    const parts = back.map((task) => (task.kind === 'map' ? (task.input as MapInputPayload).bytes : task.blocks));
    expect(parts.map((part) => text(part))).toEqual(['{"kind":"range","from":0,"to":1}', 'Call me Ishmael.', '[[["a",[1]]]]', '']);
    // Own buffers, so each can be transferred to a worker without detaching the others.
    for (const part of parts) expect(part).toBeInstanceOf(ArrayBuffer);
    expect(new Set(parts).size).toBe(parts.length);
    expect(back[1]).toMatchObject({ input: { format: 'text', key: 'moby.txt' } });
  });

  test('a Node Buffer from a shared pool unpacks to copies, not views of the pool', () => {
    const batch = packTaskBatch([reduce(0, '[1]'), reduce(1, '[22]')]);
    const pooled = Buffer.from(batch.data as Uint8Array);
    const back = unpackTaskBatch({ ...batch, data: pooled });
    expect(back.map((task) => text((task as ReduceAssignment).blocks))).toEqual(['[1]', '[22]']);
    expect((back[0] as ReduceAssignment).blocks.byteLength).toBe(3);
  });

  test('a range outside the buffer is refused', () => {
    const batch = packTaskBatch([reduce(0, '[1]')]);
    expect(() => unpackTaskBatch({ tasks: [{ ...batch.tasks[0]!, blocks: [0, 99] } as never], data: batch.data })).toThrow(RangeError);
  });
});

describe('reports', () => {
  const ends: TaskEnd[] = [
    { taskId: 'a', leaseToken: 'la', output: { kind: 'map', blocks: bytes('[][["k",[1]]]'), offsets: [0, 2, 13] } },
    { taskId: 'b', leaseToken: 'lb', error: { name: 'TypeError', message: 'boom' } },
    { taskId: 'c', leaseToken: 'lc', output: { kind: 'reduce', pairs: bytes('[["k",1]]') } },
  ];

  test('ends survive the trip: outputs as views of the one buffer, errors as they were', () => {
    const report = packReports(ends);
    expect(report.results[0]).toEqual({ taskId: 'a', leaseToken: 'la', output: { kind: 'map', offsets: [0, 2, 13] } });
    expect(report.results[2]).toEqual({ taskId: 'c', leaseToken: 'lc', output: { kind: 'reduce', at: [13, 22] } });
    const back = unpackReports(report);
    expect(back.map((entry) => entry.problem)).toEqual([undefined, undefined, undefined]);
    const [a, b, c] = back.map((entry) => entry.end!);
    expect('output' in a! && a.output.kind === 'map' && [text(a.output.blocks), a.output.offsets]).toEqual(['[][["k",[1]]]', [0, 2, 13]]);
    expect(b).toEqual(ends[1]);
    expect('output' in c! && c.output.kind === 'reduce' && text(c.output.pairs)).toBe('[["k",1]]');
  });

  test('a result whose bytes lie outside the buffer is a problem of its own; the others stand', () => {
    const report = packReports(ends);
    report.results[0] = { taskId: 'a', leaseToken: 'la', output: { kind: 'map', offsets: [20, 40] } };
    report.results[2] = { taskId: 'c', leaseToken: 'lc', output: { kind: 'reduce', at: [5, 2] } };
    const back = unpackReports(report);
    expect(back[0]).toMatchObject({ taskId: 'a', problem: expect.stringContaining('outside') });
    expect(back[1]!.end).toEqual(ends[1]);
    expect(back[2]).toMatchObject({ taskId: 'c', problem: expect.stringContaining('outside') });
  });
});
