/**
 * Issue 13, target 3: the coordinator alone, with Node volunteers and no browsers. What
 * a coordinator costs per task and per MB of map input, counted in its own CPU seconds,
 * so the figures hold on a machine shared with the volunteers (here, the same 2 cores).
 *
 * A fresh coordinator child process (`server/main.ts`, default SQLite store, durable),
 * then --volunteers simulated volunteers in --processes Node processes
 * (bench/crowd-volunteers.ts: the tab's own `VolunteerClient` and the in-process task
 * runtime, one slot each, claiming and reporting by the batch), then two jobs:
 *   1. tiny: --tasks one-record map tasks of the trivial job (bench/dispatch.ts), the
 *      result checked;
 *   2. text: the word count (examples/word-count.js) over --mb MB of prose uploaded
 *      first (its upload timed apart), the result checked against a count made here.
 * For each: wall time (submit to the coordinator's finish), the coordinator's CPU seconds
 * over that span, tasks/s and tasks per coordinator CPU second (target: 20,000), and
 * for the text job MB/s and MB of map input per coordinator CPU second.
 *
 * Flags: --tasks N (default 100,000), --mb N (default 20), --volunteers N (default 4),
 * --processes N (default 2), --timeout S (default 600), --cpu-prof.
 * Results: bench/.cache/coordinator-alone.json.
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import type { ApiClient } from '../client/api-client.ts';
import { buildCorpus } from './corpus.ts';
import { startChildren, stopChildren } from './crowd.ts';
import { checkTrivialResult, TRIVIAL_JOB } from './dispatch.ts';
import { apiFor, CACHE_DIR, cpuSeconds, fixed, Flags, MB, repoRoot, runMain, saveResults, startCoordinator, table, waitForCluster, waitForSuccess, type CoordinatorProcess } from './lib.ts';

/** The target of issue 13: tiny tasks per second of one coordinator's CPU. */
export const TASKS_PER_CPU_SECOND_TARGET = 20_000;

export interface CoordinatorAloneRun {
  job: 'tiny' | 'text';
  tasks: number;
  mb?: number;
  uploadSeconds?: number;
  uploadCpuSeconds?: number;
  seconds: number;
  coordinatorCpuSeconds: number;
  tasksPerSecond: number;
  tasksPerCpuSecond: number;
  mbPerSecond?: number;
  mbPerCpuSecond?: number;
  problems: string[];
}

async function runJob(api: ApiClient, coordinator: CoordinatorProcess, submit: () => Promise<string>, timeoutMs: number): Promise<{ id: string; seconds: number; cpu: number; tasks: number }> {
  const pid = coordinator.child.pid;
  const cpuBefore = cpuSeconds(pid) ?? 0;
  const startedEpochMs = Date.now();
  const started = performance.now();
  const id = await submit();
  const finished = await waitForSuccess(api, id, () => (performance.now() - started) / 1000, timeoutMs, 25, 250);
  const cpu = (cpuSeconds(pid) ?? 0) - cpuBefore;
  const seconds = finished.summary.finishedAtMs !== undefined ? (finished.summary.finishedAtMs - startedEpochMs) / 1000 : finished.succeededSeconds;
  const { progress } = finished.summary;
  return { id, seconds, cpu, tasks: progress.map.total + progress.reduce.total };
}

