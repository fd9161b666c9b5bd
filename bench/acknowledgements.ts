/**
 * Issue 12, item 1: how many acknowledgements a coordinator loses when it is killed with
 * SIGKILL right after giving them. For each kind (a submit's 201, a cancel's 200, an
 * upload's 201, a volunteer's result receipt and failure receipt), --tries times: give
 * the acknowledgement, kill the coordinator at once, start it again on the same data
 * directory and look for what was acknowledged. One restart both checks the last try and
 * serves the next.
 *
 * Flags: --tries N (default 6), --repo DIR (the checkout whose coordinator runs, default
 * this one: point it at an older checkout to measure that). Prints a table; no cache.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import type { JobSummary, TaskSummary } from '../shared/job.ts';
import { holdOneTask, killHard } from '../testing/process-rig.ts';
import { Flags, repoRoot, runMain, table } from './lib.ts';

const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');
const TEXT = 'to be or not to be\n';

interface Kind {
  name: string;
  /** Gives the acknowledgement on a running coordinator; answers the check to run after the restart. */
  acknowledge(url: string): Promise<(url: string) => Promise<boolean>>;
}

async function call(url: string, route: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  const { json, ...rest } = init;
  const response = await fetch(url + route, json === undefined ? rest : { ...rest, body: JSON.stringify(json), headers: { 'content-type': 'application/json' } });
  const text = await response.text();
  return { status: response.status, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function submit(url: string, extra: Record<string, unknown> = {}, input: unknown = { kind: 'texts', files: [{ name: 'words.txt', text: TEXT }] }): Promise<string> {
  const { status, body } = await call(url, '/api/jobs', { method: 'POST', json: { name: 'acked', source: WORD_COUNT, input, reducers: 1, ...extra } });
  if (status !== 201) throw new Error(`submit answered ${status}: ${JSON.stringify(body)}`);
  return (body as { id: string }).id;
}

/** A job is stored before what follows is tried: a read commits it, on every version. */
async function submitted(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const id = await submit(url, extra);
  await call(url, `/api/jobs/${id}`);
  return id;
}

/** Cancels every unfinished job, so that the next try's volunteer leases a task of the next try's job. */
async function cancelUnfinished(url: string): Promise<void> {
  for (const job of (await call(url, '/api/jobs')).body as JobSummary[]) {
    if (!['succeeded', 'failed', 'cancelled'].includes(job.state)) await call(url, `/api/jobs/${job.id}`, { method: 'DELETE' });
  }
}

const stateOf = async (url: string, id: string) => ((await call(url, `/api/jobs/${id}`)).body as JobSummary).state;

const KINDS: Kind[] = [
  {
    name: 'submit (201)',
    async acknowledge(url) {
      const id = await submit(url);
      return async (after) => (await call(after, `/api/jobs/${id}`)).status === 200;
    },
  },
  {
    name: 'cancel (200)',
    async acknowledge(url) {
      const id = await submitted(url);
      const { status } = await call(url, `/api/jobs/${id}`, { method: 'DELETE' });
      if (status !== 200) throw new Error(`cancel answered ${status}`);
      return async (after) => (await stateOf(after, id)) === 'cancelled';
    },
  },
  {
    name: 'upload (201)',
    async acknowledge(url) {
      const { status, body } = await call(url, '/api/files?name=words.txt', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: TEXT });
      if (status !== 201) throw new Error(`upload answered ${status}`);
      const fileId = (body as { id: string }).id;
      return async (after) => (await call(after, '/api/jobs', { method: 'POST', json: { name: 'uses', source: WORD_COUNT, input: { kind: 'files', files: [{ fileId }] } } })).status === 201;
    },
  },
  {
    name: 'task:complete receipt',
    async acknowledge(url) {
      const id = await submitted(url);
      const held = await holdOneTask(url);
      const { taskId, leaseToken } = held.assignment;
      const receipt = await held.socket.emitWithAck('task:complete', { taskId, leaseToken, output: held.output });
      if (!receipt.ok) throw new Error(`task:complete refused: ${receipt.error.message}`);
      held.socket.disconnect();
      return async (after) => ((await call(after, `/api/jobs/${id}/tasks`)).body as TaskSummary[]).find((task) => task.id === taskId)?.status === 'done';
    },
  },
  {
    name: 'task:fail receipt',
    async acknowledge(url) {
      const id = await submitted(url, { maxAttempts: 1 });
      const held = await holdOneTask(url);
      const { taskId, leaseToken } = held.assignment;
      const receipt = await held.socket.emitWithAck('task:fail', { taskId, leaseToken, error: { name: 'Error', message: 'no' } });
      if (!receipt.ok) throw new Error(`task:fail refused: ${receipt.error.message}`);
      held.socket.disconnect();
      return async (after) => (await stateOf(after, id)) === 'failed';
    },
  },
];

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  const tries = flags.number('tries', 6, { integer: true, min: 1 });
  const repo = path.resolve(flags.string('repo', repoRoot));
  flags.rejectUnknown();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-bench-acks-'));
  const start = () => startCoordinatorProcess({ TABREDUCE_DATA_DIR: dataDir }, [], repo);
  let coordinator: CoordinatorProcess = await start();
  const rows: string[][] = [['acknowledgement', 'lost']];
  try {
    for (const kind of KINDS) {
      let lost = 0;
      for (let attempt = 0; attempt < tries; attempt++) {
        const check = await kind.acknowledge(coordinator.url);
        await killHard(coordinator);
        coordinator = await start();
        if (!(await check(coordinator.url))) lost++;
        await cancelUnfinished(coordinator.url);
      }
      rows.push([kind.name, `${lost} of ${tries}`]);
      console.log(`${kind.name}: ${lost} of ${tries} lost`);
    }
  } finally {
    await coordinator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`\nacknowledgements lost to a SIGKILL right after them (${repo}):`);
  console.log(table(rows));
}

await runMain(import.meta, main);
