/**
 * What one request may cost the coordinator, against the real coordinator process (as
 * `npm start` runs it, with its default limits): its peak memory read from /proc while it
 * takes a JSON body just under the default limit, a chunked body cut off at the limit, a
 * task too large for one volunteer message refused at submit, and deleting uploads.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import { DEFAULT_MAX_BODY_BYTES } from './config.ts';

const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');
/** The environment of a coordinator at its defaults, whatever the shell running the tests set. */
const DEFAULTS = { TABREDUCE_MAX_BODY_BYTES: '', TABREDUCE_MAX_MESSAGE_BYTES: '', TABREDUCE_STORE: '', TABREDUCE_TOKEN: '' };
/** The bound: one request must not take the coordinator past 1 GB. */
const PEAK_BYTES_ALLOWED = 1e9;

/** The coordinator's peak resident memory so far, in bytes (VmHWM, which /proc keeps in KiB). */
function peakRssBytes(coordinator: CoordinatorProcess): number {
  const status = readFileSync(`/proc/${coordinator.child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

interface Answer {
  status: number;
  body: { error?: string; code?: string; id?: string; name?: string; bytes?: number };
}

async function call(url: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url + path, init);
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const postJson = (url: string, body: string, headers: Record<string, string> = {}) =>
  call(url, '/api/jobs', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

/**
 * A submission as close under `maxBytes` as whole repeats of `unit` allow, in one of the
 * shapes that cost the coordinator most per byte: one large text, or many small records.
 */
function submissionJustUnder(maxBytes: number, shape: 'text' | 'records'): string {
  const head = `{"name":"big","source":${JSON.stringify(WORD_COUNT)},"input":`;
  const unit = shape === 'text' ? 'the quick brown fox jumps over the lazy dog, and away\\n' : '[7,1],';
  const open = shape === 'text' ? '{"kind":"texts","files":[{"name":"a.txt","text":"' : '{"kind":"records","records":[';
  const close = shape === 'text' ? '"}]}}' : '[7,1]]}}';
  const room = maxBytes - 64 * 1024 - head.length - open.length - close.length;
  return head + open + unit.repeat(Math.floor(room / unit.length)) + close;
}

/**
 * Sends a chunked body of `totalBytes` (chunks of `chunkBytes`, each written once the last
 * drained) until the coordinator answers; then waits for it to close the connection.
 * Answers what was written by then, and the answer.
 */
function sendChunked(url: string, totalBytes: number, chunkBytes: number): Promise<{ sentBytes: number; answer: Answer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    let sentBytes = 0;
    let answer: Answer | undefined;
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (part: string) => (text += part));
      response.on('end', () => (answer = { status: response.statusCode!, body: JSON.parse(text) as Answer['body'] }));
    });
    // Writing into a connection the coordinator cut fails (EPIPE, ECONNRESET): expected here.
    request.on('error', () => {});
    request.on('close', () => (answer ? resolve({ sentBytes, answer }) : reject(new Error(`closed after ${sentBytes} bytes without an answer`))));
    const chunk = Buffer.alloc(chunkBytes, 0x20);
    const writeMore = () => {
      while (!answer && !request.destroyed && sentBytes < totalBytes) {
        sentBytes += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', writeMore);
      }
      if (sentBytes >= totalBytes) request.end();
    };
    request.write('[');
    writeMore();
  });
}

describe('a JSON body just under the default limit, on the real coordinator', () => {
  let coordinator: CoordinatorProcess | undefined;
  afterEach(() => coordinator?.stop());

  it.each(['text', 'records'] as const)('is taken as %s with the coordinator\'s peak memory under 1 GB', async (shape) => {
    coordinator = await startCoordinatorProcess(DEFAULTS);
    const body = submissionJustUnder(DEFAULT_MAX_BODY_BYTES, shape);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(DEFAULT_MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(DEFAULT_MAX_BODY_BYTES - 128 * 1024);
    const answer = await postJson(coordinator.url, body);
    expect(answer).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^job-/) } });
    expect(peakRssBytes(coordinator)).toBeLessThan(PEAK_BYTES_ALLOWED);
  }, 120_000);
});

describe('bodies past the default limit, on the real coordinator', () => {
  let coordinator: CoordinatorProcess;
  beforeAll(async () => {
    coordinator = await startCoordinatorProcess(DEFAULTS);
  });
  afterAll(() => coordinator.stop());

  it('refuses a chunked body with 413 as it passes the limit, and cuts the connection before the rest is sent', async () => {
    const totalBytes = 4 * DEFAULT_MAX_BODY_BYTES;
    const { sentBytes, answer } = await sendChunked(coordinator.url, totalBytes, 256 * 1024);
    expect(answer).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE', error: expect.stringContaining('POST /api/files') } });
    // What the coordinator did not read waits in the two sockets' buffers, a few MiB on loopback.
    expect(sentBytes).toBeLessThan(DEFAULT_MAX_BODY_BYTES + 16 * 1024 * 1024);
    expect(sentBytes).toBeLessThan(totalBytes);
  });

  it('refuses a declared length past the limit, naming the limit and the upload route', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      // Only the headers are sent: the refusal must not wait for the body.
      const request = http.request(`${coordinator.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(DEFAULT_MAX_BODY_BYTES + 1) },
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (part: string) => (text += part));
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) as Answer['body'] }));
      });
      request.on('error', reject);
      request.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error).toContain(`${DEFAULT_MAX_BODY_BYTES + 1} bytes`);
    expect(answer.body.error).toContain(`limit of ${DEFAULT_MAX_BODY_BYTES} bytes`);
    expect(answer.body.error).toContain('POST /api/files');
  });
});

