/**
 * Results are served a chunk at a time: exactly, in both formats, from a real
 * coordinator's SQLite store, with the event loop given a turn between chunks so one
 * large download does not keep everyone else waiting (issue: a million-key result
 * blocked a health probe for 546 ms when it was built whole).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { KeyValue } from '../shared/job.ts';
import { api, startVolunteer, stopAfterEach, testCoordinator, waitForJobEnd } from '../testing/integration-rig.ts';
import { chunkResult } from './result-data.ts';
import { sendResult } from './result-response.ts';

describe('sendResult', () => {
  test('gives the event loop a turn between chunks, and the answer is exact', async () => {
    const pairs: KeyValue[] = Array.from({ length: 20_000 }, (_, i) => [i, 'v'.repeat(200)]);
    const chunks = chunkResult(pairs);
    expect(chunks.length).toBeGreaterThan(2);
    // Counts the turns the event loop took while the answer was written.
    let turns = 0;
    let sending = false;
    const tick = () => {
      if (!sending) return;
      turns++;
      setImmediate(tick);
    };
    const server = createServer((_request, response) => {
      sending = true;
      setImmediate(tick);
      void sendResult(response, { chunks: chunks.length, chunk: (index) => chunks[index]! }, 'json', 'job-x').finally(() => (sending = false));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(await response.json()).toEqual(pairs);
      expect(turns).toBeGreaterThanOrEqual(chunks.length);
    } finally {
      server.close();
    }
  });
});

describe('GET /api/jobs/:id/result', () => {
  const rig = stopAfterEach();
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test('a result of 300,000 keys in many chunks comes back exact, as JSON and as CSV', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tabreduce-result-'));
    dirs.push(dataDir);
    rig.coordinator = await testCoordinator({ store: 'sqlite', dataDir });
    rig.volunteers.push(startVolunteer(rig.coordinator.url));
    const source = 'export function map(k, v, emit) { emit(k, v * 2); }\nexport function reduce(k, vs) { return vs[0]; }';
    const keys = 300_000;
    const { body } = await api<{ id: string }>(rig.coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'many keys', source, input: { kind: 'range', from: 0, to: keys }, recordsPerTask: 30_000, reducers: 4 },
    });
    expect(await waitForJobEnd(rig.coordinator.url, body.id, 60_000)).toMatchObject({ state: 'succeeded' });

    const json = await api<KeyValue[]>(rig.coordinator.url, `/api/jobs/${body.id}/result`);
    expect(json.status).toBe(200);
    expect(json.body).toHaveLength(keys);
    expect(json.body.every(([key, value], i) => key === i && value === i * 2)).toBe(true);

    const csv = await api<string>(rig.coordinator.url, `/api/jobs/${body.id}/result?format=csv`);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('key,value');
    expect(lines[1]).toBe('0,0');
    expect(lines[keys]).toBe(`${keys - 1},${(keys - 1) * 2}`);
    expect(lines).toHaveLength(keys + 2);
  });
});
