/**
 * `npm run bench -- result-download`: what serving a large result costs the
 * coordinator. One job of --keys distinct keys (default 1,000,000) runs on Node
 * volunteers against the real coordinator process (SQLite, as `npm start`); then its
 * result is downloaded as JSON, as CSV, and --concurrent times at once (default 3),
 * while a probe asks GET /api/health every 5 ms. Reported: download seconds, the
 * longest health answer (how long the event loop was held), and the coordinator's
 * peak RSS before and after the downloads.
 *
 *   npx tsx bench/result-download.ts [--keys N] [--concurrent N]
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { apiFor, Flags, fixed, mibOf, runMain, saveResults, startCoordinator, statusKiB, table, waitForCluster, waitForSuccess } from './lib.ts';

const VOLUNTEERS = 2;

/** Asks GET /api/health every `everyMs` until stopped; answers the longest round trip, ms. */
function healthProbe(url: string, everyMs = 5): { stop(): Promise<number> } {
  let longestMs = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(`${url}/api/health`).then((response) => response.arrayBuffer());
      longestMs = Math.max(longestMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return longestMs;
    },
  };
}

async function download(url: string, id: string, format: 'json' | 'csv'): Promise<number> {
  const response = await fetch(`${url}/api/jobs/${id}/result${format === 'csv' ? '?format=csv' : ''}`);
  if (!response.ok) throw new Error(`result answered ${response.status}`);
  return (await response.arrayBuffer()).byteLength;
}

async function measure(label: string, url: string, run: () => Promise<unknown>, pid: number | undefined) {
  const probe = healthProbe(url);
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  return { label, seconds, longestHealthMs: await probe.stop(), peakRssKiB: statusKiB(pid, 'VmHWM') };
}

await runMain(import.meta, async () => {
  const flags = new Flags(process.argv.slice(2));
  const keys = flags.number('keys', 1_000_000, { integer: true, min: 1 });
  const concurrent = flags.number('concurrent', 3, { integer: true, min: 1 });
  flags.rejectUnknown();
  const coordinator = await startCoordinator();
  const volunteers = fork(path.join(import.meta.dirname, 'crowd-volunteers.ts'), [coordinator.url, String(VOLUNTEERS), 'result'], { execArgv: ['--import', 'tsx'] });
  try {
    const api = apiFor(coordinator);
    await waitForCluster(api, VOLUNTEERS, 60_000);
    const source = 'export function map(k, v, emit) { emit(k, v); }\nexport function reduce(k, vs) { return vs[0]; }';
    const { id } = await api.submitJob({ name: 'many keys', source, input: { kind: 'range', from: 0, to: keys }, recordsPerTask: 50_000, reducers: 8 });
    const started = performance.now();
    await waitForSuccess(api, id, () => (performance.now() - started) / 1000, 600_000, 100, 500);
    const pid = coordinator.child.pid;
    const before = statusKiB(pid, 'VmHWM');
    const rows = [
      await measure('JSON', coordinator.url, () => download(coordinator.url, id, 'json'), pid),
      await measure('CSV', coordinator.url, () => download(coordinator.url, id, 'csv'), pid),
      await measure(`${concurrent} JSON at once`, coordinator.url, () => Promise.all(Array.from({ length: concurrent }, () => download(coordinator.url, id, 'json'))), pid),
    ];
    console.log(`\nresult download: ${keys} keys; coordinator peak RSS before the downloads ${mibOf(before)} MiB\n`);
    console.log(table([['download', 'seconds', 'longest health answer (ms)', 'coordinator peak RSS (MiB)'], ...rows.map((row) => [row.label, fixed(row.seconds), fixed(row.longestHealthMs, 0), mibOf(row.peakRssKiB)])]));
    saveResults('result-download', { keys, concurrent, peakRssBeforeKiB: before, rows });
  } finally {
    volunteers.send({ type: 'stop' });
    await coordinator.stop();
  }
});
