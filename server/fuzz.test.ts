/**
 * Hostile input, seeded and bounded: thousands of malformed, oversized, out-of-order
 * and replayed volunteer messages and HTTP requests against one coordinator. Every one
 * must be refused with an error ack or a 4xx (never a 5xx, never silence), abusive
 * connections must be dropped, and afterwards the coordinator must still run a real job
 * to the exact answer with its memory back near where it started.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Ack } from '../shared/protocol.ts';
import type { KeyValue } from '../shared/job.ts';
import { api, rawVolunteer, startVolunteer, stopAfterEach, testCoordinator, waitFor, waitForJobEnd, type RawVolunteer } from '../testing/integration-rig.ts';

const SEED = 20261130;
const SOCKET_MESSAGES = 8000;
const HTTP_REQUESTS = 2500;
/** Messages per connection: below the abuse limit, so every one is answered. */
const PER_CONNECTION = 40;
const MAX_BODY_BYTES = 64 * 1024;

/** mulberry32: small, fast, and the same sequence on every machine. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

/** Any JSON-ish value, sometimes deep, sometimes huge. */
function junk(r: Random, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return r.next() * 1e9 - 5e8;
    case 2: return r.pick([true, false, Number.NaN, -0, 2 ** 60]);
    case 3: return 'x'.repeat(r.pick([0, 1, 40, 1000, 200_000]));
    case 4: return r.pick(['', '../../etc/passwd', '<script>', '\u0000', '💥', 'job-1/map/0']);
    case 5: return new Uint8Array(r.pick([0, 3, 1024, 300_000])).map(() => r.int(256));
    case 6: return Array.from({ length: r.int(5) }, () => junk(r, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: r.int(5) }, (_, i) => [r.pick(['kind', 'taskId', 'leaseToken', 'output', 'max', 'slots', `k${i}`, '__proto__']), junk(r, depth + 1)]));
    default: return { kind: r.pick(['map', 'reduce', 'other']), blocks: junk(r, depth + 1), offsets: junk(r, depth + 1), pairs: junk(r, depth + 1) };
  }
}

const EVENTS = ['volunteer:hello', 'task:request', 'task:complete', 'task:fail', 'task:renew', 'job:source', 'volunteer:bye', 'admin:submit', 'job:cancel'] as const;

/** A message an honest volunteer would never send: wrong shape, wrong ids, or too early. */
function badMessage(r: Random, taskIds: string[]): [string, unknown] {
  const event = r.pick(EVENTS);
  const id = () => r.pick([...taskIds, 'job-nope/map/0', 'x'.repeat(300), '']);
  switch (r.int(6)) {
    case 0: return [event, junk(r)];
    case 1: return ['task:complete', { taskId: id(), leaseToken: 'forged-token', output: { kind: r.pick(['map', 'reduce']), blocks: junk(r), offsets: [0, r.int(1e9)], pairs: junk(r) } }];
    case 2: return ['task:complete', { taskId: id(), leaseToken: 'forged-token', output: { kind: 'map', blocks: new Uint8Array(8), offsets: [0, 4, 8] } }];
    case 3: return ['task:fail', { taskId: id(), leaseToken: 'forged', error: { name: junk(r), message: junk(r) } }];
    case 4: return ['task:renew', { leases: Array.from({ length: r.pick([1, 50, 500]) }, () => ({ taskId: id(), leaseToken: 'forged' })) }];
    default: return [r.pick(['volunteer:hello', 'task:request']), { slots: r.pick([-1, 1e6, 2.5, '4']), max: r.pick([0, -5, 1e9, 'all']), agent: junk(r) }];
  }
}

function emitWithAck(socket: RawVolunteer, event: string, payload: unknown): Promise<Ack<unknown> | 'dropped'> {
  return new Promise((resolve) => {
    const onDisconnect = () => resolve('dropped');
    socket.once('disconnect', onDisconnect);
    (socket as unknown as { timeout(ms: number): { emit(event: string, payload: unknown, ack: (err: unknown, reply: Ack<unknown>) => void): void } })
      .timeout(10_000)
      .emit(event, payload, (error, reply) => {
        socket.off('disconnect', onDisconnect);
        resolve(error ? 'dropped' : reply);
      });
  });
}

