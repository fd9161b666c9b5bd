/**
 * The volunteer client against a tiny fake coordinator: a real Socket.IO server on port 0
 * speaking just enough of shared/protocol.ts, and real socket.io-client connections, so
 * the wire format (including binary attachments) is exercised end to end.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { unpackParts } from '../shared/byte-packing.ts';
import type { PartitionBlock } from '../shared/job.ts';
import { partitionOf } from '../shared/partition.ts';
import { packTaskBatch, unpackReports } from '../shared/task-batch.ts';
import {
  VOLUNTEER_NAMESPACE,
  type CoordinatorToVolunteerEvents,
  type JobSourceReply,
  type LeaseRef,
  type TaskAssignment,
  type TaskCompletion,
  type TaskFailure,
  type TaskOutput,
  type VolunteerHello,
  type VolunteerToCoordinatorEvents,
} from '../shared/protocol.ts';
import { TaskRunError } from './task-error.ts';
import type { StartHeartbeat } from './heartbeat.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import type { TaskExecutor } from './task-executor.ts';
import { VolunteerClient } from './volunteer-client.ts';
import { MAX_BATCH } from './work-demand.ts';

type CoordinatorSocket = ServerSocket<VolunteerToCoordinatorEvents, CoordinatorToVolunteerEvents>;

/** Just enough coordinator: hands out queued tasks and records everything volunteers say. */
class FakeCoordinator {
  readonly hellos: VolunteerHello[] = [];
  readonly requests: number[] = [];
  readonly sourceRequests: string[] = [];
  readonly completions: TaskCompletion[] = [];
  readonly failures: TaskFailure[] = [];
  /** Ends per `tasks:report`, in the order they came. */
  readonly reports: number[] = [];
  readonly renewals: LeaseRef[][] = [];
  readonly slotUpdates: number[] = [];
  readonly returned: LeaseRef[][] = [];
  /** Runs before a task:request is answered: the place to change the client's mind mid-request. */
  beforeAnswer: (() => void) | undefined;
  readonly sockets: CoordinatorSocket[] = [];
  /** Tasks handed out on the next requests, in order. */
  readonly queue: TaskAssignment[] = [];
  readonly jobs = new Map<string, JobSourceReply>();
  /** Task ids whose renewal answers "lost". */
  readonly lostLeases = new Set<string>();

  private constructor(
    readonly io: Server,
    readonly url: string,
    readonly leaseMs: number,
  ) {
    io.of(VOLUNTEER_NAMESPACE).on('connection', (socket: CoordinatorSocket) => {
      this.sockets.push(socket);
      socket.on('volunteer:hello', (hello, ack) => {
        this.hellos.push(hello);
        ack({ ok: true, value: { volunteerId: `v${this.hellos.length}`, leaseMs: this.leaseMs } });
      });
      socket.on('volunteer:slots', ({ slots }) => this.slotUpdates.push(slots));
      socket.on('task:return', ({ leases }, ack) => {
        this.returned.push(leases);
        ack({ ok: true, value: { returned: leases.map((lease) => lease.taskId) } });
      });
      socket.on('tasks:claim', ({ max }, ack) => {
        this.requests.push(max);
        this.beforeAnswer?.();
        ack({ ok: true, value: packTaskBatch(this.queue.splice(0, max)) });
      });
      socket.on('job:source', ({ jobId }, ack) => {
        this.sourceRequests.push(jobId);
        const job = this.jobs.get(jobId);
        ack(job ? { ok: true, value: job } : { ok: false, error: { code: 'NOT_FOUND', message: `no job ${jobId}` } });
      });
      socket.on('tasks:report', (report, ack) => {
        this.reports.push(report.results.length);
        const next = report.next ?? 0;
        for (const { end } of unpackReports(report)) {
          if (!end) throw new Error('the client packed a report wrong');
          // Each end as its own completion or failure, the report's `next` on each, for the assertions.
          if ('output' in end) this.completions.push({ taskId: end.taskId, leaseToken: end.leaseToken, output: end.output, next });
          else this.failures.push({ taskId: end.taskId, leaseToken: end.leaseToken, error: end.error, next });
        }
        ack({ ok: true, value: { ...packTaskBatch(this.queue.splice(0, next)), outcomes: report.results.map(() => null) } });
      });
      socket.on('task:renew', ({ leases }, ack) => {
        this.renewals.push(leases);
        const ids = leases.map((lease) => lease.taskId);
        ack({
          ok: true,
          value: { renewed: ids.filter((id) => !this.lostLeases.has(id)), lost: ids.filter((id) => this.lostLeases.has(id)) },
        });
      });
    });
  }

