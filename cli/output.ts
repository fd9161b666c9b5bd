/** How the CLI shows and saves a job's result. */
import { createWriteStream } from 'node:fs';
import { access, constants, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { ApiClient, ResultFormat } from '../client/api-client.ts';
import { describeFsError } from '../client/job-source.ts';
import { resultToCsv } from '../shared/result-format.ts';
import type { KeyValue } from '../shared/job.ts';
import { DEFAULT_RESULT_SORT, orderResult } from '../shared/result-order.ts';
import { CliError, EXIT } from './exit-codes.ts';

/** A result longer than this many pairs is shown as its top pairs by value. */
export const TOP_PAIRS = 20;

export const RESULT_FORMATS = ['json', 'csv'] as const;

/** --format if given, else what --out's extension says, else JSON. */
export function resultFormat(format: ResultFormat | undefined, out: string | undefined): ResultFormat {
  return format ?? (out && /\.csv$/i.test(out) ? 'csv' : 'json');
}

export interface ResultPreview {
  text: string;
  /** Pairs shown, and pairs in the whole result. */
  shown: number;
  total: number;
}

/**
 * The result for a terminal: all of it, in key order, when it has at most `limit`
 * pairs; else its top `limit` pairs by value (highest first, as the dashboard's table
 * starts). JSON is an array with one pair a line; CSV is what the coordinator serves.
 */
export function previewResult(pairs: readonly KeyValue[], format: ResultFormat, limit = TOP_PAIRS): ResultPreview {
  const shown = pairs.length <= limit ? [...pairs] : orderResult(pairs, DEFAULT_RESULT_SORT).slice(0, limit);
  const text =
    format === 'csv'
      ? resultToCsv(shown)
      : shown.length === 0
        ? '[]\n'
        : `[\n${shown.map((pair) => `  ${JSON.stringify(pair)}`).join(',\n')}\n]\n`;
  return { text, shown: shown.length, total: pairs.length };
}

/** Writes a whole result to `file` in `format`, the bytes the coordinator serves for it; answers the bytes written. */
export async function writeResult(pairs: readonly KeyValue[], format: ResultFormat, file: string): Promise<number> {
  const text = format === 'csv' ? resultToCsv(pairs) : JSON.stringify(pairs);
  try {
    await writeFile(file, text);
  } catch (error) {
    throw new CliError(EXIT.REJECTED, `cannot write ${file}: ${describeFsError(error)}`);
  }
  return Buffer.byteLength(text);
}

/** Fails early, before any upload or wait, when `file` could not be written. */
export async function checkWritable(file: string): Promise<void> {
  try {
    await access(path.dirname(path.resolve(file)), constants.W_OK);
  } catch (error) {
    throw new CliError(EXIT.REJECTED, `cannot write --out ${file}: its directory ${describeFsError(error) === 'no such file' ? 'does not exist' : 'is not writable'}`);
  }
}

/** Streams the result, as the coordinator serves it in `format`, into `file` (or stdout); answers the bytes written. */
export async function saveResult(api: ApiClient, id: string, format: ResultFormat, file: string | NodeJS.WritableStream, signal?: AbortSignal): Promise<number> {
  const response = await api.getResultResponse(id, format, signal);
  if (!response.body) return 0;
  const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  let bytes = 0;
  body.on('data', (chunk: Uint8Array) => (bytes += chunk.length));
  if (typeof file !== 'string') {
    await pipeline(body, file, { end: false });
    return bytes;
  }
  const out = createWriteStream(file);
  let writeError: unknown;
  out.once('error', (error) => (writeError = error));
  try {
    await pipeline(body, out);
  } catch (error) {
    // The file's fault (a full disk, a directory removed meanwhile), not the network's.
    if (writeError) throw new CliError(EXIT.REJECTED, `cannot write ${file}: ${describeFsError(writeError)}`);
    throw error;
  }
  return bytes;
}


export const formatCount = (count: number): string => count.toLocaleString('en');
