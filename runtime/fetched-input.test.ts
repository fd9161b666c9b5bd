/**
 * Inputs fetched ahead, against a real HTTP server: a task takes the fetch made ahead for
 * it rather than fetching again, at most PREFETCH_LIMIT are held (the oldest dropped
 * first), a forgotten one is fetched anew, and a failed fetch is the task's
 * InputUnavailable when a task takes it, never an unhandled rejection before.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputPrefetch, PREFETCH_LIMIT } from './fetched-input.ts';

let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url!);
    if (request.url === '/gone') {
      response.statusCode = 409;
      response.end('the lease is gone');
    } else response.end(`bytes of ${request.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const text = async (ahead: InputPrefetch, path: string): Promise<string> => {
  const input = await ahead.bytesOf({ format: 'text', key: 'k', url: `${base}${path}` });
  return new TextDecoder().decode(input.bytes as ArrayBuffer);
};

/** Waits until the server has seen `count` requests: a prefetch is fire-and-forget. */
async function requested(count: number): Promise<void> {
  for (let i = 0; i < 500 && requests.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(requests.length).toBeGreaterThanOrEqual(count);
}

describe('InputPrefetch', () => {
  it('hands a task what was fetched ahead for it, once, and holds no more than its limit', async () => {
    requests.length = 0;
    const ahead = new InputPrefetch();
    const paths = Array.from({ length: PREFETCH_LIMIT + 1 }, (_, i) => `/split-${i}`);
    for (const path of paths) ahead.start(`${base}${path}`);
    ahead.start(`${base}${paths[1]}`); // asked twice, fetched once
    expect(ahead.held).toEqual(paths.slice(1).map((path) => `${base}${path}`));
    await requested(paths.length);
    expect(await text(ahead, paths[2]!)).toBe(`bytes of ${paths[2]}`);
    // The oldest was dropped, so its task fetches it again; the one taken is no longer held.
    expect(await text(ahead, paths[0]!)).toBe(`bytes of ${paths[0]}`);
    expect(requests.filter((path) => path === paths[0])).toHaveLength(2);
    expect(requests.filter((path) => path === paths[2])).toHaveLength(1);
    expect(ahead.held).toEqual([`${base}${paths[1]}`]);
    ahead.forget(`${base}${paths[1]}`);
    expect(ahead.held).toEqual([]);
  });

  it('keeps a failed fetch for the task that takes it, as InputUnavailable', async () => {
    requests.length = 0;
    const ahead = new InputPrefetch();
    ahead.start(`${base}/gone`);
    await requested(1);
    await expect(text(ahead, '/gone')).rejects.toMatchObject({ name: 'InputUnavailable', message: expect.stringContaining('409') });
  });
});