/** The word counts of the corpus, made here the plain way: what the job must answer. */
function countWords(paths: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of paths) for (const [word] of readFileSync(file, 'utf8').matchAll(/\p{L}+/gu)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const tasks = flags.number('tasks', 100_000, { integer: true, min: 1 });
  const mb = flags.number('mb', 20, { min: 0.01 });
  const volunteers = flags.number('volunteers', 4, { integer: true, min: 1 });
  const processes = flags.number('processes', 2, { integer: true, min: 1 });
  const timeoutMs = flags.number('timeout', 600, { min: 1 }) * 1000;
  const cpuProf = flags.has('cpu-prof');
  flags.rejectUnknown();

  const coordinator = await startCoordinator(cpuProf ? { cpuProfileDir: path.join(CACHE_DIR, 'profiles', `coordinator-alone-${Date.now()}`) } : {});
  const api = apiFor(coordinator);
  const runs: CoordinatorAloneRun[] = [];
  let children: ChildProcess[] = [];
  try {
    const crowd = startChildren(coordinator.url, volunteers, processes);
    children = crowd.children;
    await crowd.connected;
    await waitForCluster(api, volunteers, 60_000);

    console.log(`coordinator alone: ${tasks} tiny tasks on ${volunteers} Node volunteers...`);
    const tiny = await runJob(api, coordinator, async () => (await api.submitJob({ name: `bench coordinator alone: ${tasks} tiny tasks`, source: TRIVIAL_JOB, input: { kind: 'range', from: 0, to: tasks }, recordsPerTask: 1 })).id, timeoutMs);
    runs.push({
      job: 'tiny',
      tasks: tiny.tasks,
      seconds: tiny.seconds,
      coordinatorCpuSeconds: tiny.cpu,
      tasksPerSecond: tiny.tasks / tiny.seconds,
      tasksPerCpuSecond: tiny.tasks / tiny.cpu,
      problems: checkTrivialResult(await api.getResult(tiny.id), tasks),
    });

    console.log(`coordinator alone: word count over ${mb} MB on ${volunteers} Node volunteers...`);
    const corpus = buildCorpus({ mb, files: 6 });
    const pid = coordinator.child.pid;
    const uploadCpuBefore = cpuSeconds(pid) ?? 0;
    const uploadStarted = performance.now();
    const files: { fileId: string; name: string }[] = [];
    for (const file of corpus.files) {
      const stream = Readable.toWeb(createReadStream(file.path, { highWaterMark: 1024 * 1024 })) as ReadableStream<Uint8Array>;
      files.push({ fileId: (await api.uploadFile(file.name, stream)).id, name: file.name });
    }
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;
    const uploadCpuSeconds = (cpuSeconds(pid) ?? 0) - uploadCpuBefore;
    const source = readFileSync(path.join(repoRoot, 'examples', 'word-count.js'), 'utf8');
    const text = await runJob(api, coordinator, async () => (await api.submitJob({ name: `bench coordinator alone: word count ${mb} MB`, source, input: { kind: 'files', files } })).id, timeoutMs);
    const expected = countWords(corpus.files.map((file) => file.path));
    const result = await api.getResult(text.id);
    const problems: string[] = [];
    if (result.length !== expected.size) problems.push(`${result.length} words, expected ${expected.size}`);
    for (const [word, count] of result) if (expected.get(word as string) !== count) problems.push(`${JSON.stringify(word)}: ${JSON.stringify(count)}, expected ${expected.get(word as string)}`);
    const inputMb = corpus.totalBytes / MB;
    runs.push({
      job: 'text',
      tasks: text.tasks,
      mb: inputMb,
      uploadSeconds,
      uploadCpuSeconds,
      seconds: text.seconds,
      coordinatorCpuSeconds: text.cpu,
      tasksPerSecond: text.tasks / text.seconds,
      tasksPerCpuSecond: text.tasks / text.cpu,
      mbPerSecond: inputMb / text.seconds,
      mbPerCpuSecond: inputMb / text.cpu,
      problems: problems.slice(0, 5),
    });
  } finally {
    await stopChildren(children);
    await coordinator.stop().catch(() => {});
  }

  console.log(`\n── Issue 13, target 3: the coordinator alone, ${volunteers} Node volunteers in ${processes} processes (aim: ${TASKS_PER_CPU_SECOND_TARGET.toLocaleString('en')} tiny tasks per coordinator CPU second) ──`);
  console.log(
    table([
      ['job', 'tasks', 'wall s', 'coord. CPU s', 'tasks/s', 'tasks per CPU s', 'MB/s', 'MB per CPU s', 'verified'],
      ...runs.map((run) => [
        run.job === 'tiny' ? 'tiny tasks (one record each)' : `word count, ${fixed(run.mb, 1)} MB`,
        String(run.tasks),
        fixed(run.seconds, 2),
        fixed(run.coordinatorCpuSeconds, 2),
        fixed(run.tasksPerSecond, 0),
        fixed(run.tasksPerCpuSecond, 0),
        fixed(run.mbPerSecond, 1),
        fixed(run.mbPerCpuSecond, 1),
        run.problems.length === 0 ? 'yes' : `WRONG: ${run.problems.join('; ')}`,
      ]),
    ]),
  );
  const text = runs.find((run) => run.job === 'text');
  if (text) console.log(`(the word count's upload, before the job: ${fixed(text.uploadSeconds, 2)} s, ${fixed(text.uploadCpuSeconds, 2)} coordinator CPU s)`);
  const file = saveResults('coordinator-alone', { tasks, mb, volunteers, processes, runs });
  console.log(`saved ${path.relative(repoRoot, file)}`);
  if (runs.some((run) => run.problems.length > 0)) process.exitCode = 1;
}

await runMain(import.meta, main);