function gc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('hostile input', () => {
  const rig = stopAfterEach();

  it(`refuses ${SOCKET_MESSAGES + HTTP_REQUESTS} hostile messages and requests, drops abusers, and still runs a job exactly`, { timeout: 180_000 }, async () => {
    const coordinator = (rig.coordinator = await testCoordinator({ maxBodyBytes: MAX_BODY_BYTES, maxMessageBytes: 1024 * 1024 }));
    const { url } = coordinator;
    const r = random(SEED);
    const collect = gc();

    // A real job whose task ids the fuzzer can aim at, and a real lease to replay.
    const { body: target } = await api<{ id: string }>(url, '/api/jobs', {
      method: 'POST',
      json: { name: 'target', source: 'export function map(k, v, emit) { emit(v % 3, 1); }\nexport function reduce(k, vs) { return vs.length; }', input: { kind: 'range', from: 0, to: 30 }, recordsPerTask: 1 },
    });
    const taskIds = Array.from({ length: 30 }, (_, i) => `${target.id}/map/${i}`);
    const replayer = await rawVolunteer(url);
    expect(await emitWithAck(replayer, 'volunteer:hello', { agent: 'replayer', slots: 1 })).toMatchObject({ ok: true });
    const leased = (await emitWithAck(replayer, 'task:request', { max: 1 })) as Ack<{ tasks: { taskId: string; leaseToken: string }[] }>;
    const lease = leased.ok ? leased.value.tasks[0]! : undefined;
    expect(lease).toBeDefined();
    const failure = { taskId: lease!.taskId, leaseToken: lease!.leaseToken, error: { name: 'Error', message: 'gave up' } };
    expect(await emitWithAck(replayer, 'task:fail', failure)).toMatchObject({ ok: true });
    expect(await emitWithAck(replayer, 'task:fail', failure)).toMatchObject({ ok: false, error: { code: 'LEASE_INVALID' } });
    expect(await emitWithAck(replayer, 'job:source', { jobId: 'job-of-someone-else' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    replayer.disconnect();

    collect();
    const heapBefore = process.memoryUsage().heapUsed;

    // Volunteer channel: batches on fresh connections, half of them saying hello first.
    const outcomes = new Map<string, number>();
    let sent = 0;
    while (sent < SOCKET_MESSAGES) {
      const socket = await rawVolunteer(url);
      if (r.next() < 0.5) await emitWithAck(socket, 'volunteer:hello', { agent: 'fuzz', slots: 0 });
      const batch = Array.from({ length: Math.min(PER_CONNECTION, SOCKET_MESSAGES - sent) }, () => badMessage(r, taskIds));
      const replies = await Promise.all(batch.map(([event, payload]) => emitWithAck(socket, event, payload)));
      sent += batch.length;
      replies.forEach((reply, i) => {
        const key = reply === 'dropped' ? 'dropped' : reply.ok ? `ok ${batch[i]![0]}` : reply.error.code;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      });
      socket.disconnect();
    }
    // Every hostile message got an error ack; none was answered as if it were right, none was lost.
    expect(outcomes.get('dropped') ?? 0).toBe(0);
    const accepted = [...outcomes].filter(([key]) => key.startsWith('ok '));
    // A renew of forged leases is answered with every lease "lost", and a hello may be well-formed by chance.
    for (const [key] of accepted) expect(['ok task:renew', 'ok volunteer:hello', 'ok task:request']).toContain(key);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(SOCKET_MESSAGES);

    // An abuser that keeps sending garbage is dropped.
    const abuser = await rawVolunteer(url);
    const dropped = new Promise<string>((resolve) => abuser.once('disconnect', (reason) => resolve(reason)));
    const raw = abuser as unknown as { emit(event: string, payload: unknown, ack: () => void): void };
    for (let i = 0; i < 200 && abuser.connected; i++) raw.emit('task:complete', junk(r), () => {});
    expect(await dropped).toBe('io server disconnect');

    // HTTP: malformed, oversized, unauthorised-looking and wrong-method requests.
    const statuses = new Map<number, number>();
    for (let i = 0; i < HTTP_REQUESTS; i++) {
      const kind = r.int(7);
      const path = r.pick(['/api/jobs', `/api/jobs/${r.pick(['nope', 'job-0-000000', '%00', '..%2f'])}`, '/api/jobs/nope/cancel', '/api/jobs/nope/result', '/api/files?name=', '/api/nope']);
      const init: RequestInit =
        kind === 0
          ? { method: 'POST', body: '{"name": ', headers: { 'content-type': 'application/json' } }
          : kind === 1
            ? { method: 'POST', body: JSON.stringify(junk(r)), headers: { 'content-type': 'application/json' } }
            : kind === 2
              ? { method: 'POST', body: 'x'.repeat(MAX_BODY_BYTES + 1 + r.int(1000)), headers: { 'content-type': 'application/json' } }
              : kind === 3
                ? { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } }
                : kind === 4
                  ? { method: r.pick(['PUT', 'PATCH', 'DELETE']) }
                  : kind === 5
                    ? { method: 'POST', body: JSON.stringify({ name: 'x', source: String(junk(r)).slice(0, 5000), input: junk(r) }), headers: { 'content-type': 'application/json' } }
                    : { method: 'GET' };
      const url404 = kind === 6 ? `${url}/api/jobs/${r.pick(['nope', 'job-1', '\u00e9'])}/result` : url + path;
      const response = await fetch(url404, init);
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
    const codes = [...statuses.keys()];
    expect(codes.every((status) => status >= 400 && status < 500), `statuses ${JSON.stringify([...statuses])}`).toBe(true);

    collect();
    const grownMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(grownMiB).toBeLessThan(32);

    // And a real job still runs to its exact answer.
    rig.volunteers.push(startVolunteer(url), startVolunteer(url));
    await waitFor('two honest volunteers', async () => (await coordinator.scheduler.cluster()).volunteerList.filter((v) => v.agent === 'integration-test').length === 2);
    const text = 'the quick brown fox jumps over the lazy dog the end';
    const { body: job } = await api<{ id: string }>(url, '/api/jobs', {
      method: 'POST',
      json: { name: 'after the storm', source: readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8'), input: { kind: 'texts', files: [{ name: 'a.txt', text }] } },
    });
    expect((await waitForJobEnd(url, job.id, 60_000)).state).toBe('succeeded');
    const { body: result } = await api<KeyValue[]>(url, `/api/jobs/${job.id}/result`);
    expect(Object.fromEntries(result as [string, number][])).toEqual({ brown: 1, dog: 1, end: 1, fox: 1, jumps: 1, lazy: 1, over: 1, quick: 1, the: 3 });
  });
});
