/** The HTTP API contract against a real coordinator: shapes, status codes and errors. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSummary } from '../shared/job.ts';
import type { Coordinator } from './coordinator.ts';
import { api, testCoordinator } from '../testing/integration-rig.ts';

const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');
const texts = { kind: 'texts', files: [{ name: 'a.txt', text: 'to be or not to be\n' }] };

describe('HTTP API', () => {
  let coordinator: Coordinator;
  beforeAll(async () => {
    coordinator = await testCoordinator({ maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => coordinator.close());

  it('accepts a job with 201 and an id, then reports it in the contract shape', async () => {
    const created = await api<{ id: string }>(coordinator.url, '/api/jobs', { method: 'POST', json: { name: 'wc', source: WORD_COUNT, input: texts } });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/\S/);
    const job = await api<JobSummary>(coordinator.url, `/api/jobs/${created.body.id}`);
    expect(job.body).toMatchObject({
      id: created.body.id,
      name: 'wc',
      state: 'queued',
      progress: { map: { done: 0, total: 1 }, reduce: { done: 0, total: 1 } },
    });
    const list = await api<JobSummary[]>(coordinator.url, '/api/jobs');
    expect(list.body.map((listed) => listed.id)).toContain(created.body.id);
    const tasks = await api<unknown[]>(coordinator.url, `/api/jobs/${created.body.id}/tasks`);
    expect(tasks.body).toHaveLength(2);
  });

  it.each<[string, unknown, number, RegExp]>([
    ['an unknown field', { name: 'x', source: WORD_COUNT, input: texts, colour: 'red' }, 400, /Unrecognized key.*colour/],
    ['a wrong type', { name: 'x', source: WORD_COUNT, input: texts, reducers: 'two' }, 400, /reducers/],
    ['a missing name', { source: WORD_COUNT, input: texts }, 400, /name/],
    ['a source that does not parse', { name: 'x', source: 'export function map( {', input: texts }, 400, /does not parse.*line 1/],
    ['a source without reduce', { name: 'x', source: 'export function* map() {}', input: texts }, 400, /must export `reduce`/],
    ['no files', { name: 'x', source: WORD_COUNT, input: { kind: 'texts', files: [] } }, 400, /at least one file/],
    ['only empty files', { name: 'x', source: WORD_COUNT, input: { kind: 'texts', files: [{ name: 'e', text: '' }] } }, 400, /input is empty/],
    ['no records', { name: 'x', source: WORD_COUNT, input: { kind: 'records', records: [] } }, 400, /at least one record/],
    ['an empty range', { name: 'x', source: WORD_COUNT, input: { kind: 'range', from: 5, to: 5 } }, 400, /to > from/],
    ['an absurd range', { name: 'x', source: WORD_COUNT, input: { kind: 'range', from: 0, to: 1e9 }, recordsPerTask: 1 }, 400, /map tasks; the limit/],
    ['absurd reducers', { name: 'x', source: WORD_COUNT, input: texts, reducers: 1e6 }, 400, /reducers/],
    ['a tiny splitBytes', { name: 'x', source: WORD_COUNT, input: texts, splitBytes: 1 }, 400, /splitBytes/],
    ['an unknown input kind', { name: 'x', source: WORD_COUNT, input: { kind: 'urls' } }, 400, /input/],
    ['replication above 16', { name: 'x', source: WORD_COUNT, input: texts, replication: 17 }, 400, /replication/],
    ['a spot check with replication', { name: 'x', source: WORD_COUNT, input: texts, replication: 2, spotCheck: 0.1 }, 400, /spotCheck/],
    ['a spot check above 1', { name: 'x', source: WORD_COUNT, input: texts, spotCheck: 1.5 }, 400, /spotCheck/],
    ['an invalid record key', { name: 'x', source: WORD_COUNT, input: { kind: 'records', records: [[{ a: 1 }, 1]] } }, 400, /records/],
  ])('refuses %s with a clear error', async (_name, body, status, message) => {
    const response = await api<{ error: string; code: string }>(coordinator.url, '/api/jobs', { method: 'POST', json: body });
    expect(response.status).toBe(status);
    expect(response.body.error).toMatch(message);
    expect(response.body.code).toMatch(/^[A-Z_]+$/);
  });

  it('refuses bodies that are not JSON, too large, or of another type', async () => {
    const post = (body: string, type = 'application/json') =>
      api<{ error: string }>(coordinator.url, '/api/jobs', { method: 'POST', body, headers: { 'content-type': type } });
    expect(await post('{not json')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not valid JSON/) } });
    expect(await post('')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/empty/) } });
    expect(await post('{}', 'text/plain')).toMatchObject({ status: 415 });
    expect(await post(JSON.stringify({ name: 'x', source: 'x'.repeat(100_000) }))).toMatchObject({
      status: 413,
      body: { error: expect.stringMatching(/limit/) },
    });
  });

  it('answers 404 for unknown jobs and routes, 405 for wrong methods, 409 for early results', async () => {
    expect((await api(coordinator.url, '/api/jobs/nope')).status).toBe(404);
    expect((await api(coordinator.url, '/api/jobs/nope/result')).status).toBe(404);
    expect((await api(coordinator.url, '/api/nothing')).status).toBe(404);
    const wrongMethod = await api(coordinator.url, '/api/jobs', { method: 'PUT' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', { method: 'POST', json: { name: 'early', source: WORD_COUNT, input: texts } });
    expect(await api(coordinator.url, `/api/jobs/${body.id}/result`)).toMatchObject({ status: 409, body: { error: expect.stringMatching(/queued/) } });
    expect((await api(coordinator.url, `/api/jobs/${body.id}/result?format=xml`)).status).toBe(400);
  });

  it('cancels a job with DELETE, and refuses to cancel it twice', async () => {
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', { method: 'POST', json: { name: 'doomed', source: WORD_COUNT, input: texts } });
    expect(await api(coordinator.url, `/api/jobs/${body.id}`, { method: 'DELETE' })).toMatchObject({ status: 200, body: { state: 'cancelled' } });
    expect((await api(coordinator.url, `/api/jobs/${body.id}`, { method: 'DELETE' })).status).toBe(409);
  });

  it('sends the security headers on every response', async () => {
    const response = await api(coordinator.url, '/api/health');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self' blob:");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});

describe('HTTP API with a submit token', () => {
  let coordinator: Coordinator;
  beforeAll(async () => {
    coordinator = await testCoordinator({ token: 'sesame' });
  });
  afterAll(() => coordinator.close());

  it('refuses job endpoints without the token and accepts them with it', async () => {
    const job = { name: 'wc', source: WORD_COUNT, input: texts };
    expect((await api(coordinator.url, '/api/jobs', { method: 'POST', json: job })).status).toBe(401);
    expect((await api(coordinator.url, '/api/jobs', { method: 'POST', json: job, headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await api(coordinator.url, '/api/jobs')).status).toBe(401);
    const created = await api<{ id: string }>(coordinator.url, '/api/jobs', { method: 'POST', json: job, headers: { authorization: 'Bearer sesame' } });
    expect(created.status).toBe(201);
    expect((await api(coordinator.url, `/api/jobs/${created.body.id}`, { headers: { authorization: 'Bearer sesame' } })).status).toBe(200);
    expect((await api(coordinator.url, '/api/volunteers')).status).toBe(200);
    // A Prometheus scraper has no token: counts, no job names or code.
    expect((await fetch(`${coordinator.url}/metrics`)).status).toBe(200);
  });
});
