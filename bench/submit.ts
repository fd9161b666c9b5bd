/**
 * Issue 13, target 2: submitting a large job never blocks the coordinator's event loop for
 * more than 50 ms. Against the real coordinator (child process, default SQLite store, no
 * volunteers), a probe asks `GET /api/health` every 5 ms (testing/loop-probe.ts) while
 * `POST /api/jobs` submits N one-record map tasks; the longest answer is the longest
 * block. The target is about a range input (`{"kind":"range","from":0,"to":N}`); a
 * records input of as many tasks is measured beside it (`[[i, i], ...]`), whose map
 * inputs are stored, and whose JSON body is parsed in one call (JSON.parse has no steps).
 * Each job is cancelled once stored, so the next starts from the same coordinator state.
 *
 * Flags: --tasks N,N (default 100000,250000), --tries N (default 2), --kinds range,records
 * (default both), --store sqlite|memory. Results: bench/.cache/submit.json.
 */
import path from 'node:path';
import { LoopProbe } from '../testing/loop-probe.ts';
import { apiFor, fixed, Flags, repoRoot, runMain, saveResults, startCoordinator, table } from './lib.ts';
import { SUBMIT_BLOCK_TARGET_MS, TRIVIAL_JOB } from './dispatch.ts';

export type SubmitKind = 'range' | 'records';

export interface SubmitRun {
  kind: SubmitKind;
  tasks: number;
  /** From just before POST /api/jobs to its 201, in ms. */
  submitMs: number;
  /** The probe's longest wait while the submission ran, in ms. */
  longestBlockMs: number;
  probeAnswers: number;
  probeResets: number;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const sizes = flags.numbers('tasks', [100_000, 250_000]);
  const tries = flags.number('tries', 2, { integer: true, min: 1 });
  const kinds = flags.string('kinds', 'range,records').split(',') as SubmitKind[];
  if (kinds.some((kind) => kind !== 'range' && kind !== 'records')) throw new Error(`--kinds takes range and records, got "${kinds.join(',')}"`);
  const store = flags.has('store') ? flags.string('store', 'sqlite') : undefined;
  flags.rejectUnknown();

  const coordinator = await startCoordinator(store ? { store } : {});
  const api = apiFor(coordinator);
  const runs: SubmitRun[] = [];
  try {
    for (const kind of kinds) for (const tasks of sizes) {
      const input = kind === 'range' ? { kind, from: 0, to: tasks } : { kind, records: Array.from({ length: tasks }, (_, i): [number, number] => [i, i]) };
      for (let attempt = 0; attempt < tries; attempt++) {
        const probe = new LoopProbe(coordinator.url);
        // A few answers first, so the probe's connection is open before the submission starts.
        await probe.answered(5);
        probe.reset();
        const started = performance.now();
        const { id } = await api.submitJob({ name: `bench submit ${tasks} (${kind})`, source: TRIVIAL_JOB, input, recordsPerTask: 1 });
        const submitMs = performance.now() - started;
        const report = await probe.stop();
        runs.push({ kind, tasks, submitMs, longestBlockMs: report.longestMs, probeAnswers: report.answers, probeResets: report.resets });
        console.log(`submit ${tasks} tasks (${kind}): 201 after ${fixed(submitMs, 0)} ms, longest block ${fixed(report.longestMs, 1)} ms (${fixed(report.longestAtMs, 0)} ms after the probe started)`);
        await api.cancelJob(id);
      }
    }
  } catch (error) {
    console.error(coordinator.output());
    throw error;
  } finally {
    await coordinator.stop().catch(() => {});
  }
  console.log(`\n── Target 2: submitting a job never blocks the event loop for more than ${SUBMIT_BLOCK_TARGET_MS} ms ──`);
  console.log(
    table([
      ['input', 'map tasks', '201 after ms', 'longest block ms', 'target ms', 'met'],
      ...runs.map((run) => [run.kind, String(run.tasks), fixed(run.submitMs, 0), fixed(run.longestBlockMs, 1), String(SUBMIT_BLOCK_TARGET_MS), run.longestBlockMs <= SUBMIT_BLOCK_TARGET_MS ? 'yes' : 'NO']),
    ]),
  );
  const file = saveResults('submit', { runs, targetMs: SUBMIT_BLOCK_TARGET_MS });
  console.log(`saved ${path.relative(repoRoot, file)}`);
}

await runMain(import.meta, main);
