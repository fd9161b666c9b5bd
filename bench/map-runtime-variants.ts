/**
 * What bench/map-runtime.ts times, with neither Node nor the DOM, so that a Node process
 * and a Chromium Web Worker run the very same code: a word count's `map` in a bare loop
 * and in the task runtime, for the generator and the emit form.
 */
import { runMapTaskPacked, type JobModule } from '../runtime/task-runtime.ts';

/** The word count in the generator form of docs/job-model.md: a fresh [word, 1] per word. */
export const GENERATOR_WORD_COUNT = String.raw`
const WORD = /\p{L}+/gu;
export function* map(fileName, text) { for (const [word] of text.matchAll(WORD)) yield [word, 1]; }
export function reduce(word, counts) { let total = 0; for (const count of counts) total += count; return total; }
export const combine = reduce;
`;

/** The same word count in the emit form, as examples/word-count.js writes it. */
export const EMIT_WORD_COUNT = String.raw`
const WORD = /\p{L}+/gu;
export function map(fileName, text, emit) {
  WORD.lastIndex = 0;
  let match;
  while ((match = WORD.exec(text)) !== null) emit(match[0], 1);
}
export function reduce(word, counts) { let total = 0; for (const count of counts) total += count; return total; }
export const combine = reduce;
`;

/** Evaluates a job module's source as the host's volunteer does (a data: URL in Node, a blob: URL in a worker). */
export type LoadModule = (source: string) => Promise<JobModule>;

type Body = () => unknown;

export interface Variant {
  what: string;
  /** The row it is measured against: the bare loop of the same form. */
  against?: string;
  make: (text: string, bytes: Uint8Array, partitions: number, load: LoadModule) => Promise<Body>;
}

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
    const sink = (word: string, n: number) => counts.set(word, (counts.get(word) ?? 0) + n);
    module.map('split', text, sink as (key: unknown, value: unknown) => void);
    return counts;
  };
}

const inRuntime =
  (source: string): Variant['make'] =>
  async (_text, bytes, partitions, load) => {
    const module = await load(source);
    return () => runMapTaskPacked(module, { format: 'text', key: 'split', bytes }, partitions);
  };

export const VARIANTS: Record<string, Variant> = {
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
  'generator-bare': { what: 'generator form, bare loop', make: async (text, _bytes, _partitions, load) => bareLoop(await load(GENERATOR_WORD_COUNT), text, 'generator') },
  'generator-runtime': { what: 'generator form, task runtime', against: 'generator-bare', make: inRuntime(GENERATOR_WORD_COUNT) },
  'emit-bare': { what: 'emit form, bare loop', make: async (text, _bytes, _partitions, load) => bareLoop(await load(EMIT_WORD_COUNT), text, 'emit') },
  'emit-runtime': { what: 'emit form, task runtime', against: 'emit-bare', make: inRuntime(EMIT_WORD_COUNT) },
  decode: { what: "  the runtime's UTF-8 decode of the split", make: async (_text, bytes) => () => new TextDecoder().decode(bytes) },
};

/** One variant's best time per run, in ms: CPU where the host can tell it (Node), wall always. */
export interface Timing {
  cpuMs?: number;
  wallMs: number;
}

/** Times one variant: `warmup` runs, then the best of `runs`. `cpuMs` reads the host's CPU clock, if it has one. */
export async function timeVariant(
  name: string,
  split: { text: string; bytes: Uint8Array },
  partitions: number,
  rounds: { runs: number; warmup: number },
  load: LoadModule,
  cpuMs?: () => number,
): Promise<Timing> {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const body = await variant.make(split.text, split.bytes, partitions, load);
  for (let i = 0; i < rounds.warmup; i++) body();
  let bestCpu = Infinity;
  let bestWall = Infinity;
  for (let i = 0; i < rounds.runs; i++) {
    const cpuBefore = cpuMs?.() ?? 0;
    const started = performance.now();
    body();
    bestWall = Math.min(bestWall, performance.now() - started);
    if (cpuMs) bestCpu = Math.min(bestCpu, cpuMs() - cpuBefore);
  }
  return cpuMs ? { cpuMs: bestCpu, wallMs: bestWall } : { wallMs: bestWall };
}
