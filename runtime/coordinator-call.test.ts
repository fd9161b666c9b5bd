/**
 * `callCoordinator` against a real Socket.IO server on port 0 and a real client: an
 * answer, an error ack, silence past the timeout, and a connection that drops first.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { VOLUNTEER_NAMESPACE, type CoordinatorToVolunteerEvents, type VolunteerToCoordinatorEvents } from '../shared/protocol.ts';
import { callCoordinator, describeFailure, type CallFailure, type VolunteerSocket } from './coordinator-call.ts';

type CoordinatorSocket = ServerSocket<VolunteerToCoordinatorEvents, CoordinatorToVolunteerEvents>;

describe('callCoordinator', () => {
  let server: Server | undefined;
  let client: VolunteerSocket | undefined;

  /** A server whose `job:source` handler the test writes, and a client connected to it. */
  const connect = async (onJobSource: (socket: CoordinatorSocket, ...args: Parameters<VolunteerToCoordinatorEvents['job:source']>) => void) => {
    const http = createServer();
    server = new Server(http);
    server.of(VOLUNTEER_NAMESPACE).on('connection', (socket: CoordinatorSocket) => {
      socket.on('job:source', (request, ack) => onJobSource(socket, request, ack));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    client = io(`http://127.0.0.1:${port}${VOLUNTEER_NAMESPACE}`, { forceNew: true, reconnection: false });
    await new Promise<void>((resolve) => client!.once('connect', () => resolve()));
    return client;
  };

  afterEach(async () => {
    client?.disconnect();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    client = undefined;
    server = undefined;
  });

  it('gives the value of an ok ack', async () => {
    const socket = await connect((_socket, { jobId }, ack) => ack({ ok: true, value: { jobId, name: 'wc', source: 's', digest: 'd' } }));
    expect(await callCoordinator(socket, 'job:source', { jobId: 'j1' }, 1000)).toEqual({ ok: true, value: { jobId: 'j1', name: 'wc', source: 's', digest: 'd' } });
  });

  it('turns an error ack into a refusal with its code', async () => {
    const socket = await connect((_socket, { jobId }, ack) => ack({ ok: false, error: { code: 'NOT_FOUND', message: `no job ${jobId}` } }));
    expect(await callCoordinator(socket, 'job:source', { jobId: 'gone' }, 1000)).toEqual({
      ok: false,
      failure: { kind: 'refused', error: { code: 'NOT_FOUND', message: 'no job gone' } },
    });
  });

  it('gives up on silence after the timeout', async () => {
    const socket = await connect(() => {});
    const started = performance.now();
    const result = await callCoordinator(socket, 'job:source', { jobId: 'j1' }, 50);
    expect(result).toEqual({ ok: false, failure: { kind: 'unanswered', reason: 'operation has timed out' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('does not wait out the timeout when the connection drops first', async () => {
    const socket = await connect((serverSide) => serverSide.disconnect(true));
    const result = await callCoordinator(socket, 'job:source', { jobId: 'j1' }, 60_000);
    expect(result).toEqual({ ok: false, failure: { kind: 'unanswered', reason: 'socket has been disconnected' } });
  });

  it('takes only events the coordinator acknowledges, with their payloads', () => {
    const socket = {} as VolunteerSocket;
    // Compile-time only: the calls are never made.
    const typeChecks = () => [
      // @ts-expect-error volunteer:slots has no ack
      callCoordinator(socket, 'volunteer:slots', { slots: 1 }, 1),
      // @ts-expect-error task:request takes { max }
      callCoordinator(socket, 'task:request', { jobId: 'j' }, 1),
      // @ts-expect-error no such event
      callCoordinator(socket, 'task:finish', {}, 1),
    ];
    expect(typeChecks).toBeTypeOf('function');
  });
});

describe('describeFailure', () => {
  const refused: CallFailure = { kind: 'refused', error: { code: 'LEASE_INVALID', message: 'the lease expired' } };
  const unanswered: CallFailure = { kind: 'unanswered', reason: 'operation has timed out' };
  const wording = { refused: 'lease renewal was refused', unanswered: 'lease renewal went unanswered' };

  it.each<[string, CallFailure, Parameters<typeof describeFailure>[1], string]>([
    ['a refusal, bare', refused, undefined, 'LEASE_INVALID: the lease expired'],
    ['no answer, bare', unanswered, undefined, 'operation has timed out'],
    ['a refusal under one phrase', refused, 'the coordinator did not welcome this volunteer', 'the coordinator did not welcome this volunteer: LEASE_INVALID: the lease expired'],
    ['a refusal in its own words', refused, wording, 'lease renewal was refused: LEASE_INVALID: the lease expired'],
    ['no answer in its own words', unanswered, wording, 'lease renewal went unanswered: operation has timed out'],
  ])('says %s', (_name, failure, words, line) => {
    expect(describeFailure(failure, words)).toBe(line);
  });
});
