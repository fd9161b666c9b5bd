/**
 * The connection's retry paths against a real Socket.IO server on port 0: a refused or
 * unanswered hello, a connection the server refuses, a coordinator that forgot the
 * volunteer, and the sessions a drop and a stop end. Short timings, polled, no sleeps.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VOLUNTEER_NAMESPACE, type Ack, type CoordinatorToVolunteerEvents, type VolunteerToCoordinatorEvents, type VolunteerWelcome } from '../shared/protocol.ts';
import { CoordinatorConnection, type ConnectionHooks } from './coordinator-connection.ts';
import { startTimerHeartbeat } from './heartbeat.ts';
import { connectionView } from './volunteer-lifecycle.ts';

type CoordinatorSocket = ServerSocket<VolunteerToCoordinatorEvents, CoordinatorToVolunteerEvents>;

const RETRY_MS = 40;

/** A coordinator that answers hellos as the test says. */
class HelloServer {
  readonly hellos: { socket: CoordinatorSocket; atMs: number }[] = [];
  readonly sockets: CoordinatorSocket[] = [];
  /** How to answer the n-th hello (0-based); past the list, welcome. */
  answers: (Ack<VolunteerWelcome> | 'no answer')[] = [];
  /** Connections to refuse in the middleware before one is let in. */
  refuseConnections = 0;

  private constructor(
    readonly io: Server,
    readonly url: string,
  ) {
    const namespace = io.of(VOLUNTEER_NAMESPACE);
    namespace.use((_socket, next) => (this.refuseConnections-- > 0 ? next(new Error('not now')) : next()));
    namespace.on('connection', (socket: CoordinatorSocket) => {
      this.sockets.push(socket);
      socket.on('volunteer:hello', (_hello, ack) => {
        const answer = this.answers[this.hellos.length] ?? { ok: true, value: { volunteerId: `v${this.hellos.length + 1}`, leaseMs: 30_000 } };
        this.hellos.push({ socket, atMs: performance.now() });
        if (answer !== 'no answer') ack(answer);
      });
    });
  }

  static async start(): Promise<HelloServer> {
    const http = createServer();
    const server = new Server(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new HelloServer(server, `http://127.0.0.1:${(http.address() as AddressInfo).port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.io.close(() => resolve()));
  }
}

/** Hooks that record what the connection said, in order. */
function recordingHooks() {
  const said: string[] = [];
  const hooks: ConnectionHooks = {
    changed: () => said.push('changed'),
    failed: (message) => said.push(`failed: ${message}`),
    welcomed: () => said.push('welcomed'),
    ended: () => said.push('ended'),
    beat: () => {},
    workAvailable: () => {},
    revoked: () => {},
    yieldRequested: (max) => said.push(`yield ${max}`),
  };
  return { said, hooks };
}

describe('CoordinatorConnection', () => {
  let server: HelloServer | undefined;
  let connection: CoordinatorConnection | undefined;

  const open = async (ackTimeoutMs = 1000) => {
    server = await HelloServer.start();
    const { said, hooks } = recordingHooks();
    connection = new CoordinatorConnection(
      {
        url: server.url,
        agent: 'vitest',
        slots: () => 2,
        io,
        ackTimeoutMs,
        retryMs: RETRY_MS,
        heartbeat: startTimerHeartbeat,
        socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50 },
      },
      hooks,
    );
    return { server, connection, said };
  };

  afterEach(async () => {
    connection?.stop();
    await server?.close();
    connection = undefined;
    server = undefined;
  });

  it('resends a refused hello after the retry wait, then is welcomed', async () => {
    const { server, connection, said } = await open();
    server.answers = [{ ok: false, error: { code: 'INTERNAL', message: 'busy' } }];
    connection.start();
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    expect(server.hellos).toHaveLength(2);
    expect(server.hellos[1]!.atMs - server.hellos[0]!.atMs).toBeGreaterThanOrEqual(RETRY_MS - 5);
    expect(said).toEqual(['changed', 'failed: the coordinator did not welcome this volunteer: INTERNAL: busy', 'welcomed']);
    expect(connectionView(connection.lifecycle)).toMatchObject({ connection: 'connected', volunteerId: 'v2' });
  });

  it('resends a hello that went unanswered, once the ack timeout has passed', async () => {
    const { server, connection, said } = await open(50);
    server.answers = ['no answer'];
    connection.start();
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    expect(server.hellos).toHaveLength(2);
    expect(said).toContain('failed: the coordinator did not welcome this volunteer: operation has timed out');
  });

  it('reopens a connection the server refused, which Socket.IO gives up on', async () => {
    const { server, connection, said } = await open();
    server.refuseConnections = 1;
    connection.start();
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    expect(said[0]).toBe('failed: cannot reach the coordinator: not now');
    expect(server.sockets).toHaveLength(1);
  });

  it('greets again on the same connection and session when the coordinator forgot it', async () => {
    const { server, connection, said } = await open();
    connection.start();
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    const session = connection.session!;
    said.length = 0;

    connection.forgotten(session);
    expect(connection.ready).toBe(false);
    // Its runs go on meanwhile, so it still shows as connected, under the old id.
    expect(connectionView(connection.lifecycle)).toMatchObject({ connection: 'connected', volunteerId: 'v1' });
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    expect(connection.session).toBe(session);
    expect(server.sockets).toHaveLength(1);
    expect(server.hellos).toHaveLength(2);
    expect(said).toEqual(['welcomed']);
    expect(connectionView(connection.lifecycle)).toMatchObject({ volunteerId: 'v2' });

    // A second NOT_READY from the same burst of requests sends no second hello.
    connection.forgotten(session);
    connection.forgotten(session);
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    expect(server.hellos).toHaveLength(3);
  });

  it('ends the session on a drop and on stop, and refuses what an old session answers', async () => {
    const { server, connection, said } = await open();
    connection.start();
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    const first = connection.session!;
    expect(connection.beginRenewal()).toBe(true);
    expect(connection.beginRenewal()).toBe(false);

    server.sockets[0]!.conn.close();
    await vi.waitFor(() => expect(said).toContain('ended'));
    await vi.waitFor(() => expect(connection.ready).toBe(true));
    expect(connection.session).not.toBe(first);
    expect(connection.isCurrent(first)).toBe(false);
    // The renewal out on the old connection does not hold up this one's.
    connection.endRenewal(first);
    expect(connection.beginRenewal()).toBe(true);

    said.length = 0;
    expect(connection.stop()).toBe(true);
    expect(said).toEqual(['ended', 'changed', 'ended', 'changed']);
    expect(connection.lifecycle).toEqual({ status: 'stopped' });
    expect(connection.stop()).toBe(false);
    expect(connection.start()).toBe(false);
  });
});
