/**
 * What the task runtime adds to a word-count map task: one split of the benchmark corpus
 * counted by the same job `map`
 *   - in a bare loop: its pairs summed straight into a Map by hand
 *     (`counts.set(k, (counts.get(k) ?? 0) + v)`), the job's own work;
 *   - by the task runtime (runtime/task-runtime.ts `runMapTaskPacked`, what a tab's
 *     worker runs: map, checks, grouping, combine, partitioning, JSON encoding of R blocks);
 * for both forms of `map`: the generator form (a fresh `[word, 1]` per word) and the emit
 * form (`emit(word, 1)`). Also the floor (RegExp#exec into a Map, no job at all) and the
 * runtime's UTF-8 decoding of the split alone. The variants: bench/map-runtime-variants.ts.
 *
 * In Node, each variant runs in a process of its own, as a worker runs one job: sharing a
 * process would let one variant's type feedback (a second `emit`, a second form) slow
 * another's. A run's cost is the process's CPU time (user + system, GC threads included),
 * so that waiting for a core on a shared machine does not count; best of --runs after
 * --warmup runs, best again over --passes passes that take the variants in turn.
 * With --chromium, the same variants also run in headless Chromium, each in a Web Worker of
 * its own (module worker, job module imported from a blob: URL, as in a tab), timed in
 * wall time (a page has no CPU clock).
 *
 *   npx tsx bench/map-runtime.ts [--split-mb 1] [--partitions 10] [--runs 15] [--warmup 3] [--passes 2] [--chromium]
 *   node --cpu-prof --import tsx bench/map-runtime.ts --variant emit-runtime [--runs 40]   one variant, to profile
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CHROMIUM_EXECUTABLE, CHROMIUM_LAUNCH } from '../e2e/chromium.ts';
import { importFromDataUrl } from '../node-volunteer/data-url-import.ts';
import { toJobModule } from '../runtime/task-runtime.ts';
import { buildCorpus } from './corpus.ts';
import { fixed, Flags, MB, repoRoot, runMain, saveResults, table } from './lib.ts';
import { timeVariant, VARIANTS, type Timing } from './map-runtime-variants.ts';

interface Rounds {
  runs: number;
  warmup: number;
  passes: number;
}

function readSplit(file: string, splitBytes: number): { text: string; bytes: Uint8Array } {
  const bytes = readFileSync(file).subarray(0, splitBytes);
  return { bytes, text: bytes.toString('utf8') };
}

const processCpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

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

/** Best timing of each variant over the passes, `measure` running one variant once. */
async function overPasses(passes: number, measure: (name: string) => Promise<Timing>): Promise<Map<string, Timing>> {
  const names = Object.keys(VARIANTS);
  const best = new Map<string, Timing>();
  for (let pass = 0; pass < passes; pass++) {
    for (const name of pass % 2 === 0 ? names : [...names].reverse()) {
      const timing = await measure(name);
      const sofar = best.get(name);
      best.set(name, {
        wallMs: Math.min(timing.wallMs, sofar?.wallMs ?? Infinity),
        ...(timing.cpuMs !== undefined ? { cpuMs: Math.min(timing.cpuMs, sofar?.cpuMs ?? Infinity) } : {}),
      });
    }
  }
  return best;
}

/** The worker the Chromium runs use: the variants bundled, the job module imported from a blob: URL as a tab's worker does. */
const WORKER_ENTRY = `
import { toJobModule } from '../runtime/task-runtime.ts';
import { timeVariant } from './map-runtime-variants.ts';
const load = async (source) => toJobModule(await import(URL.createObjectURL(new Blob([source], { type: 'text/javascript' }))));
self.onmessage = async ({ data }) => {
  try {
    const bytes = new TextEncoder().encode(data.text);
    self.postMessage({ timing: await timeVariant(data.name, { text: data.text, bytes }, data.partitions, data.rounds, load) });
  } catch (error) {
    self.postMessage({ error: String(error && error.stack || error) });
  }
};
`;

