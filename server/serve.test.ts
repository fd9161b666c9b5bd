import { afterEach, describe, expect, it } from 'vitest';
import type { Coordinator } from './coordinator.ts';
import { serveCoordinator } from './serve.ts';
import { api } from '../testing/integration-rig.ts';
import { silentLogger } from './logger.ts';

describe('serveCoordinator', () => {
  let coordinator: Coordinator | undefined;
  afterEach(async () => {
    await coordinator?.close();
    coordinator = undefined;
  });

  it('bound beyond loopback with no token, makes one up, prints it, and asks for it', async () => {
    const lines: string[] = [];
    coordinator = await serveCoordinator({ host: '0.0.0.0', port: 0, store: 'memory', log: silentLogger }, (line) => lines.push(line));
    const printed = lines.join('\n');
    const token = /submit token: (\S+)/.exec(printed)?.[1];
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(printed).toContain(`#token=${token}`);
    expect(printed).toMatch(/replication: 2 by default/);
    const url = coordinator.url.replace('0.0.0.0', '127.0.0.1');
    expect((await api(url, '/api/jobs')).status).toBe(401);
    expect((await api(url, '/api/jobs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // Volunteering needs no token.
    expect((await api(url, '/socket.io/?EIO=4&transport=polling')).status).toBe(200);
  });

  it('on loopback makes up no token', async () => {
    const lines: string[] = [];
    coordinator = await serveCoordinator({ host: '127.0.0.1', port: 0, store: 'memory', log: silentLogger }, (line) => lines.push(line));
    expect(lines.join('\n')).not.toMatch(/token/);
    expect((await api(coordinator.url, '/api/jobs')).status).toBe(200);
  });
});
