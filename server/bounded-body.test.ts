/** The bounded body reader against a stream that counts what was taken from it. */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TabreduceError } from '../shared/errors.ts';
import { readBoundedBody } from './bounded-body.ts';

const CHUNK_BYTES = 64 * 1024;

/** A request whose body is `chunks` chunks of CHUNK_BYTES (endless when Infinity); `pulled` counts those read. */
function countingRequest(chunks: number, headers: Record<string, string> = {}) {
  const counter = { pulled: 0 };
  const stream = new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (counter.pulled >= chunks) return void this.push(null);
      counter.pulled++;
      this.push(Buffer.alloc(CHUNK_BYTES, 0x61));
    },
  });
  return { request: Object.assign(stream, { headers }) as unknown as IncomingMessage, counter };
}

const tooLarge = (declared?: number) => new TabreduceError('PAYLOAD_TOO_LARGE', declared === undefined ? 'too large as it arrived' : `declared ${declared}`);

describe('readBoundedBody', () => {
  it('answers a body with a declared length whole, byte for byte', async () => {
    const { request } = countingRequest(5, { 'content-length': String(5 * CHUNK_BYTES) });
    const body = await readBoundedBody(request, 10 * CHUNK_BYTES, tooLarge);
    expect(body.length).toBe(5 * CHUNK_BYTES);
    expect(body.every((byte) => byte === 0x61)).toBe(true);
  });

  it('answers a chunked body under the limit whole', async () => {
    const { request } = countingRequest(3);
    expect((await readBoundedBody(request, 3 * CHUNK_BYTES, tooLarge)).length).toBe(3 * CHUNK_BYTES);
  });

  it('refuses a declared length past the limit without reading a byte', async () => {
    const { request, counter } = countingRequest(100, { 'content-length': String(100 * CHUNK_BYTES) });
    await expect(readBoundedBody(request, 10 * CHUNK_BYTES, tooLarge)).rejects.toThrow(`declared ${100 * CHUNK_BYTES}`);
    expect(counter.pulled).toBe(0);
  });

  it('stops reading an endless chunked body as soon as it passes the limit', async () => {
    const { request, counter } = countingRequest(Infinity);
    await expect(readBoundedBody(request, 10 * CHUNK_BYTES, tooLarge)).rejects.toThrow('too large as it arrived');
    // Give a stream that was still flowing every chance to read on.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // The chunk that passed the limit, plus at most the one the stream buffers ahead.
    expect(counter.pulled).toBeLessThanOrEqual(10 + 2);
    expect(request.isPaused()).toBe(true);
  });

  it('refuses a body whose connection closed before its end', async () => {
    const { request } = countingRequest(Infinity, { 'content-length': String(100 * CHUNK_BYTES) });
    const reading = readBoundedBody(request, 1000 * CHUNK_BYTES, tooLarge);
    request.once('data', () => request.destroy());
    await expect(reading).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/closed .* before its end/) });
  });
});
