/**
 * What the task runtime adds to a word-count map task, measured in Node (the same V8 as
 * Chromium's workers): one split of the benchmark corpus counted by the same job `map`
 *   - in a bare loop: its pairs summed straight into a Map by hand
 *     (`counts.set(k, (counts.get(k) ?? 0) + v)`), the job's own work;
 *   - by the task runtime (runtime/task-runtime.ts `runMapTaskPacked`, what a tab's
 *     worker runs: map, checks, grouping, combine, partitioning, JSON encoding of R blocks);
 * for both forms of `map`: the generator form (a fresh `[word, 1]` per word) and the emit
 * form (`emit(word, 1)`). Also the floor (RegExp#exec into a Map, no job at all) and the
 * runtime's UTF-8 decoding of the split alone.
 *
 * Each variant runs in a process of its own, as a worker runs one job: sharing a process
 * would let one variant's type feedback (a second `emit`, a second form) slow another's.
 * A run's cost is the process's CPU time (user + system, GC threads included), so that
 * waiting for a core on a shared machine does not count; best of --runs after --warmup
 * runs, best again over --passes passes that take the variants in turn.
 *
 *   npx tsx bench/map-runtime.ts [--split-mb 1] [--partitions 10] [--runs 15] [--warmup 3] [--passes 2]
 *   node --cpu-prof --import tsx bench/map-runtime.ts --variant emit-runtime [--runs 40]   one variant, to profile
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importFromDataUrl } from '../node-volunteer/data-url-import.ts';
import { runMapTaskPacked, toJobModule, type JobModule } from '../runtime/task-runtime.ts';
import { buildCorpus } from './corpus.ts';
import { fixed, Flags, MB, repoRoot, runMain, saveResults, table } from './lib.ts';

/** The word count in the generator form of docs/job-model.md: a fresh [word, 1] per word. */
const GENERATOR_WORD_COUNT = String.raw`
const WORD = /\p{L}+/gu;
export function* map(fileName, text) { for (const [word] of text.matchAll(WORD)) yield [word, 1]; }
export function reduce(word, counts) { let total = 0; for (const count of counts) total += count; return total; }
export const combine = reduce;
`;

/** The same word count in the emit form, as examples/word-count.js writes it. */
const EMIT_WORD_COUNT = String.raw`
const WORD = /\p{L}+/gu;
export function map(fileName, text, emit) {
  WORD.lastIndex = 0;
  let match;
  while ((match = WORD.exec(text)) !== null) emit(match[0], 1);
}
export function reduce(word, counts) { let total = 0; for (const count of counts) total += count; return total; }
export const combine = reduce;
`;

type Sink = (word: string, count: number) => void;
type Body = () => unknown;

interface Variant {
  what: string;
  /** Which row it is measured against: the bare loop of the same form. */
  against?: string;
  make: (text: string, bytes: Uint8Array, partitions: number) => Promise<Body>;
}

const loadModule = async (source: string): Promise<JobModule> => toJobModule(await importFromDataUrl(source));

/** The job's map with its pairs summed into a Map by hand: what the job costs without a runtime. */
function bareLoop(module: JobModule, text: string, form: 'generator' | 'emit'): Body {
  if (form === 'generator') {
    return () => {
      const counts = new Map<string, number>();
      for (const [word, n] of module.map('split', text, () => {}) as Iterable<[string, number]>) counts.set(word, (counts.get(word) ?? 0) + n);
      return counts;
    };
  }
  return () => {
    const counts = new Map<string, number>();
    const sink: Sink = (word, n) => counts.set(word, (counts.get(word) ?? 0) + n);
    module.map('split', text, sink as (key: unknown, value: unknown) => void);
    return counts;
  };
}

const VARIANTS: Record<string, Variant> = {
  floor: {
    what: 'floor: RegExp#exec into a Map, no job',
    make: async (text) => () => {
      const counts = new Map<string, number>();
      const word = /\p{L}+/gu;
      let match: RegExpExecArray | null;
      while ((match = word.exec(text)) !== null) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
      return counts;
    },
  },
  'generator-bare': { what: 'generator form, bare loop', make: async (text) => bareLoop(await loadModule(GENERATOR_WORD_COUNT), text, 'generator') },
  'generator-runtime': {
    what: 'generator form, task runtime',
    against: 'generator-bare',
    make: async (_text, bytes, partitions) => {
      const module = await loadModule(GENERATOR_WORD_COUNT);
      return () => runMapTaskPacked(module, { format: 'text', key: 'split', bytes }, partitions);
    },
  },
  'emit-bare': { what: 'emit form, bare loop', make: async (text) => bareLoop(await loadModule(EMIT_WORD_COUNT), text, 'emit') },
  'emit-runtime': {
    what: 'emit form, task runtime',
    against: 'emit-bare',
    make: async (_text, bytes, partitions) => {
      const module = await loadModule(EMIT_WORD_COUNT);
      return () => runMapTaskPacked(module, { format: 'text', key: 'split', bytes }, partitions);
    },
  },
  decode: { what: "  the runtime's UTF-8 decode of the split", make: async (_text, bytes) => () => new TextDecoder().decode(bytes) },
};