async function inChromium(split: { text: string }, partitions: number, rounds: Rounds): Promise<Map<string, Timing>> {
  const [{ build }, { chromium }] = await Promise.all([import('esbuild'), import('playwright')]);
  const bundle = await build({ stdin: { contents: WORKER_ENTRY, resolveDir: import.meta.dirname, loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
  const code = bundle.outputFiles[0]!.text;
  // Served over HTTP: a worker (and its blob: imports) needs a real origin, which about:blank is not.
  const server = createServer((request, response) => {
    const isWorker = request.url === '/worker.js';
    response.writeHead(200, { 'content-type': isWorker ? 'text/javascript' : 'text/html' });
    response.end(isWorker ? code : '<!doctype html><title>map runtime</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    console.log(`Chromium ${browser.version()} (${CHROMIUM_EXECUTABLE}), each variant in its own Web Worker:`);
    return await overPasses(rounds.passes, (name) =>
      page.evaluate(
        ({ name, text, partitions, rounds }) =>
          new Promise<Timing>((resolve, reject) => {
            // A worker of its own per variant: its own isolate, so no variant's type feedback reaches another.
            const worker = new Worker('/worker.js', { type: 'module' });
            worker.onerror = (event) => reject(new Error(`worker failed: ${event.message}`));
            worker.onmessage = ({ data }: MessageEvent<{ timing?: Timing; error?: string }>) => {
              worker.terminate();
              if (data.timing) resolve(data.timing);
              else reject(new Error(data.error));
            };
            worker.postMessage({ name, text, partitions, rounds });
          }),
        { name, text: split.text, partitions, rounds: { runs: rounds.runs, warmup: rounds.warmup } },
      ),
    );
  } finally {
    await browser.close();
    server.close();
  }
}

interface Row {
  name: string;
  what: string;
  msPerMb: number;
  wallMsPerMb: number;
  overBareLoop?: number;
  addedMsPerMb?: number;
}

/** Rows per MB, each runtime variant against its bare loop, by `pick` (CPU in Node, wall in Chromium). */
function rowsOf(best: Map<string, Timing>, mb: number, pick: (timing: Timing) => number): Row[] {
  return Object.entries(VARIANTS).map(([name, { what, against }]) => {
    const timing = best.get(name)!;
    const base = against ? best.get(against) : undefined;
    return {
      name,
      what,
      msPerMb: pick(timing) / mb,
      wallMsPerMb: timing.wallMs / mb,
      ...(base ? { overBareLoop: pick(timing) / pick(base), addedMsPerMb: (pick(timing) - pick(base)) / mb } : {}),
    };
  });
}

function printRows(rows: Row[], unit: string, withWall: boolean): void {
  const head = withWall ? ['', `${unit} ms/MB`, 'wall ms/MB', 'x bare loop', 'runtime adds ms/MB'] : ['', `${unit} ms/MB`, 'x bare loop', 'runtime adds ms/MB'];
  const line = (row: Row) =>
    withWall
      ? [row.what, fixed(row.msPerMb, 1), fixed(row.wallMsPerMb, 1), fixed(row.overBareLoop), fixed(row.addedMsPerMb, 1)]
      : [row.what, fixed(row.msPerMb, 1), fixed(row.overBareLoop), fixed(row.addedMsPerMb, 1)];
  console.log(table([head, ...rows.map(line)]));
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const splitMb = flags.number('split-mb', 1, { min: 0.01 });
  const partitions = flags.number('partitions', 10, { integer: true, min: 1 });
  const rounds: Rounds = {
    runs: flags.number('runs', 15, { integer: true, min: 1 }),
    warmup: flags.number('warmup', 3, { integer: true, min: 0 }),
    passes: flags.number('passes', 2, { integer: true, min: 1 }),
  };
  const withChromium = flags.has('chromium');
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
    const load = async (source: string) => toJobModule(await importFromDataUrl(source));
    console.log(JSON.stringify(await timeVariant(only, readSplit(split.file, split.bytes), partitions, rounds, load, processCpuMs)));
    return;
  }

  const node = await overPasses(rounds.passes, (name) =>
    runChild(['--variant', name, '--file', split.file, '--split-bytes', String(split.bytes), '--partitions', String(partitions), '--runs', String(rounds.runs), '--warmup', String(rounds.warmup)]),
  );
  const mb = split.bytes / MB;
  const nodeRows = rowsOf(node, mb, (timing) => timing.cpuMs!);
  console.log(`one split: ${mb.toFixed(2)} MB of the benchmark corpus, R = ${partitions}, combine = reduce; best of ${rounds.runs} runs x ${rounds.passes} passes`);
  console.log(`Node ${process.versions.node}, each variant in its own process:`);
  printRows(nodeRows, 'CPU', true);

  let chromiumRows: Row[] | undefined;
  if (withChromium) {
    const best = await inChromium(readSplit(split.file, split.bytes), partitions, rounds);
    chromiumRows = rowsOf(best, mb, (timing) => timing.wallMs);
    printRows(chromiumRows, 'wall', false);
  }
  const saved = saveResults('map-runtime', { splitBytes: split.bytes, partitions, ...rounds, node: nodeRows, ...(chromiumRows ? { chromium: chromiumRows } : {}) });
  console.log(`saved ${path.relative(repoRoot, saved)}`);
}

await runMain(import.meta, main);
