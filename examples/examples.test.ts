/**
 * Every example module, run through the real task runtime (the code a tab's worker
 * runs) with several partition counts, must give its seed's exact answer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InlineJobInput, KeyValue } from '../shared/job.ts';
import { toMapInputPayload } from '../shared/map-input-payload.ts';
import { splitInput } from '../shared/split.ts';
import { runMapTask, runReduceTask, toJobModule, type JobModule } from '../runtime/task-runtime.ts';
import { compareKeys } from '../shared/keys.ts';
import { EXAMPLES, type ExampleInput } from './catalog.ts';
import { largestMove, pagerankReference, pagerankWeb, type PageState } from '../testing/pagerank-reference.ts';
import pyMapReduceStrings from './inputs/pymapreduce-strings.json' with { type: 'json' };

async function loadExample(id: string): Promise<JobModule> {
  const source = readFileSync(new URL(`./${id}.js`, import.meta.url), 'utf8');
  return toJobModule(await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`));
}

/** Map every split, then reduce every partition, exactly as the coordinator sequences it. */
function runJob(module: JobModule, input: InlineJobInput, partitions: number, recordsPerTask?: number): KeyValue[] {
  const splits = splitInput(input, { splitBytes: 1024, ...(recordsPerTask ? { recordsPerTask } : {}) });
  const mapOutputs = splits.map((split) => runMapTask(module, toMapInputPayload(split), partitions));
  const result: KeyValue[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const pairs = JSON.parse(new TextDecoder().decode(runReduceTask(module, mapOutputs.map((blocks) => blocks[partition]!)))) as KeyValue[];
    result.push(...pairs);
  }
  return result;
}

const byKey = (result: KeyValue[]) => new Map(result.map(([key, value]) => [JSON.stringify(key), value]));

/** An example's input as records: given, or the result of the example it reads run first (a pipeline). */
async function inputOf(input: ExampleInput, partitions: number): Promise<InlineJobInput> {
  if (input.kind !== 'result-of') return input;
  const upstream = EXAMPLES.find((example) => example.id === input.example)!;
  const records = runJob(await loadExample(upstream.id), await inputOf(upstream.input, partitions), partitions, 3);
  return { kind: 'records', records: records.sort(([a], [b]) => compareKeys(a, b)) };
}

describe.each([1, 3])('examples with %i reduce partitions', (partitions) => {
  it.each(EXAMPLES.map((example) => [example.id, example] as const))('%s gives the published answer', async (_id, example) => {
    const result = byKey(runJob(await loadExample(example.id), await inputOf(example.input, partitions), partitions, 3));
    for (const [key, value] of example.expected ?? []) expect(result.get(JSON.stringify(key))).toEqual(value);
  });

  it("char-count reproduces pyMapReduce's whole table: 40 characters, 1,780 in all", async () => {
    const strings = (pyMapReduceStrings.records as [number, string][]).map(([, text]) => text);
    const reference = new Map<string, number>();
    for (const character of strings.join('')) reference.set(character, (reference.get(character) ?? 0) + 1);
    const result = runJob(await loadExample('char-count'), pyMapReduceStrings as InlineJobInput, partitions, 2);
    expect(new Map(result as [string, number][])).toEqual(reference);
    expect(result).toHaveLength(40);
    expect([...reference.values()].reduce((a, b) => a + b)).toBe(1780);
  });

  it('triangular-numbers gives k(k+1)/2 for every k below 100', async () => {
    const result = runJob(await loadExample('triangular-numbers'), { kind: 'range', from: 0, to: 100 }, partitions, 7);
    expect(result.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(Array.from({ length: 100 }, (_, k) => [k, (k * (k + 1)) / 2]));
  });

  it('inverted-index lists exactly the files that contain each word', async () => {
    const files = [
      { name: 'one.txt', text: 'Alpha beta\ngamma alpha\n' },
      { name: 'two.txt', text: 'beta delta\n' },
      { name: 'three.txt', text: 'GAMMA\n' },
    ];
    const result = byKey(runJob(await loadExample('inverted-index'), { kind: 'texts', files }, partitions));
    expect(result).toEqual(
      new Map([
        ['"alpha"', ['one.txt']],
        ['"beta"', ['one.txt', 'two.txt']],
        ['"delta"', ['two.txt']],
        ['"gamma"', ['one.txt', 'three.txt']],
      ]),
    );
  });
});

describe('pagerank iterated on its own result', () => {
  it('converges to the power method’s ranks, each iteration’s output the next one’s input', async () => {
    const module = await loadExample('pagerank');
    const web = pagerankWeb(EXAMPLES);
    let ranks = web;
    let iterations = 0;
    for (let moved = Infinity; moved > 1e-12; iterations++) {
      const next = runJob(module, { kind: 'records', records: ranks }, 2, 2).sort(([a], [b]) => compareKeys(a, b));
      moved = largestMove(ranks, next);
      ranks = next;
    }
    const reference = pagerankReference(web, 1e-12);
    for (const [page, state] of ranks) expect((state as PageState).rank).toBeCloseTo(reference.get(page as string)!, 10);
    expect(ranks.reduce((sum, [, state]) => sum + (state as PageState).rank, 0)).toBeCloseTo(1, 10);
    expect(iterations).toBeGreaterThan(10);
  });
});