/** One variant's best CPU and wall time per run, in ms. */
interface Timing {
  cpuMs: number;
  wallMs: number;
}

/** The child: times one variant and prints its Timing as JSON. */
async function measure(name: string, file: string, splitBytes: number, partitions: number, runs: number, warmup: number): Promise<Timing> {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown --variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const bytes = readFileSync(file).subarray(0, splitBytes);
  const text = bytes.toString('utf8');
  const body = await variant.make(text, bytes, partitions);
  for (let i = 0; i < warmup; i++) body();
  const best: Timing = { cpuMs: Infinity, wallMs: Infinity };
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    body();
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    best.cpuMs = Math.min(best.cpuMs, (used.user + used.system) / 1000);
    best.wallMs = Math.min(best.wallMs, wallMs);
  }
  return best;
}

function runChild(args: string[]): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench/map-runtime.ts ${args.join(' ')} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Timing);
    });
  });
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const splitMb = flags.number('split-mb', 1, { min: 0.01 });
  const partitions = flags.number('partitions', 10, { integer: true, min: 1 });
  const runs = flags.number('runs', 15, { integer: true, min: 1 });
  const warmup = flags.number('warmup', 3, { integer: true, min: 0 });
  const passes = flags.number('passes', 2, { integer: true, min: 1 });
  const only = flags.string('variant', '');
  const file = flags.string('file', '');
  const splitBytesFlag = flags.number('split-bytes', 0, { integer: true, min: 0 });
  flags.rejectUnknown();

  let split: { file: string; bytes: number };
  if (file && splitBytesFlag > 0) {
    split = { file, bytes: splitBytesFlag };
  } else {
    const corpus = buildCorpus({ mb: Math.max(2, Math.ceil(splitMb * 2)), files: 1 });
    const whole = readFileSync(corpus.files[0]!.path);
    split = { file: corpus.files[0]!.path, bytes: whole.lastIndexOf(0x0a, Math.round(splitMb * MB)) + 1 };
  }
  if (only) {
    // In a child (or by hand, e.g. under --cpu-prof): one variant, its timing as JSON on stdout.
    console.log(JSON.stringify(await measure(only, split.file, split.bytes, partitions, runs, warmup)));
    return;
  }

  const names = Object.keys(VARIANTS);
  const best = new Map<string, Timing>();
  for (let pass = 0; pass < passes; pass++) {
    for (const name of pass % 2 === 0 ? names : [...names].reverse()) {
      const timing = await runChild(['--variant', name, '--file', split.file, '--split-bytes', String(split.bytes), '--partitions', String(partitions), '--runs', String(runs), '--warmup', String(warmup)]);
      const sofar = best.get(name);
      best.set(name, { cpuMs: Math.min(timing.cpuMs, sofar?.cpuMs ?? Infinity), wallMs: Math.min(timing.wallMs, sofar?.wallMs ?? Infinity) });
    }
  }

  const mb = split.bytes / MB;
  const perMb = (ms: number) => ms / mb;
  const rows = names.map((name) => {
    const { what, against } = VARIANTS[name]!;
    const timing = best.get(name)!;
    const base = against ? best.get(against)! : undefined;
    return {
      name,
      what,
      cpuMsPerMb: perMb(timing.cpuMs),
      wallMsPerMb: perMb(timing.wallMs),
      ...(base ? { overBareLoop: timing.cpuMs / base.cpuMs, addedMsPerMb: perMb(timing.cpuMs - base.cpuMs) } : {}),
    };
  });
  console.log(`one split: ${mb.toFixed(2)} MB of the benchmark corpus, R = ${partitions}, combine = reduce; each variant in its own process, best of ${runs} runs x ${passes} passes`);
  console.log(
    table([
      ['', 'CPU ms/MB', 'wall ms/MB', 'x bare loop', 'runtime adds ms/MB'],
      ...rows.map((row) => [row.what, fixed(row.cpuMsPerMb, 1), fixed(row.wallMsPerMb, 1), fixed(row.overBareLoop), fixed(row.addedMsPerMb, 1)]),
    ]),
  );
  const saved = saveResults('map-runtime', { splitBytes: split.bytes, partitions, runs, passes, rows });
  console.log(`saved ${path.relative(repoRoot, saved)}`);
}

await runMain(import.meta, main);
