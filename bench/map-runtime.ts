/**
 * Where a word-count map task's time goes inside a worker, measured in Node (the same V8
 * as Chromium): one split of the benchmark corpus counted
 *   1. by a plain loop (RegExp#exec into a Map): the floor;
 *   2. by a generator-form word count (a fresh [word, 1] per word) and by
 *      examples/word-count.js's emit-form `map`, each folded into a Map by hand: the cost
 *      of the job's shape;
 *   3. by the task runtime (runtime/task-runtime.ts `runMapTaskPacked`, what a tab's
 *      worker runs: map, checks, grouping, combine, partitioning, JSON encoding), with
 *      each of the two forms;
 *   4. the runtime's UTF-8 decoding of the input alone.
 * Best of --runs rounds (default 10; the variants take turns in each round), in ms and MB/s.
 *
 *   npx tsx bench/map-runtime.ts [--split-mb 1] [--partitions 10] [--runs 5] [--cpu-prof-runtime N]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importFromDataUrl } from '../node-volunteer/data-url-import.ts';
import { runMapTaskPacked, toJobModule } from '../runtime/task-runtime.ts';
import { buildCorpus } from './corpus.ts';
import { fixed, Flags, MB, repoRoot, runMain, saveResults, table } from './lib.ts';

/** examples/word-count.js in the generator form of docs/job-model.md (a fresh [word, 1] per word), for comparison. */
const GENERATOR_WORD_COUNT = String.raw`
const WORD = /\p{L}+/gu;
export function* map(fileName, text) { for (const [word] of text.matchAll(WORD)) yield [word, 1]; }
export function reduce(word, counts) { let total = 0; for (const count of counts) total += count; return total; }
export const combine = reduce;
`;

/** Best time of each body over `runs` rounds, the bodies taking turns within a round (so load spikes hit them alike). */
function bestOf(runs: number, bodies: { what: string; body: () => unknown }[]): { what: string; ms: number }[] {
  const best = bodies.map(() => Infinity);
  for (let round = 0; round < runs; round++) {
    bodies.forEach(({ body }, i) => {
      const started = performance.now();
      body();
      best[i] = Math.min(best[i]!, performance.now() - started);
    });
  }
  return bodies.map(({ what }, i) => ({ what, ms: best[i]! }));
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const splitMb = flags.number('split-mb', 1, { min: 0.01 });
  const partitions = flags.number('partitions', 10, { integer: true, min: 1 });
  const runs = flags.number('runs', 10, { integer: true, min: 1 });
  const repeat = flags.number('cpu-prof-runtime', 0, { integer: true, min: 0 });
  flags.rejectUnknown();

  const corpus = buildCorpus({ mb: Math.max(2, Math.ceil(splitMb * 2)), files: 1 });
  const whole = readFileSync(corpus.files[0]!.path);
  const cut = whole.lastIndexOf(0x0a, Math.round(splitMb * MB)) + 1;
  const bytes = whole.subarray(0, cut);
  const text = bytes.toString('utf8');
  const mb = bytes.length / MB;
  const source = readFileSync(path.join(repoRoot, 'examples', 'word-count.js'), 'utf8');
  const module = toJobModule(await importFromDataUrl(source));
  const generatorModule = toJobModule(await importFromDataUrl(GENERATOR_WORD_COUNT));

  if (repeat > 0) {
    // For `node --cpu-prof --import tsx bench/map-runtime.ts --cpu-prof-runtime 20`: the runtime alone, N times.
    for (let i = 0; i < repeat; i++) runMapTaskPacked(module, { format: 'text', key: 'split', bytes }, partitions);
    return;
  }

  const rows = bestOf(runs, [
    {
      what: 'plain loop: RegExp#exec into a Map',
      body: () => {
        const counts = new Map<string, number>();
        const word = /\p{L}+/gu;
        let match: RegExpExecArray | null;
        while ((match = word.exec(text)) !== null) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
        return counts;
      },
    },
    {
      what: 'plain loop: matchAll into a Map (the baseline\'s)',
      body: () => {
        const counts = new Map<string, number>();
        for (const [match] of text.matchAll(/\p{L}+/gu)) counts.set(match, (counts.get(match) ?? 0) + 1);
        return counts;
      },
    },
    {
      what: 'the generator form, summed into a Map by hand',
      body: () => {
        const counts = new Map<string, number>();
        for (const [word, n] of generatorModule.map('split', text, () => {}) as Iterable<[string, number]>) counts.set(word, (counts.get(word) ?? 0) + n);
        return counts;
      },
    },
    {
      what: "word-count.js's map (emit form) into a Map by hand",
      body: () => {
        const counts = new Map<string, number>();
        module.map('split', text, (word, n) => counts.set(word as string, (counts.get(word as string) ?? 0) + (n as number)));
        return counts;
      },
    },
    { what: `task runtime, word-count.js (emit form, R = ${partitions}, combine)`, body: () => runMapTaskPacked(module, { format: 'text', key: 'split', bytes }, partitions) },
    { what: `task runtime, the generator form (R = ${partitions}, combine)`, body: () => runMapTaskPacked(generatorModule, { format: 'text', key: 'split', bytes }, partitions) },
    { what: '  of which: UTF-8 decode of the split', body: () => new TextDecoder().decode(bytes) },
  ]);
  const output = runMapTaskPacked(module, { format: 'text', key: 'split', bytes }, partitions);
  const outputMb = output.blocks.length / MB;

  const floor = rows[0]!.ms;
  console.log(`one split: ${mb.toFixed(2)} MB of ${corpus.source}; map output ${outputMb.toFixed(2)} MB in ${partitions} partitions; best of ${runs}`);
  console.log(table([['', 'ms', 'MB/s', 'x plain loop'], ...rows.map((row) => [row.what, fixed(row.ms, 1), fixed(mb / (row.ms / 1000), 1), fixed(row.ms / floor)])]));
  const file = saveResults('map-runtime', { splitBytes: bytes.length, partitions, runs, outputBytes: output.blocks.length, rows });
  console.log(`saved ${path.relative(repoRoot, file)}`);
}

await runMain(import.meta, main);