  static async start(leaseMs = 30_000): Promise<FakeCoordinator> {
    const http = createServer();
    const io = new Server(http, { maxHttpBufferSize: 16 * 1024 * 1024 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    return new FakeCoordinator(io, `http://127.0.0.1:${port}`, leaseMs);
  }

  get latest(): CoordinatorSocket {
    return this.sockets.at(-1)!;
  }

  addJob(job: JobSourceReply): void {
    this.jobs.set(job.jobId, job);
  }

  /** Queues a task and tells connected volunteers, as the real coordinator would. */
  offer(...tasks: TaskAssignment[]): void {
    this.queue.push(...tasks);
    this.io.of(VOLUNTEER_NAMESPACE).emit('work:available');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.io.close(() => resolve()));
  }
}

/** A TaskExecutor whose runs finish only when the test says so, or reject when aborted. */
class HeldExecutor implements TaskExecutor {
  slots = 1;
  readonly runs: { assignment: TaskAssignment; signal: AbortSignal; finish: (output: TaskOutput) => void }[] = [];

  run(assignment: TaskAssignment, _job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new TaskRunError({ name: 'TaskRevoked', message: 'aborted' })));
      this.runs.push({ assignment, signal, finish: resolve });
    });
  }

  resize(slots: number): void {
    this.slots = slots;
  }

  dispose(): void {}
}

/** A HeldExecutor whose slots take tasks in the order given, the rest waiting their turn, as the worker pool's do. */
class QueueingExecutor extends HeldExecutor {
  readonly #ended = new Set<string>();

  override run(assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    const running = super.run(assignment, job, signal);
    const end = () => this.#ended.add(assignment.taskId);
    running.then(end, end);
    return running;
  }

  unstarted(): string[] {
    return this.runs.filter((run) => !run.signal.aborted && !this.#ended.has(run.assignment.taskId)).slice(this.slots).map((run) => run.assignment.taskId);
  }
}

const WORD_COUNT: JobSourceReply = {
  jobId: 'job-wc',
  name: 'word count',
  digest: 'sha256-wc',
  source: `
export function* map(key, value) { for (const w of value.split(/[^\\p{L}]+/u)) if (w) yield [w, 1]; }
export function reduce(key, values) { return values.reduce((a, b) => a + b, 0); }
export const combine = reduce;
`,
};

const FAILING: JobSourceReply = {
  jobId: 'job-bad',
  name: 'broken job',
  digest: 'sha256-bad',
  source: `export function* map() { throw new RangeError('the map is broken'); }\nexport function reduce() { return 0; }`,
};

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: unknown): unknown => JSON.parse(new TextDecoder().decode(bytes as Uint8Array));

function mapTask(taskId: string, job: JobSourceReply, text: string, partitions = 3): TaskAssignment {
  return {
    kind: 'map',
    taskId,
    jobId: job.jobId,
    index: 0,
    leaseToken: `lease-${taskId}`,
    sourceDigest: job.digest,
    timeoutMs: 60_000,
    partitions,
    input: { format: 'text', key: 'a.txt', bytes: new TextEncoder().encode(text) },
  };
}

function reduceTask(taskId: string, job: JobSourceReply, blocks: PartitionBlock[]): TaskAssignment {
  return {
    kind: 'reduce',
    taskId,
    jobId: job.jobId,
    index: 0,
    leaseToken: `lease-${taskId}`,
    sourceDigest: job.digest,
    timeoutMs: 60_000,
    partition: 0,
    blocks: encode(blocks),
  };
}

