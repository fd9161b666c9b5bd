/**
 * What bench/word-count.ts measures tabreduce against, and how it checks answers: the job
 * modules of its two forms, the Node yardsticks (each in a process of its own,
 * bench/word-count-yardstick.mjs) and the comparison of a result with the baseline's
 * counts. The bare-worker yardstick, in Chromium, is bench/bare-workers.ts.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Corpus } from './corpus.ts';
import { repoRoot } from './lib.ts';

/**
 * The two ways a map can hand over its pairs (runtime/task-runtime.ts `mapRecord`):
 * yielded as `[key, value]` arrays, or passed to `emit(key, value)`.
 */
export type JobForm = 'generator' | 'emit';
export const JOB_FORMS: readonly JobForm[] = ['generator', 'emit'];

/**
 * The word-count module of each form; tabreduce and the bare workers run the same file.
 * The emit form is the gallery's example; the generator form, the way the README and the
 * seeds write a map, is kept for the bench alone.
 */
export const JOB_PATHS: Record<JobForm, string> = {
  generator: path.join(import.meta.dirname, 'jobs', 'word-count-generator.js'),
  emit: path.join(repoRoot, 'examples', 'word-count.js'),
};

/** The tokenizer of both job modules; the Node yardsticks use the very same one. */
export const WORD_SOURCE = String.raw`/\p{L}+/gu`;

export function parseForms(list: string): JobForm[] {
  const forms = list.split(',').map((part) => part.trim());
  const unknown = forms.filter((form) => !(JOB_FORMS as readonly string[]).includes(form));
  if (unknown.length > 0 || forms.length === 0) throw new Error(`--forms takes ${JOB_FORMS.join(', ')} separated by commas, got "${list}"`);
  return JOB_FORMS.filter((form) => forms.includes(form));
}

// ── Node yardsticks ─────────────────────────────────────────────────────────────────

const YARDSTICK = path.join(import.meta.dirname, 'word-count-yardstick.mjs');

export type YardstickMode = 'matchAll' | 'exec' | 'threads=2';
export const ALL_MODES: YardstickMode[] = ['matchAll', 'exec', 'threads=2'];

export const YARDSTICK_LABELS: Record<YardstickMode, string> = {
  matchAll: 'Node, 1 thread, matchAll (the baseline)',
  exec: 'Node, 1 thread, exec loop',
  'threads=2': 'Node, 2 worker_threads, exec loop',
};

export interface YardstickRun {
  mode: YardstickMode;
  seconds: number;
  words: number;
  peakRssKiB: number;
  counts: Map<string, number>;
}

/** Runs one yardstick in a fresh Node process over the corpus's files. */
export function runYardstick(mode: YardstickMode, corpus: Corpus): Promise<YardstickRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [YARDSTICK, mode, ...corpus.files.map((file) => file.path)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`yardstick ${mode} exited with ${code}: ${Buffer.concat(err).toString()}`));
      const parsed = JSON.parse(Buffer.concat(out).toString()) as Omit<YardstickRun, 'counts' | 'mode'> & { counts: [string, number][] };
      resolve({ ...parsed, mode, counts: new Map(parsed.counts) });
    });
  });
}

export interface Yardsticks {
  /** The better of the runs, by mode. */
  best: Record<YardstickMode, YardstickRun>;
  /** Every run's seconds, by mode, in order. */
  seconds: Record<YardstickMode, number[]>;
}

/** Runs each of `modes` once and folds the runs into `into` (keeping the fastest). */
export async function measureYardsticks(corpus: Corpus, modes: readonly YardstickMode[], into?: Yardsticks): Promise<Yardsticks> {
  const result: Yardsticks = into ?? { best: {} as Record<YardstickMode, YardstickRun>, seconds: {} as Record<YardstickMode, number[]> };
  for (const mode of modes) {
    const run = await runYardstick(mode, corpus);
    (result.seconds[mode] ??= []).push(run.seconds);
    const best = result.best[mode];
    const baseline = result.best.matchAll as YardstickRun | undefined;
    if (mode !== 'matchAll' && baseline) {
      const problems = compare([...run.counts], baseline.counts);
      if (problems.length > 0) throw new Error(`the ${mode} yardstick disagrees with the baseline: ${problems.join('; ')}`);
    }
    if (!best || run.seconds < best.seconds) result.best[mode] = run;
  }
  return result;
}

// ── Verification ────────────────────────────────────────────────────────────────────

/** Every difference between the job's result and the baseline's counts, up to a few. */
export function compare(result: unknown, expected: Map<string, number>): string[] {
  if (!Array.isArray(result)) return [`the result is not a JSON array but ${typeof result}`];
  const problems: string[] = [];
  const note = (problem: string) => {
    if (problems.length < 10) problems.push(problem);
  };
  const seen = new Set<string>();
  for (const entry of result as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      note(`not a [key, value] pair: ${JSON.stringify(entry).slice(0, 100)}`);
      continue;
    }
    const [key, value] = entry as [unknown, unknown];
    if (typeof key !== 'string') {
      note(`key ${JSON.stringify(key)} is a ${typeof key}, not a string`);
      continue;
    }
    if (seen.has(key)) note(`key ${JSON.stringify(key)} appears more than once`);
    seen.add(key);
    const want = expected.get(key);
    if (want === undefined) note(`key ${JSON.stringify(key)} = ${JSON.stringify(value)} is not in the baseline`);
    else if (value !== want) note(`key ${JSON.stringify(key)}: got ${JSON.stringify(value)}, baseline ${want}`);
  }
  let missing = 0;
  for (const [key, count] of expected) {
    if (!seen.has(key)) {
      if (missing === 0) note(`key ${JSON.stringify(key)} (baseline ${count}) is missing from the result`);
      missing++;
    }
  }
  if (missing > 1) problems.push(`${missing} baseline keys in all are missing from the result`);
  if (result.length !== expected.size) problems.push(`the result has ${result.length} keys, the baseline ${expected.size}`);
  return problems;
}
