/**
 * A map task's input as the coordinator keeps it, and as it sends it. Text travels as
 * raw UTF-8 (not escaped inside JSON), and a split of an uploaded file is kept as a
 * reference to its bytes on disk, read only when the task is handed out, so a large
 * input never sits whole in memory or in the database.
 *
 * Stored form (opaque to the store): one tag byte, then
 *   0x01 JSON   UTF-8 JSON of a MapTaskInput (records or range)
 *   0x02 TEXT   u32 key length, key (UTF-8), then the text (UTF-8)
 *   0x03 FILE   UTF-8 JSON of { key, path, offset, length }
 */
import type { MapTaskInput } from '../shared/job.ts';
import type { MapInputPayload } from '../shared/protocol.ts';
import { utf8Length } from '../shared/split.ts';
import { readSlice } from './input-files.ts';
import type { RangeSplit } from './store/job-store.ts';

export type MapInputSource =
  | { format: 'json'; bytes: Uint8Array }
  | { format: 'text'; key: string; bytes: Uint8Array }
  | { format: 'file'; key: string; path: string; offset: number; length: number };

/** Bytes of the stored form before a JSON input's JSON, and before a text input's key and text. */
export const JSON_HEADER_BYTES = 1;
export const TEXT_HEADER_BYTES = 5;
const JSON_TAG = 0x01;
const TEXT_TAG = 0x02;
const FILE_TAG = 0x03;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMapInput(source: MapInputSource): Uint8Array {
  switch (source.format) {
    case 'json':
      return withTag(JSON_TAG, [source.bytes]);
    case 'text': {
      const key = encoder.encode(source.key);
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, key.length);
      return withTag(TEXT_TAG, [length, key, source.bytes]);
    }
    case 'file': {
      const { key, path, offset, length } = source;
      return withTag(FILE_TAG, [encoder.encode(JSON.stringify({ key, path, offset, length }))]);
    }
  }
}

/**
 * The stored form of an inline map task's input (a text split, records, a range), encoded
 * straight into it: encoding the payload first and copying it behind its tag held every
 * input twice until the last was copied.
 */
export function encodeInlineMapInput(task: MapTaskInput): Uint8Array {
  if (task.kind !== 'text') return withText(JSON_TAG, new Uint8Array(0), JSON.stringify(task));
  const key = encoder.encode(task.key);
  const head = new Uint8Array(4 + key.length);
  new DataView(head.buffer).setUint32(0, key.length);
  head.set(key, 4);
  return withText(TEXT_TAG, head, task.text);
}

/**
 * Map task `index`'s input of a range job, in stored form, computed rather than read: the
 * same bytes its row held when ranges were stored, at no cost to the store (a lease read
 * its row, and a 100,000-task submission wrote 100,000 of them).
 */
export function rangeMapInput(range: RangeSplit, index: number): Uint8Array {
  const from = range.from + index * range.recordsPerTask;
  return encodeInlineMapInput({ kind: 'range', from, to: Math.min(range.to, from + range.recordsPerTask) });
}

/** As `decodeMapInput(rangeMapInput(range, index))`, made without the stored form on the way: this is every lease of a range job. */
export function rangeMapInputSource(range: RangeSplit, index: number): MapInputSource {
  const from = range.from + index * range.recordsPerTask;
  const input: MapTaskInput = { kind: 'range', from, to: Math.min(range.to, from + range.recordsPerTask) };
  return { format: 'json', bytes: encoder.encode(JSON.stringify(input)) };
}

export function decodeMapInput(stored: Uint8Array): MapInputSource {
  const body = stored.subarray(1);
  switch (stored[0]) {
    case JSON_TAG:
      return { format: 'json', bytes: body };
    case TEXT_TAG: {
      const keyLength = new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
      return { format: 'text', key: decoder.decode(body.subarray(4, 4 + keyLength)), bytes: body.subarray(4 + keyLength) };
    }
    case FILE_TAG:
      return { format: 'file', ...(JSON.parse(decoder.decode(body)) as { key: string; path: string; offset: number; length: number }) };
    default:
      throw new Error(`unknown stored map input tag ${stored[0]}`);
  }
}

/**
 * What a volunteer receives for this input. Kept inline, it is at hand; a split of an
 * uploaded file is read from disk here, off the event loop, so only then is there
 * anything to wait for.
 */
export function toPayload(source: MapInputSource): MapInputPayload | Promise<MapInputPayload> {
  switch (source.format) {
    case 'json':
      return { format: 'json', bytes: source.bytes };
    case 'text':
      return { format: 'text', key: source.key, bytes: source.bytes };
    case 'file':
      return readSlice(source.path, { offset: source.offset, length: source.length }).then((bytes) => ({ format: 'text', key: source.key, bytes }));
  }
}

/** The input's size in bytes, known without reading a file. */
export function payloadBytes(source: MapInputSource): number {
  return source.format === 'file' ? source.length : source.bytes.byteLength;
}

/** `tag`, `head`, then `text` as UTF-8, in one allocation sized by utf8Length. */
function withText(tag: number, head: Uint8Array, text: string): Uint8Array {
  const out = new Uint8Array(1 + head.length + utf8Length(text));
  out[0] = tag;
  out.set(head, 1);
  const { read } = encoder.encodeInto(text, out.subarray(1 + head.length));
  // A lone surrogate becomes 3 bytes (U+FFFD) where utf8Length counted 2, and the text did not fit: encode it the long way.
  return read === text.length ? out : withTag(tag, [head, encoder.encode(text)]);
}

function withTag(tag: number, parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((sum, part) => sum + part.length, 0));
  out[0] = tag;
  let at = 1;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
