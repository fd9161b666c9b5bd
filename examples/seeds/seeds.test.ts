/**
 * Each seed script, run as its README says (`npx tsx examples/seeds/X.ts --url URL`),
 * against a real coordinator with real volunteers, prints what its seed printed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValue } from '../../shared/job.ts';
import { compareKeys } from '../../shared/keys.ts';
import type { Coordinator } from '../../server/coordinator.ts';
import { startVolunteer, testCoordinator, waitFor, type TestVolunteer } from '../../testing/integration-rig.ts';
import pyMapReduceStrings from '../inputs/pymapreduce-strings.json' with { type: 'json' };
import { pythonDict } from './seed-script.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

describe('the seed scripts', () => {
  let coordinator: Coordinator;
  let volunteers: TestVolunteer[];
  const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-seeds-'));

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

  const seed = async (name: string, ...args: string[]) =>
    (await run(process.execPath, ['--import', 'tsx', `examples/seeds/${name}.ts`, '--url', coordinator.url, ...args], { cwd: repoRoot })).stdout;

  it("mincemeat.py's triangular numbers: {0: 0, 1: 1, 2: 3, ..., 99: 4950}", async () => {
    const expected = pythonDict(Array.from({ length: 100 }, (_, k): KeyValue => [k, (k * (k + 1)) / 2]));
    expect(await seed('triangular-numbers')).toBe(`${expected}\n`);
  });

  it("pyMapReduce's character count: its dict of 40 characters", async () => {
    const counts = new Map<string, number>();
    for (const [, text] of pyMapReduceStrings.records as [number, string][]) for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1);
    const expected = [...counts].sort(([a], [b]) => compareKeys(a, b));
    expect(expected).toHaveLength(40);
    const printed = await seed('char-count');
    expect(printed).toBe(`${pythonDict(expected)}\n`);
    expect(printed).toContain("' ': 265");
    expect(printed).toContain("'e': 198");
    expect(printed).toContain("'’': 2");
  });

  it("SCOOP's sum of products: 843350, and its tutorial's sum of sums: 20100", async () => {
    expect(await seed('sum-of-products')).toBe('843350\n');
    expect(await seed('sum-of-sums')).toBe('20100\n');
  });

  it("PyMOTW's word count: the top 20 words by frequency, stop words and rst comments left out", async () => {
    const words = Array.from({ length: 22 }, (_, i) => `${'w'.repeat(i + 1)}ord`);
    // Word i occurs i + 1 times; "the" and "and" (stop words) and the comment line do not count.
    const text = words.map((word, i) => `${`${word} `.repeat(i + 1)}the and, The.`).join('\n') + '\n.. the comment line wwwwwwwwwwwwwwwwwwwwwwword\n';
    const file = path.join(dir, 'motw.rst');
    writeFileSync(file, text);
    const printed = await seed('pymotw-word-count', file);
    const top = words.slice(2).reverse();
    const longest = Math.max(...top.map((word) => word.length));
    expect(printed).toBe(`\nTOP 20 WORDS BY FREQUENCY\n\n${top.map((word) => `${word.padEnd(longest + 1)}: ${String(words.indexOf(word) + 1).padStart(5)}`).join('\n')}\n`);
  });
});
