/**
 * `GET /api/jobs/:id/result`: a stored result streamed to the client a chunk at a time.
 * A large result (a million keys is about 30 MB of JSON) is never held whole: each
 * chunk is read from the store, written, and the event loop gets a turn before the
 * next, so health probes and volunteers are not kept waiting; a slow client is waited
 * for (`drain`) instead of buffered for. JSON joins the stored chunks as they are; CSV
 * parses one chunk (about 1 MiB) at a time.
 */
import type { ServerResponse } from 'node:http';
import { CSV_HEADER, csvRows } from '../shared/result-format.ts';
import { readChunks, resultEntries, resultJsonParts, type StoredResult } from './result-data.ts';

export type ResultFormat = 'json' | 'csv';

export async function sendResult(response: ServerResponse, result: StoredResult, format: ResultFormat, jobId: string): Promise<void> {
  const csv = format === 'csv';
  response.writeHead(200, csv ? { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${jobId}.csv"` } : { 'content-type': 'application/json; charset=utf-8' });
  try {
    const pieces = csv ? csvPieces(result) : slices(resultJsonParts(readChunks(result)));
    for await (const piece of pieces) if (!(await write(response, piece))) return;
    response.end();
  } catch (error) {
    // The status line is sent: the only honest way left to say the answer is incomplete
    // (the job was dropped by retention meanwhile, say) is to cut the connection.
    response.destroy(error as Error);
  }
}

/**
 * CSV rows a few thousand at a time: rendering costs about 1.7 µs a pair (measured: 122 ms
 * for one 1 MiB chunk of 69,000 numeric pairs), so a whole chunk at once would hold the
 * event loop past 50 ms.
 */
const CSV_PAIRS_PER_PIECE = 4096;

/**
 * Stored chunks in writes of at most 256 KiB (views, not copies): with several downloads
 * at once, every turn of the event loop writes one piece of each, and whole 1 MiB chunks
 * held a health probe 70 ms with three downloads running.
 */
const JSON_PIECE_BYTES = 256 * 1024;

async function* slices(parts: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const part of parts) for (let at = 0; at < part.byteLength; at += JSON_PIECE_BYTES) yield part.subarray(at, at + JSON_PIECE_BYTES);
}

async function* csvPieces(result: StoredResult): AsyncGenerator<string> {
  yield CSV_HEADER;
  for await (const chunk of readChunks(result)) {
    const pairs = [...resultEntries([chunk])];
    for (let at = 0; at < pairs.length; at += CSV_PAIRS_PER_PIECE) yield csvRows(pairs.slice(at, at + CSV_PAIRS_PER_PIECE));
  }
}

/**
 * Writes one piece, then lets the event loop run: waits for `drain` when the socket's
 * buffer is full, and always for the next turn, since a fast reader's `drain` comes on
 * the same turn (measured: CSV to curl drained at once, 245 times, and held the loop for
 * the whole 800 ms download). Answers false when the client went away.
 */
async function write(response: ServerResponse, piece: string | Uint8Array): Promise<boolean> {
  if (response.destroyed) return false;
  if (!response.write(piece)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
  return !response.destroyed;
}
