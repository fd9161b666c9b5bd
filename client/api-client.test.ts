import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ErrorCode } from '../shared/errors.ts';
import { ApiClient, ApiError } from './api-client.ts';

interface Call {
  url: string;
  method: string;
  authorization: string | null;
  body: string | undefined;
}

/** An ApiClient whose fetch records each call and answers `response`. */
function clientAnswering(response: () => Response, token?: string) {
  const calls: Call[] = [];
  const client = new ApiClient({
    ...(token ? { token } : {}),
    baseUrl: 'http://coordinator',
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      calls.push({
        url: String(input),
        method: init?.method ?? 'GET',
        authorization: headers.get('authorization'),
        body: typeof init?.body === 'string' ? init.body : undefined,
      });
      return response();
    },
  });
  return { client, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ApiClient', () => {
  it('posts a submission as JSON and answers the new id', async () => {
    const { client, calls } = clientAnswering(() => json(201, { id: 'j1' }));
    const submission = { name: 'n', source: 's', input: { kind: 'range', from: 0, to: 3 } } as const;
    await expect(client.submitJob(submission)).resolves.toEqual({ id: 'j1' });
    expect(calls).toEqual([
      { url: 'http://coordinator/api/jobs', method: 'POST', authorization: null, body: JSON.stringify(submission) },
    ]);
  });

  it.each([
    ['getJob', (client: ApiClient) => client.getJob('a/b'), 'GET', '/api/jobs/a%2Fb'],
    ['cancelJob', (client: ApiClient) => client.cancelJob('j1'), 'DELETE', '/api/jobs/j1'],
    ['getResult', (client: ApiClient) => client.getResult('j1'), 'GET', '/api/jobs/j1/result'],
    ['getResultBlob csv', (client: ApiClient) => client.getResultBlob('j1', 'csv'), 'GET', '/api/jobs/j1/result?format=csv'],
    ['listTasks', (client: ApiClient) => client.listTasks('j1'), 'GET', '/api/jobs/j1/tasks'],
    ['listJobs', (client: ApiClient) => client.listJobs(), 'GET', '/api/jobs'],
    ['getCluster', (client: ApiClient) => client.getCluster(), 'GET', '/api/volunteers'],
  ])('%s calls %s %s', async (_name, call, method, path) => {
    const { client, calls } = clientAnswering(() => json(200, []));
    await call(client);
    expect(calls.map(({ method, url }) => ({ method, url }))).toEqual([{ method, url: `http://coordinator${path}` }]);
  });

  it('sends the bearer token when it has one', async () => {
    const { client, calls } = clientAnswering(() => json(200, []), 'secret');
    await client.listJobs();
    expect(calls[0]?.authorization).toBe('Bearer secret');
  });

  it("throws an ApiError with the server's code and message", async () => {
    const { client } = clientAnswering(() => json(400, { error: 'name must not be empty', code: 'BAD_REQUEST' }));
    const error = await client.listJobs().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: 'name must not be empty' });
  });

  it('reads a code it does not know (a proxy\'s, a newer coordinator\'s) as HTTP_<status>, keeping the message', async () => {
    const { client } = clientAnswering(() => json(418, { error: 'short and stout', code: 'TEAPOT' }));
    await expect(client.listJobs()).rejects.toMatchObject({ status: 418, code: 'HTTP_418', message: 'short and stout' });
  });

  it("types its code: the coordinator's codes, NETWORK, or HTTP_<status>", () => {
    expectTypeOf<ApiError['code']>().toEqualTypeOf<ErrorCode | 'NETWORK' | `HTTP_${number}`>();
    // @ts-expect-error a code that neither the coordinator nor the client assigns
    expect(new ApiError(400, 'BAD_REQEST', 'typo').code).toBe('BAD_REQEST'.replace('QU', 'Q'));
  });

  it('makes do with an error body that is not JSON', async () => {
    const { client } = clientAnswering(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(client.listJobs()).rejects.toMatchObject({ status: 502, code: 'HTTP_502', message: '502 Bad Gateway' });
  });

  it('reports a network failure as status 0', async () => {
    const client = new ApiClient({
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await expect(client.listJobs()).rejects.toMatchObject({ status: 0, code: 'NETWORK' });
  });

  it('lets an abort through as it is', async () => {
    const controller = new AbortController();
    controller.abort();
    const client = new ApiClient({
      fetch: async () => {
        throw new DOMException('aborted', 'AbortError');
      },
    });
    await expect(client.listJobs(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('uploads a file as a raw stream, as fetch requires of a stream (duplex: half)', async () => {
    let seen: { url: string; body: string; duplex: unknown; type: string | null } | undefined;
    const client = new ApiClient({
      baseUrl: 'http://coordinator/',
      fetch: async (input, init) => {
        seen = {
          url: String(input),
          body: await new Response(init!.body).text(),
          duplex: (init as { duplex?: unknown }).duplex,
          type: new Headers(init!.headers).get('content-type'),
        };
        return json(201, { id: 'f-1', name: 'a b.txt', bytes: 6 });
      },
    });
    const body = new Blob(['to be', '\n']).stream();
    await expect(client.uploadFile('a b.txt', body)).resolves.toEqual({ id: 'f-1', name: 'a b.txt', bytes: 6 });
    expect(seen).toEqual({ url: 'http://coordinator/api/files?name=a%20b.txt', body: 'to be\n', duplex: 'half', type: 'application/octet-stream' });
  });

  it("names the network failure's cause, and where it tried", async () => {
    const client = new ApiClient({
      baseUrl: 'http://127.0.0.1:1234',
      fetch: async () => {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1234'), { code: 'ECONNREFUSED' }) });
      },
    });
    await expect(client.listJobs()).rejects.toThrow('could not reach the coordinator at http://127.0.0.1:1234: connect ECONNREFUSED 127.0.0.1:1234');
  });

  it('builds result URLs for links', () => {
    const client = new ApiClient();
    expect(client.resultUrl('j 1', 'json')).toBe('/api/jobs/j%201/result');
    expect(client.resultUrl('j1', 'csv')).toBe('/api/jobs/j1/result?format=csv');
  });
});
