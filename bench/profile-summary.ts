/**
 * Where a V8 CPU profile's time went: self time by function and by source (our files,
 * npm packages, Node internals, GC), biggest first. For the coordinator profiles the
 * benchmarks write with --cpu-prof (bench/.cache/profiles/...).
 *
 *   npx tsx bench/profile-summary.ts PATH [--top N] [--callers TEXT] [--timeline S]
 *
 * PATH is a .cpuprofile file or a directory of them (each is summarized). --callers
 * lists the call chains (6 frames up) of the functions whose name or file contains TEXT,
 * by self time; --timeline prints, per S seconds, how busy the thread was and its top
 * three functions, and the longest stretch without an idle sample (an event loop that
 * never waited: what disconnects volunteers).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Flags, repoRoot, runMain, table } from './lib.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which body of code a frame belongs to: a file of ours, an npm package, Node itself, or V8's own pseudo-frames. */
export function sourceOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (/^https?:/.test(url)) return new URL(url).pathname;
  if (/^(data|blob):/.test(url)) return `job module (${url.slice(0, 4)}: URL)`;
  const file = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return `npm ${pkg[1]}`;
  return path.relative(repoRoot, file) || file;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  sampledMs: number;
  idleMs: number;
  byFunction: { name: string; ms: number }[];
  bySource: { name: string; ms: number }[];
}

export function summarizeProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the gap to the sample that follows it.
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const source = sourceOf(url, functionName);
    const name = `${functionName || '(anonymous)'}  ${url ? `${source}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    bySource.set(source, (bySource.get(source) ?? 0) + us);
  }
  const sorted = (map: Map<string, number>) => [...map].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { file, wallMs: (profile.endTime - profile.startTime) / 1000, sampledMs: total / 1000, idleMs: idle / 1000, byFunction: sorted(byFunction), bySource: sorted(bySource) };
}

/** Call chains (innermost first, `depth` frames) of the frames matching `text`, by self time. */
export function callers(file: string, text: string, top: number, depth = 6): { chain: string; ms: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const chains = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url } = nodes.get(id)!.callFrame;
    if (!`${functionName} ${url}`.includes(text)) return;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined && frames.length < depth; at = parent.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      frames.push(`${frame.functionName || '(anonymous)'} ${sourceOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`);
    }
    const chain = frames.join(' <- ');
    chains.set(chain, (chains.get(chain) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...chains].map(([chain, us]) => ({ chain, ms: us / 1000 })).sort((a, b) => b.ms - a.ms).slice(0, top);
}

/** Busy share and top functions per `binSeconds`, and the longest stretch with no idle sample. */
export function timeline(file: string, binSeconds: number): { longest: { startS: number; seconds: number }; bins: { startS: number; busy: number; top: string }[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const bins = new Map<number, { busyUs: number; totalUs: number; byName: Map<string, number> }>();
  let t = 0;
  let runStart: number | undefined;
  let longest = { startS: 0, seconds: 0 };
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const name = nodes.get(id)!.callFrame.functionName || '(anonymous)';
    const idle = name === '(idle)';
    const index = Math.floor(t / 1e6 / binSeconds);
    const bin = bins.get(index) ?? { busyUs: 0, totalUs: 0, byName: new Map<string, number>() };
    bin.totalUs += delta;
    if (!idle) {
      bin.busyUs += delta;
      bin.byName.set(name, (bin.byName.get(name) ?? 0) + delta);
      runStart ??= t;
      if ((t - runStart) / 1e6 > longest.seconds) longest = { startS: runStart / 1e6, seconds: (t - runStart) / 1e6 };
    } else {
      runStart = undefined;
    }
    bins.set(index, bin);
  });
  return {
    longest,
    bins: [...bins]
      .sort((a, b) => a[0] - b[0])
      .map(([index, bin]) => ({
        startS: index * binSeconds,
        busy: bin.totalUs > 0 ? bin.busyUs / bin.totalUs : 0,
        top: [...bin.byName].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, us]) => `${name} ${(us / 1e6).toFixed(1)} s`).join(', '),
      })),
  };
}

export function printSummary(summary: ProfileSummary, top: number): void {
  const busy = summary.sampledMs - summary.idleMs;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`;
  console.log(`\n${path.relative(repoRoot, summary.file)}: ${(summary.wallMs / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(2)} s busy, ${(summary.idleMs / 1000).toFixed(1)} s idle`);
  console.log(table([['self time by source', 'ms', 'of busy'], ...summary.bySource.slice(0, top).map((row) => [row.name, row.ms.toFixed(0), pct(row.ms)])]));
  console.log('');
  console.log(table([['self time by function', 'ms', 'of busy'], ...summary.byFunction.slice(0, top).map((row) => [row.name, row.ms.toFixed(0), pct(row.ms)])]));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flags = new Flags(argv);
  const top = flags.number('top', 25, { integer: true, min: 1 });
  const callersOf = flags.has('callers') ? flags.string('callers', '') : undefined;
  const binSeconds = flags.has('timeline') ? flags.number('timeline', 10, { min: 0.1 }) : undefined;
  flags.rejectUnknown();
  const valued = new Set(['--top', '--callers', '--timeline']);
  const target = argv.find((arg, i) => !arg.startsWith('--') && !valued.has(argv[i - 1] ?? ''));
  if (!target) throw new Error('usage: npx tsx bench/profile-summary.ts PATH [--top N]');
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => path.join(target, name))
    : [target];
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${target}`);
  for (const file of files) {
    printSummary(summarizeProfile(file), top);
    if (callersOf !== undefined) {
      console.log('');
      console.log(table([[`call chains of "${callersOf}"`, 'ms'], ...callers(file, callersOf, top).map((row) => [row.chain, row.ms.toFixed(0)])]));
    }
    if (binSeconds !== undefined) {
      const { longest, bins } = timeline(file, binSeconds);
      console.log(`\nlongest stretch without an idle sample: ${longest.seconds.toFixed(1)} s from ${longest.startS.toFixed(1)} s`);
      console.log(table([['from s', 'busy', 'top functions'], ...bins.map((bin) => [bin.startS.toFixed(0), `${(bin.busy * 100).toFixed(0)}%`, bin.top])], 'left'));
    }
  }
}

await runMain(import.meta, main);