describe('VolunteerClient', () => {
  let coordinator: FakeCoordinator | undefined;
  let client: VolunteerClient | undefined;

  const connect = async (executor: TaskExecutor, options: { leaseMs?: number; heartbeat?: StartHeartbeat } = {}) => {
    coordinator = await FakeCoordinator.start(options.leaseMs);
    client = new VolunteerClient({
      url: coordinator.url,
      executor,
      agent: 'vitest',
      helloRetryMs: 50,
      ...(options.heartbeat ? { heartbeat: options.heartbeat } : {}),
      socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50 },
    });
    client.start();
    await vi.waitFor(() => expect(client!.state.connection).toBe('connected'));
    return { coordinator, client };
  };

  afterEach(async () => {
    client?.stop();
    await coordinator?.close();
    client = undefined;
    coordinator = undefined;
  });

  test('says hello, runs a word-count map task and sends its partitions as binary', async () => {
    const states: string[] = [];
    const { coordinator, client } = await connect(new InProcessExecutor({ slots: 2 }));
    client.subscribe((state) => states.push(`${state.running}/${state.tasksDone}`));
    expect(coordinator.hellos).toEqual([{ agent: 'vitest', slots: 2 }]);
    expect(client.state).toMatchObject({ connected: true, volunteerId: 'v1', slots: 2, tasksDone: 0 });

    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('m0', WORD_COUNT, 'the cat and the hat\nthe end'));
    await vi.waitFor(() => expect(client.state.tasksDone).toBe(1));

    const [completion] = coordinator.completions;
    expect(completion).toMatchObject({ taskId: 'm0', leaseToken: 'lease-m0', output: { kind: 'map' } });
    const { blocks, offsets } = completion!.output as Extract<TaskOutput, { kind: 'map' }>;
    // Binary went through as a Socket.IO attachment, not as a JSON array of numbers.
    expect(blocks).toBeInstanceOf(Uint8Array);
    const partitions = unpackParts(blocks as Uint8Array, offsets);
    expect(partitions).toHaveLength(3);
    const counts: Record<string, unknown> = {};
    partitions.forEach((bytes, partition) => {
      for (const [key, values] of decode(bytes) as PartitionBlock) {
        expect(partitionOf(key, 3)).toBe(partition);
        counts[key as string] = values;
      }
    });
    expect(counts).toEqual({ the: [3], cat: [1], and: [1], hat: [1], end: [1] });
    expect(states).toContain('1/0');
    expect(client.state.running).toBe(0);
  });

  test('tiny tasks come and go by the batch: hundreds claimed at once, their ends in a few reports', async () => {
    // An executor that says its tasks take 10 µs: the client then holds a full batch per slot.
    class TinyTasks extends InProcessExecutor {
      override get taskMs(): number {
        return 0.01;
      }
    }
    const { coordinator, client } = await connect(new TinyTasks({ slots: 1 }));
    coordinator.addJob(WORD_COUNT);
    const tasks = Array.from({ length: 300 }, (_, i) => mapTask(`m${i}`, WORD_COUNT, `word${i}`));
    coordinator.offer(...tasks);
    await vi.waitFor(() => expect(client.state.tasksDone).toBe(300));
    expect(Math.max(...coordinator.requests)).toBe(2 * MAX_BATCH);
    expect(coordinator.completions.map((completion) => completion.taskId).sort()).toEqual(tasks.map((task) => task.taskId).sort());
    expect(coordinator.reports.reduce((sum, ends) => sum + ends, 0)).toBe(300);
    expect(coordinator.reports.length).toBeLessThanOrEqual(3);
  });

  test('runs a reduce task and sends sorted pairs', async () => {
    const { coordinator, client } = await connect(new InProcessExecutor());
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(reduceTask('r0', WORD_COUNT, [[['b', [1]], [2, [5]]], [['a', [2]], ['b', [3]]]]));
    await vi.waitFor(() => expect(client.state.tasksDone).toBe(1));
    const { output } = coordinator.completions[0]!;
    expect(output.kind).toBe('reduce');
    expect(decode((output as Extract<TaskOutput, { kind: 'reduce' }>).pairs)).toEqual([[2, 5], ['a', 2], ['b', 4]]);
  });

  test('fetches a job source once for concurrent tasks', async () => {
    const { coordinator, client } = await connect(new InProcessExecutor({ slots: 3 }));
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('m1', WORD_COUNT, 'one'), mapTask('m2', WORD_COUNT, 'two'), mapTask('m3', WORD_COUNT, 'three'));
    await vi.waitFor(() => expect(client.state.tasksDone).toBe(3));
    expect(coordinator.sourceRequests).toEqual(['job-wc']);
  });

  test('reports a failing task with its error and keeps working', async () => {
    const { coordinator, client } = await connect(new InProcessExecutor());
    coordinator.addJob(FAILING);
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('bad', FAILING, 'x'));
    await vi.waitFor(() => expect(coordinator.failures).toHaveLength(1));
    expect(coordinator.failures[0]).toMatchObject({
      taskId: 'bad',
      leaseToken: 'lease-bad',
      error: { name: 'RangeError', message: expect.stringContaining('the map is broken (in map of record #0') },
    });
    expect(coordinator.failures[0]!.error.stack).toContain('the map is broken');
    await vi.waitFor(() => expect(client.state.tasksFailed).toBe(1));
    expect(client.state.lastError).toContain('the map is broken');

    coordinator.offer(mapTask('good', WORD_COUNT, 'fine'));
    await vi.waitFor(() => expect(client.state.tasksDone).toBe(1));
  });

  test('a task of an unknown job fails as JobSourceUnavailable', async () => {
    const { coordinator } = await connect(new InProcessExecutor());
    coordinator.offer(mapTask('orphan', { ...WORD_COUNT, jobId: 'job-gone' }, 'x'));
    await vi.waitFor(() => expect(coordinator.failures).toHaveLength(1));
    expect(coordinator.failures[0]!.error).toMatchObject({ name: 'JobSourceUnavailable', message: expect.stringContaining('NOT_FOUND') });
  });

  test('holds at most two tasks per slot, and asks for the next one with the result that frees room', async () => {
    const executor = new HeldExecutor();
    executor.slots = 2;
    const { coordinator } = await connect(executor);
    coordinator.addJob(WORD_COUNT);
    const offered = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => mapTask(id, WORD_COUNT, id));
    coordinator.offer(...offered);
    await vi.waitFor(() => expect(executor.runs).toHaveLength(4));
    expect(coordinator.requests.every((max) => max <= 4)).toBe(true);
    expect(coordinator.queue).toHaveLength(2);
    const requestsBefore = coordinator.requests.length;
    executor.runs[0]!.finish({ kind: 'reduce', pairs: encode([]) });
    await vi.waitFor(() => expect(executor.runs).toHaveLength(5));
    expect(coordinator.completions.at(-1)?.next).toBe(1);
    // The new task came with the result's receipt: no separate request.
    expect(coordinator.requests).toHaveLength(requestsBefore);
    expect(coordinator.queue).toHaveLength(1);
  });

  test('renews leases of running tasks and drops a task whose lease was lost', async () => {
    const executor = new HeldExecutor();
    const { coordinator, client } = await connect(executor, { leaseMs: 150 });
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('slow', WORD_COUNT, 'x'));
    await vi.waitFor(() => expect(coordinator.renewals.length).toBeGreaterThanOrEqual(2));
    expect(coordinator.renewals[0]).toEqual([{ taskId: 'slow', leaseToken: 'lease-slow' }]);
    expect(client.state.currentJobs).toEqual(['word count']);

    coordinator.lostLeases.add('slow');
    await vi.waitFor(() => expect(executor.runs[0]!.signal.aborted).toBe(true));
    await vi.waitFor(() => expect(client.state.running).toBe(0));
    // Prove nothing was reported: a later task's completion arrives on the same ordered connection.
    coordinator.offer(mapTask('next', WORD_COUNT, 'y'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(2));
    executor.runs[1]!.finish({ kind: 'reduce', pairs: encode([]) });
    await vi.waitFor(() => expect(coordinator.completions).toHaveLength(1));
    expect(coordinator.completions.map((c) => c.taskId)).toEqual(['next']);
    expect(coordinator.failures).toEqual([]);
  });

  test('renewal follows the heartbeat it is given, not timers of its own', async () => {
    // A beat the test fires by hand: as a worker heartbeat would in a tab whose own
    // timers Chromium throttles to once a minute.
    const beats: { everyMs: number; beat: () => void; stopped: boolean }[] = [];
    const manualHeartbeat: StartHeartbeat = (everyMs, beat) => {
      const entry = { everyMs, beat, stopped: false };
      beats.push(entry);
      return { stop: () => (entry.stopped = true) };
    };
    const executor = new HeldExecutor();
    const { coordinator, client } = await connect(executor, { leaseMs: 30_000, heartbeat: manualHeartbeat });
    expect(beats).toHaveLength(1);
    expect(beats[0]!.everyMs).toBe(10_000);
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('held', WORD_COUNT, 'x'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(1));

    beats[0]!.beat();
    await vi.waitFor(() => expect(coordinator.renewals).toEqual([[{ taskId: 'held', leaseToken: 'lease-held' }]]));
    beats[0]!.beat();
    await vi.waitFor(() => expect(coordinator.renewals).toHaveLength(2));

    // A new connection gets a new beat; the old one is stopped.
    coordinator.latest.disconnect();
    await vi.waitFor(() => expect(beats).toHaveLength(2));
    expect(beats[0]!.stopped).toBe(true);
    client.stop();
    expect(beats[1]!.stopped).toBe(true);
  });

  test('a burst of beats sends one renewal at a time', async () => {
    let beat: () => void = () => {};
    const executor = new HeldExecutor();
    const { coordinator } = await connect(executor, {
      heartbeat: (_everyMs, onBeat) => {
        beat = onBeat;
        return { stop() {} };
      },
    });
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('held', WORD_COUNT, 'x'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(1));
    // What a tab resumed after a freeze sees: its worker's queued beats all at once.
    // The first beat sends synchronously and marks the renewal in flight, so the other
    // nine are skipped on the spot.
    for (let i = 0; i < 10; i++) beat();
    await vi.waitFor(() => expect(coordinator.renewals).toHaveLength(1));
    // Once the answer is in, beats renew again.
    await vi.waitFor(() => {
      beat();
      expect(coordinator.renewals.length).toBeGreaterThanOrEqual(2);
    });
  });

  test('counts as running only what a worker started; the task held ahead is waiting', async () => {
    const executor = new QueueingExecutor();
    const { coordinator, client } = await connect(executor);
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('first', WORD_COUNT, 'x'), mapTask('next', WORD_COUNT, 'y'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(2));
    expect(client.state).toMatchObject({ running: 1, waiting: 1, slots: 1 });
    executor.runs[0]!.finish({ kind: 'reduce', pairs: encode([]) });
    await vi.waitFor(() => expect(client.state).toMatchObject({ running: 1, waiting: 0 }));
  });

  test('asked to yield, it hands back the last task waiting for a slot and keeps running the one it started', async () => {
    const executor = new QueueingExecutor();
    const { coordinator } = await connect(executor);
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('running', WORD_COUNT, 'x'), mapTask('waiting', WORD_COUNT, 'y'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(2));
    coordinator.latest.emit('tasks:yield', { max: 0 }); // malformed: ignored
    coordinator.latest.emit('tasks:yield', { max: 1 });
    await vi.waitFor(() => expect(coordinator.returned.flat().map((lease) => lease.taskId)).toEqual(['waiting']));
    expect(executor.runs[1]!.signal.aborted).toBe(true);
    expect(executor.runs[0]!.signal.aborted).toBe(false);
    executor.runs[0]!.finish({ kind: 'reduce', pairs: encode([]) });
    await vi.waitFor(() => expect(coordinator.completions.map((completion) => completion.taskId)).toEqual(['running']));
  });

  test('a revoked task is aborted and never reported', async () => {
    const executor = new HeldExecutor();
    const { coordinator, client } = await connect(executor);
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('doomed', WORD_COUNT, 'x'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(1));
    coordinator.latest.emit('task:revoke', { taskIds: ['doomed'], reason: 'job cancelled' });
    await vi.waitFor(() => expect(executor.runs[0]!.signal.aborted).toBe(true));
    expect(client.state.running).toBe(0);

    coordinator.offer(mapTask('after', WORD_COUNT, 'y'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(2));
    executor.runs[1]!.finish({ kind: 'reduce', pairs: encode([]) });
    await vi.waitFor(() => expect(coordinator.completions).toHaveLength(1));
    expect(coordinator.completions[0]!.taskId).toBe('after');
    expect(coordinator.failures).toEqual([]);
    expect(client.state.tasksFailed).toBe(0);
  });

  test('on a dropped connection it aborts running tasks, reconnects, says hello again and resumes', async () => {
    const executor = new HeldExecutor();
    const { coordinator, client } = await connect(executor);
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('inflight', WORD_COUNT, 'x'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(1));

    coordinator.latest.conn.close(); // a network drop, not a polite disconnect
    await vi.waitFor(() => expect(executor.runs[0]!.signal.aborted).toBe(true));
    await vi.waitFor(() => expect(coordinator.hellos).toHaveLength(2));
    await vi.waitFor(() => expect(client.state).toMatchObject({ connection: 'connected', volunteerId: 'v2' }));

    coordinator.offer(mapTask('fresh', WORD_COUNT, 'y'));
    await vi.waitFor(() => expect(executor.runs).toHaveLength(2));
    executor.runs[0]!.finish({ kind: 'reduce', pairs: encode([]) }); // too late: must not be reported
    executor.runs[1]!.finish({ kind: 'reduce', pairs: encode([]) });
    await vi.waitFor(() => expect(coordinator.completions).toHaveLength(1));
    expect(coordinator.completions[0]!.taskId).toBe('fresh');
  });

  test('comes back after the server closes the socket on purpose', async () => {
    const { coordinator, client } = await connect(new InProcessExecutor());
    const seen: string[] = [];
    client.subscribe((state) => seen.push(state.connection));
    coordinator.latest.disconnect(true);
    await vi.waitFor(() => expect(coordinator.hellos).toHaveLength(2));
    await vi.waitFor(() => expect(client.state.connection).toBe('connected'));
    expect(seen).toContain('disconnected');
    coordinator.addJob(WORD_COUNT);
    coordinator.offer(mapTask('again', WORD_COUNT, 'z'));
    await vi.waitFor(() => expect(client.state.tasksDone).toBe(1));
  });

  test('setSlots resizes the executor and tells the coordinator', async () => {
    const executor = new InProcessExecutor({ slots: 1 });
    const { coordinator, client } = await connect(executor);
    client.setSlots(3);
    expect(executor.slots).toBe(3);
    expect(client.state.slots).toBe(3);
    await vi.waitFor(() => expect(coordinator.slotUpdates).toEqual([3]));
  });

  test('stop disconnects and reports disconnected', async () => {
    const { coordinator, client } = await connect(new InProcessExecutor());
    const socket = coordinator.latest;
    client.stop();
    expect(client.state.connection).toBe('disconnected');
    await vi.waitFor(() => expect(socket.connected).toBe(false));
  });

  test('tasks that arrive after a pause, asked for before it, go straight back unrun', async () => {
    const executor = new HeldExecutor();
    const { coordinator, client } = await connect(executor);
    coordinator.addJob(WORD_COUNT);
    coordinator.beforeAnswer = () => client.pause('paused mid-request');
    coordinator.offer(mapTask('t1', WORD_COUNT, 'a b'), mapTask('t2', WORD_COUNT, 'c d'));
    await vi.waitFor(() => expect(coordinator.returned.flat().map((lease) => lease.taskId).sort()).toEqual(['t1', 't2']));
    expect(executor.runs).toEqual([]);
    expect(client.state.running).toBe(0);
    expect(client.state.pausedBecause).toEqual(['paused mid-request']);
  });
});
