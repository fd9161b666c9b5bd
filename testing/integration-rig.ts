/**
 * Helpers for the coordinator's integration tests: a real coordinator on port 0 and
 * real Socket.IO volunteers running the same client code as the browser tab.
 */
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach } from 'vitest';
import type { JobSummary } from '../shared/job.ts';
import { VOLUNTEER_NAMESPACE, type CoordinatorToVolunteerEvents, type VolunteerToCoordinatorEvents } from '../shared/protocol.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import type { TaskExecutor } from '../runtime/task-executor.ts';
import { VolunteerClient, type VolunteerState } from '../runtime/volunteer-client.ts';
import { startCoordinator, type Coordinator, type CoordinatorOptions } from '../server/coordinator.ts';
import { silentLogger } from '../server/logger.ts';

/** A coordinator on a free port; in memory unless `store` says otherwise, which keeps tests fast. */
export async function testCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  return startCoordinator({ port: 0, host: '127.0.0.1', store: 'memory', log: silentLogger, ...options });
}

/** What a test started and `stopAfterEach` stops: set `coordinator`, push to `volunteers`. */
export interface TestRig {
  coordinator: Coordinator | undefined;
  volunteers: TestVolunteer[];
}

/** Inside a describe: one rig per test, its volunteers stopped and its coordinator closed after each. */
export function stopAfterEach(): TestRig {
  const rig: TestRig = { coordinator: undefined, volunteers: [] };
  afterEach(async () => {
    for (const volunteer of rig.volunteers) volunteer.stop();
    rig.volunteers = [];
    await rig.coordinator?.close();
    rig.coordinator = undefined;
  });
  return rig;
}

export interface TestVolunteer {
  client: VolunteerClient;
  state(): VolunteerState;
  stop(): void;
}

export function startVolunteer(url: string, executor: TaskExecutor = new InProcessExecutor({ slots: 2 })): TestVolunteer {
  const client = new VolunteerClient({
    url,
    executor,
    agent: 'integration-test',
    socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 200 },
  });
  client.start();
  return {
    client,
    // The getter, not the last notification: listeners hear at the end of the turn.
    state: () => client.state,
    stop: () => {
      client.stop();
      executor.dispose();
    },
  };
}

/** A bare protocol client, for tests that must say things an honest volunteer never would. */
export type RawVolunteer = Socket<CoordinatorToVolunteerEvents, VolunteerToCoordinatorEvents>;

export async function rawVolunteer(url: string): Promise<RawVolunteer> {
  const socket: RawVolunteer = connect(url + VOLUNTEER_NAMESPACE, { transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

export async function api<T = unknown>(url: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const { json, ...rest } = init;
  const response = await fetch(url + path, {
    ...rest,
    ...(json !== undefined ? { body: JSON.stringify(json), headers: { 'content-type': 'application/json', ...rest.headers } } : {}),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: (type.includes('json') ? JSON.parse(text) : text) as T, headers: response.headers };
}

/** Polls until `check` returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function waitForJobEnd(url: string, id: string, timeoutMs = 20_000): Promise<JobSummary> {
  return waitFor(
    `job ${id} to end`,
    async () => {
      const { body } = await api<JobSummary>(url, `/api/jobs/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(body.state) ? body : undefined;
    },
    timeoutMs,
  );
}
