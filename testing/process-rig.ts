/**
 * Helpers for tests against a real coordinator process (e2e/coordinator-process.ts): kill
 * it as a crash would, and hold a task as a volunteer would, with the answer computed by
 * the real task runtime, so a test decides the moment the answer is sent. Free of vitest,
 * so that a benchmark (bench/acknowledgements.ts) can use it too.
 */
import { once } from 'node:events';
import { io as connect } from 'socket.io-client';
import type { CoordinatorProcess } from '../e2e/coordinator-process.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import { VOLUNTEER_NAMESPACE, type TaskAssignment, type TaskOutput } from '../shared/protocol.ts';
import type { RawVolunteer } from './integration-rig.ts';

/** SIGKILL, as a crash or the OOM killer would: no handler runs, nothing is flushed. */
export async function killHard(coordinator: CoordinatorProcess): Promise<void> {
  if (coordinator.child.exitCode !== null || coordinator.child.signalCode !== null) return;
  const exited = once(coordinator.child, 'exit');
  coordinator.child.kill('SIGKILL');
  await exited;
}

export interface HeldTask {
  socket: RawVolunteer;
  assignment: TaskAssignment;
  /** The task's real output, computed but not sent. */
  output: TaskOutput;
}

/** Connects a volunteer, leases one task of whatever job is running, and runs it without answering yet. */
export async function holdOneTask(url: string): Promise<HeldTask> {
  const socket: RawVolunteer = connect(url + VOLUNTEER_NAMESPACE, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const hello = await socket.emitWithAck('volunteer:hello', { agent: 'process-rig', slots: 1 });
  if (!hello.ok) throw new Error(`hello refused: ${hello.error.message}`);
  const leased = await socket.emitWithAck('task:request', { max: 1 });
  const assignment = leased.ok ? leased.value.tasks[0] : undefined;
  if (!assignment) throw new Error(`no task leased: ${JSON.stringify(leased)}`);
  const source = await socket.emitWithAck('job:source', { jobId: assignment.jobId });
  if (!source.ok) throw new Error(`job:source refused: ${source.error.message}`);
  const executor = new InProcessExecutor();
  try {
    return { socket, assignment, output: await executor.run(assignment, source.value, new AbortController().signal) };
  } finally {
    executor.dispose();
  }
}
