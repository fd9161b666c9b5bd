/**
 * Where a V8 CPU profile's time went: self time by function and by source (our files,
 * npm packages, Node internals, GC), biggest first. For the coordinator profiles the
 * benchmarks write with --cpu-prof (bench/.cache/profiles/...).
 *
 *   npx tsx bench/profile-summary.ts PATH [--top N]
 *
 * PATH is a .cpuprofile file or a directory of them (each is summarized).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Flags, repoRoot, runMain, table } from './lib.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
  flags.rejectUnknown();
  const target = argv.find((arg, i) => !arg.startsWith('--') && argv[i - 1] !== '--top');
  if (!target) throw new Error('usage: npx tsx bench/profile-summary.ts PATH [--top N]');
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => path.join(target, name))
    : [target];
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${target}`);
  for (const file of files) printSummary(summarizeProfile(file), top);
}

await runMain(import.meta, main);