describe('tasks too large for one volunteer message, on the real coordinator', () => {
  const MESSAGE_BYTES = 1024 * 1024;
  const TOKEN = 'limits-test-token';
  const auth = { authorization: `Bearer ${TOKEN}` };
  let coordinator: CoordinatorProcess;
  beforeAll(async () => {
    coordinator = await startCoordinatorProcess({ ...DEFAULTS, TABREDUCE_MAX_MESSAGE_BYTES: String(MESSAGE_BYTES), TABREDUCE_TOKEN: TOKEN });
  });
  afterAll(() => coordinator.stop());

  const submit = (input: unknown, extra: Record<string, unknown> = {}) => postJson(coordinator.url, JSON.stringify({ name: 'x', source: WORD_COUNT, input, ...extra }), auth);
  const upload = async (name: string, text: string) => {
    const answer = await call(coordinator.url, `/api/files?name=${encodeURIComponent(name)}`, { method: 'POST', body: text, headers: { 'content-type': 'text/plain', ...auth } });
    expect(answer.status).toBe(201);
    return answer.body.id!;
  };
  const longLine = `${'x'.repeat(2 * MESSAGE_BYTES)}\n`;

  it('refuses a text with a line longer than a message, at submit, saying which and why', async () => {
    const answer = await submit({ kind: 'texts', files: [{ name: 'a.txt', text: `short\n${longLine}` }] });
    expect(answer).toMatchObject({ status: 400, body: { code: 'BAD_INPUT' } });
    expect(answer.body.error).toMatch(new RegExp(`"a.txt" has a line of ${longLine.length} bytes at byte 6`));
    expect(answer.body.error).toContain(`${MESSAGE_BYTES} bytes (TABREDUCE_MAX_MESSAGE_BYTES`);
  });

  it('refuses a single record larger than a message, and splits larger than one', async () => {
    const record = await submit({ kind: 'records', records: [['small', 1], ['big', 'y'.repeat(2 * MESSAGE_BYTES)]] }, { recordsPerTask: 1 });
    expect(record).toMatchObject({ status: 400, body: { code: 'BAD_INPUT', error: expect.stringMatching(/^record 1 makes a map task of \d+ bytes/) } });
    const lines = `${'z'.repeat(1000)}\n`.repeat(2000);
    const split = await submit({ kind: 'texts', files: [{ name: 'a.txt', text: lines }] }, { splitBytes: 4 * MESSAGE_BYTES });
    expect(split).toMatchObject({ status: 400, body: { code: 'BAD_INPUT', error: expect.stringMatching(/lower splitBytes/) } });
    // The same text in splits that fit a message is a job.
    expect((await submit({ kind: 'texts', files: [{ name: 'a.txt', text: lines }] }, { splitBytes: 256 * 1024 })).status).toBe(201);
  });

  it('refuses an upload with a line longer than a message, and leaves the upload unclaimed', async () => {
    const id = await upload('long.txt', `a\n${longLine}`);
    const answer = await submit({ kind: 'files', files: [{ fileId: id }] });
    expect(answer).toMatchObject({ status: 400, body: { code: 'BAD_INPUT', error: expect.stringMatching(/"long.txt" has a line of/) } });
    expect(await call(coordinator.url, `/api/files/${id}`, { method: 'DELETE', headers: auth })).toMatchObject({ status: 200, body: { id, name: 'long.txt' } });
  });

  it('deletes an unused upload with DELETE /api/files/:id; 404 when unknown, 409 once a job holds it, 401 without the token', async () => {
    const id = await upload('words.txt', 'to be or not to be\n');
    expect((await call(coordinator.url, `/api/files/${id}`, { method: 'DELETE' })).status).toBe(401);
    expect(await call(coordinator.url, `/api/files/${id}`, { method: 'DELETE', headers: auth })).toMatchObject({ status: 200, body: { id, name: 'words.txt', bytes: 19 } });
    expect(await call(coordinator.url, `/api/files/${id}`, { method: 'DELETE', headers: auth })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect((await submit({ kind: 'files', files: [{ fileId: id }] })).body.error).toMatch(/no uploaded file/);
    expect(await call(coordinator.url, '/api/files/f-0000000000000000', { method: 'DELETE', headers: auth })).toMatchObject({ status: 404 });

    const used = await upload('used.txt', 'to be\n');
    const job = await submit({ kind: 'files', files: [{ fileId: used }] });
    expect(job.status).toBe(201);
    const refused = await call(coordinator.url, `/api/files/${used}`, { method: 'DELETE', headers: auth });
    expect(refused).toMatchObject({ status: 409, body: { code: 'CONFLICT' } });
    expect(refused.body.error).toContain(job.body.id!);
  });
});
