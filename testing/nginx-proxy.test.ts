/**
 * nginx in front of two real backends, each an HTTP server with Socket.IO attached as a
 * coordinator has: plain requests go round robin, a WebSocket goes through, and a
 * backend that closes loses its share to the other.
 */
import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { io as connectSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsConnections } from './local-services.ts';
import { startNginxProxy, type NginxProxy } from './nginx-proxy.ts';

interface Backend {
  name: string;
  http: HttpServer;
  io: SocketServer;
  address: string;
}

async function startBackend(name: string): Promise<Backend> {
  const http = createServer((request, response) => {
    response.setHeader('content-type', 'text/plain');
    response.end(`${name} ${request.url}`);
  });
  const io = new SocketServer(http);
  io.on('connection', (socket) => {
    socket.on('echo', (message: unknown, ack: (answer: unknown) => void) => ack({ from: name, message }));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { name, http, io, address: `127.0.0.1:${(http.address() as AddressInfo).port}` };
}

async function closeBackend(backend: Backend): Promise<void> {
  // io.close() closes the HTTP server too; nginx's idle keep-alive connections go with it.
  const closed = new Promise<void>((resolve) => backend.io.close(() => resolve()));
  backend.http.closeAllConnections();
  await closed;
}

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
};

describe('startNginxProxy', () => {
  let a: Backend;
  let b: Backend;
  let proxy: NginxProxy;
  beforeAll(async () => {
    [a, b] = await Promise.all([startBackend('a'), startBackend('b')]);
    proxy = await startNginxProxy([a.address, b.address]);
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([a, b].filter(Boolean).map((backend) => (backend.http.listening ? closeBackend(backend) : undefined)));
  });

  it('answers on 127.0.0.1 and sends plain requests to both backends in turn', async () => {
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(`${proxy.url}/hello?i=${i}`));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const names = answers.map((answer) => answer.body.split(' ')[0]);
    expect(names.filter((name) => name === 'a')).toHaveLength(3);
    expect(names.filter((name) => name === 'b')).toHaveLength(3);
    expect(answers[0]?.body).toMatch(/^[ab] \/hello\?i=0$/);
  });

  it('carries a Socket.IO connection over WebSocket, with acknowledgements', async () => {
    const socket = connectSocket(proxy.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      expect(socket.io.engine.transport.name).toBe('websocket');
      const answer = (await socket.timeout(5000).emitWithAck('echo', { hello: 'through nginx' })) as { from: string; message: unknown };
      expect(['a', 'b']).toContain(answer.from);
      expect(answer.message).toEqual({ hello: 'through nginx' });
    } finally {
      socket.disconnect();
    }
  });

  it('sends everything to the remaining backend once one has closed', async () => {
    await closeBackend(a);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(`${proxy.url}/after?i=${i}`));
    expect(answers).toEqual(Array.from({ length: 6 }, (_, i) => ({ status: 200, body: `b /after?i=${i}` })));
  });

  it('stop() closes its port; a second stop() is fine', async () => {
    expect(await acceptsConnections(proxy.port)).toBe(true);
    await proxy.stop();
    expect(await acceptsConnections(proxy.port)).toBe(false);
    await proxy.stop();
  });
});

describe('startNginxProxy with bad upstreams', () => {
  it('refuses none, and anything but host:port, before writing a config', async () => {
    await expect(startNginxProxy([])).rejects.toThrow(/at least one upstream/);
    await expect(startNginxProxy(['127.0.0.1:1; include /etc/passwd'])).rejects.toThrow(/not a host:port upstream/);
  });
});
