/**
 * `npm run bench:recovery`: how long each kind of fault takes to recover from, measured
 * from the fault to the lost task running on another volunteer. Real coordinator (in
 * process), real Socket.IO volunteers running the tab's client code on Node.
 *
 *   tab closed            the volunteer's connection drops mid-task
 *   tab frozen            the volunteer stops answering and renewing (lease expiry)
 *   job code throws       the task fails and is retried (backoff)
 *   coordinator restart   a new coordinator on the same data directory and port:
 *                         time until a volunteer that was connected is working again
 *
 * Lease and timeout lengths are the coordinator's defaults unless given: --lease-ms N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import {
  VOLUNTEER_NAMESPACE,
  type CoordinatorToVolunteerEvents,
  type JobSourceReply,
  type TaskAssignment,
  type TaskOutput,
  type VolunteerToCoordinatorEvents,
} from '../shared/protocol.ts';
import { startCoordinator, type Coordinator } from '../server/coordinator.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import { taskRevoked, type TaskExecutor } from '../runtime/task-executor.ts';
import { VolunteerClient, type VolunteerState } from '../runtime/volunteer-client.ts';
import { silentLogger } from '../server/logger.ts';

const leaseMs = Number(process.argv.find((arg) => arg.startsWith('--lease-ms='))?.split('=')[1] ?? 30_000);
const SOURCE = `export function* map(k) { yield [k % 7, 1]; }\nexport function reduce(k, vs) { return vs.length; }`;

/** Takes tasks and never finishes them; tells when it got one. */
class StuckExecutor implements TaskExecutor {
  readonly slots = 1;
  taken: ((taskId: string) => void) | undefined;
  run(assignment: TaskAssignment, _job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    this.taken?.(assignment.taskId);
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(taskRevoked())));
  }
  resize(): void {}
  dispose(): void {}
}

/** Records when each task was handed to it, then runs it. */
class WatchingExecutor extends InProcessExecutor {
  readonly started = new Map<string, number>();
  override run(assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    if (!this.started.has(assignment.taskId)) this.started.set(assignment.taskId, performance.now());
    return super.run(assignment, job, signal);
  }
}

function volunteer(url: string, executor: TaskExecutor): { client: VolunteerClient; state: () => VolunteerState | undefined } {
  let state: VolunteerState | undefined;
  const client = new VolunteerClient({ url, executor, agent: 'recovery-bench', onChange: (next) => (state = next), socketOptions: { transports: ['websocket'] } });
  client.start();
  return { client, state: () => state };
}

async function until<T>(check: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function submit(coordinator: Coordinator, source = SOURCE, to = 2): Promise<string> {
  const response = await fetch(`${coordinator.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'recovery', source, input: { kind: 'range', from: 0, to }, recordsPerTask: 1, reducers: 1 }),
  });
  return ((await response.json()) as { id: string }).id;
}

/** A tab closes while it holds a task: ms from the close to the task starting elsewhere. */
async function measureClosed(): Promise<number> {
  const coordinator = await startCoordinator({ port: 0, store: 'memory', leaseMs, log: silentLogger });
  const stuck = new StuckExecutor();
  const gotTask = new Promise<string>((resolve) => (stuck.taken = resolve));
  const victim = volunteer(coordinator.url, stuck);
  await until(() => victim.state()?.connected);
  await submit(coordinator, SOURCE, 1);
  const taskId = await gotTask;
  const healthy = new WatchingExecutor({ slots: 1 });
  const rescuer = volunteer(coordinator.url, healthy);
  await until(() => rescuer.state()?.connected);
  const faultAt = performance.now();
  victim.client.stop();
  const startedAt = await until(() => healthy.started.get(taskId));
  rescuer.client.stop();
  await coordinator.close();
  return startedAt - faultAt;
}

/**
 * A tab freezes while it holds a task: its socket stays open but it neither answers nor
 * renews. ms from the moment it took the task (its last sign of life) to the task
 * starting elsewhere.
 */
async function measureFrozen(): Promise<number> {
  const coordinator = await startCoordinator({ port: 0, store: 'memory', leaseMs, log: silentLogger });
  const frozen: Socket<CoordinatorToVolunteerEvents, VolunteerToCoordinatorEvents> = connect(coordinator.url + VOLUNTEER_NAMESPACE, { transports: ['websocket'], forceNew: true });
  await frozen.emitWithAck('volunteer:hello', { agent: 'frozen', slots: 1 });
  await submit(coordinator, SOURCE, 1);
  const reply = await frozen.emitWithAck('task:request', { max: 1 });
  const faultAt = performance.now();
  const taskId = reply.ok ? reply.value.tasks[0]!.taskId : '';
  const healthy = new WatchingExecutor({ slots: 1 });
  const rescuer = volunteer(coordinator.url, healthy);
  const startedAt = await until(() => healthy.started.get(taskId), leaseMs + 60_000);
  rescuer.client.stop();
  frozen.disconnect();
  await coordinator.close();
  return startedAt - faultAt;
}

async function measureThrow(): Promise<number> {
  const coordinator = await startCoordinator({ port: 0, store: 'memory', log: silentLogger });
  const executor = new WatchingExecutor({ slots: 1 });
  const attempts: number[] = [];
  const original = executor.run.bind(executor);
  executor.run = (assignment, job, signal) => {
    attempts.push(performance.now());
    return original(assignment, job, signal);
  };
  const worker = volunteer(coordinator.url, executor);
  await until(() => worker.state()?.connected);
  await submit(coordinator, `export function* map(k) { throw new Error('always'); }\nexport function reduce() {}`, 1);
  await until(() => attempts.length >= 2);
  worker.client.stop();
  await coordinator.close();
  return attempts[1]! - attempts[0]!;
}

async function measureRestart(): Promise<number> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-recovery-'));
  let coordinator = await startCoordinator({ port: 0, dataDir, store: 'sqlite', log: silentLogger });
  const port = coordinator.config.port;
  const executor = new WatchingExecutor({ slots: 1 });
  const worker = volunteer(coordinator.url, executor);
  await until(() => worker.state()?.connected);
  const downAt = performance.now();
  await coordinator.close();
  coordinator = await startCoordinator({ port, dataDir, store: 'sqlite', log: silentLogger });
  await until(() => worker.state()?.connected);
  const jobId = await submit(coordinator, SOURCE, 1);
  await until(() => executor.started.get(`${jobId}/map/0`));
  const back = performance.now() - downAt;
  worker.client.stop();
  await coordinator.close();
  rmSync(dataDir, { recursive: true, force: true });
  return back;
}

const rows: [string, number, string][] = [];
rows.push(['tab closed mid-task', await measureClosed(), 'requeued at the disconnect; retry backoff 250 ms, then the next sweep (<= 200 ms) wakes an idle volunteer']);
rows.push(['tab frozen mid-task', await measureFrozen(), `a backup copy on an idle volunteer after 5 s; with none idle, lease expiry (${leaseMs} ms) + sweep (<= 200 ms)`]);
rows.push(['job code throws', await measureThrow(), 'retried after the first backoff (250 ms)']);
rows.push(['coordinator restarted', await measureRestart(), 'Socket.IO reconnection delay (1 s, randomised) plus a new welcome']);
console.log(`recovery (lease ${leaseMs} ms):`);
for (const [fault, ms, why] of rows) console.log(`  ${fault.padEnd(24)} ${ms.toFixed(0).padStart(7)} ms   ${why}`);
process.exit(0);
