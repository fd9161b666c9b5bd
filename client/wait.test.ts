/** waitForJob rides out a restarting or silent coordinator, and gives up in time. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../shared/job-lifecycle.ts';
import { ApiClient, ApiError } from './api-client.ts';
import { waitForJob } from './wait.ts';

const summary = (state: JobStatus) => ({ id: 'j1', state, progress: { map: { done: 0, total: 1 }, reduce: { done: 0, total: 1 } } });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** An ApiClient whose coordinator answers each poll with the next of `answers`. */
function scripted(answers: ('down' | 'silent' | 503 | JobStatus)[]) {
  let polls = 0;
  const api = new ApiClient({
    baseUrl: 'http://coordinator',
    fetch: (_input, init) => {
      const answer = answers[Math.min(polls++, answers.length - 1)]!;
      if (answer === 'down') return Promise.reject(new TypeError('fetch failed'));
      if (answer === 'silent') {
        // Never answers; only the caller's signal ends the wait.
        return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
      }
      if (answer === 503) return Promise.resolve(json(503, { error: 'restarting', code: 'INTERNAL' }));
      return Promise.resolve(json(200, summary(answer)));
    },
  });
  return { api, polls: () => polls };
}

describe('waitForJob', () => {
  it('reports every state until the job ends, through refused, failing and silent polls', async () => {
    const { api, polls } = scripted(['queued', 'down', 503, 'silent', 'mapping', 'succeeded']);
    const states: string[] = [];
    const job = await waitForJob(api, 'j1', { pollMs: 1, pollTimeoutMs: 50, onUpdate: (update) => states.push(update.state) });
    expect(job.state).toBe('succeeded');
    expect(states).toEqual(['queued', 'mapping', 'succeeded']);
    expect(polls()).toBe(6);
  });

  it('gives up once the coordinator stayed unreachable longer than unreachableMs', async () => {
    const { api } = scripted(['queued', 'down']);
    await expect(waitForJob(api, 'j1', { pollMs: 5, unreachableMs: 60 })).rejects.toMatchObject({ name: 'ApiError', code: 'NETWORK' });
  });

  it('gives up on a coordinator that stays silent, saying so', async () => {
    const { api } = scripted(['silent']);
    const failure = await waitForJob(api, 'j1', { pollMs: 1, pollTimeoutMs: 20, unreachableMs: 60 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as Error).message).toBe('the coordinator did not answer about job j1 for 0.06 s');
  });

  it('does not retry what will not change: an unknown job', async () => {
    const api = new ApiClient({ fetch: async () => json(404, { error: 'no job j1', code: 'NOT_FOUND' }) });
    await expect(waitForJob(api, 'j1', { pollMs: 1 })).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it("stops at once when the caller's signal aborts, with its reason", async () => {
    const { api } = scripted(['silent']);
    const controller = new AbortController();
    const waiting = waitForJob(api, 'j1', { signal: controller.signal });
    controller.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
  });
});
