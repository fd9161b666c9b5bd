/**
 * `postFile` against a real coordinator: a file's bytes arrive whole, and every way an
 * upload fails gives the error `ApiClient` gives for it (the coordinator's code and
 * words for a refusal, `NETWORK` for no answer, the caller's abort reason for an abort).
 */
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator } from '../server/coordinator.ts';
import { testCoordinator } from '../testing/integration-rig.ts';
import { ApiClient, ApiError } from './api-client.ts';
import { postFile } from './file-upload.ts';

const TOKEN = 'upload-test-token';

describe('postFile', () => {
  let coordinator: Coordinator;
  let api: ApiClient;
  beforeAll(async () => {
    coordinator = await testCoordinator({ token: TOKEN, maxFileBytes: 64 * 1024 });
    api = new ApiClient({ baseUrl: coordinator.url, token: TOKEN });
  });
  afterAll(() => coordinator.close());

  it('streams the bytes and answers the stored file, which a job can then name', async () => {
    const text = 'one line\n'.repeat(5000);
    const uploaded = await postFile(api, 'dir/lines 1.txt', Readable.from([Buffer.from(text.slice(0, 1000)), Buffer.from(text.slice(1000))]));
    expect(uploaded).toMatchObject({ name: 'dir/lines 1.txt', bytes: text.length });
    expect(uploaded.id).toMatch(/^f-[0-9a-f]{16}$/);
    const { id } = await api.submitJob({ name: 'reads the upload', source: 'export function* map(k, v) { yield [k, v.length]; }\nexport function reduce(k, vs) { return vs.reduce((a, b) => a + b, 0); }', input: { kind: 'files', files: [{ fileId: uploaded.id, name: 'lines' }] } });
    expect((await api.getJob(id)).progress.map.total).toBeGreaterThan(0);
  });

  it("passes on a refusal with the coordinator's code and words, even when it comes before the body is all sent", async () => {
    const tooLarge = Readable.from((function* () {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(16 * 1024, 0x61);
    })());
    const failure = await postFile(api, 'big.txt', tooLarge).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('TABREDUCE_MAX_FILE_BYTES') });
  });

  it('sends the token, and without it the refusal is UNAUTHORIZED', async () => {
    const failure = await postFile(new ApiClient({ baseUrl: coordinator.url }), 'a.txt', Readable.from([Buffer.from('a\n')])).catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('says NETWORK, naming the address, when nothing answers there', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const baseUrl = `http://127.0.0.1:${closedPort}`;
    const failure = await postFile(new ApiClient({ baseUrl }), 'a.txt', Readable.from([Buffer.from('a\n')])).catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 0, code: 'NETWORK', message: expect.stringMatching(new RegExp(`${baseUrl}.*ECONNREFUSED`)) });
    const relative = await postFile(new ApiClient(), 'a.txt', Readable.from([Buffer.from('a\n')])).catch((error: unknown) => error);
    expect(relative).toMatchObject({ code: 'NETWORK' });
  });

  it("rejects with the caller's abort reason, as fetch does, and stops reading the body", async () => {
    const stop = new AbortController();
    // A body that never ends until the abort: the upload is mid-flight when it comes.
    const endless = new Readable({ read() {} });
    endless.push(Buffer.from('first part\n'));
    const upload = postFile(api, 'endless.txt', endless, stop.signal);
    const reason = new Error('stopped by the test');
    stop.abort(reason);
    expect(await upload.catch((error: unknown) => error)).toBe(reason);
    expect(endless.destroyed).toBe(true);
  });

  it("rejects when the body's own reading fails, without an answer to wait for", async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    const failure = await postFile(api, 'broken.txt', broken).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'NETWORK', message: expect.stringContaining('disk gone') });
  });
});
