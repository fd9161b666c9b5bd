/**
 * A job's result as bytes, from the reduce outputs to the HTTP answer, parsed once.
 *
 * A result is kept as chunks: each chunk is UTF-8 JSON of an array of `[key, value]`
 * entries, about RESULT_CHUNK_BYTES long, and the result is their entries in order.
 * Chunks let the store write and read a large result a piece at a time, and the JSON
 * answer is the chunks joined, so serving a result never parses it.
 *
 * The reduce outputs were checked as they arrived (task-output.ts: each sorted, every
 * key in its own partition), so they are merged here k ways, each parsed once; a
 * single partition is the result already and is not parsed at all.
 */
import { compareKeys, type Key } from '../shared/keys.ts';
import type { KeyValue } from '../shared/job.ts';

/**
 * About how large one chunk of a result is, in bytes. One blob per job would be
 * simplest, but a large result (an inverted index) would then need one JSON string of
 * its whole size at once, and V8 caps a string at about 512 MiB and SQLite a value at
 * 1 GB. Chunks keep each piece small, and a later paged `GET /result` can read only
 * the chunks it needs. A row per pair would give the same and more (lookup by key),
 * but costs a JSON parse and a row per pair: slower to write and read whole, which is
 * what the API does.
 */
export const RESULT_CHUNK_BYTES = 1 << 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OPEN = encoder.encode('[');
const COMMA = encoder.encode(',');
const CLOSE = encoder.encode(']');

/** Cuts entries, in order, into chunks of about RESULT_CHUNK_BYTES. An empty result is one empty chunk: "succeeded with nothing" is not "no result". */
export class ResultChunker {
  readonly #chunks: Uint8Array[] = [];
  #parts: string[] = [];
  #chars = 0;

  add(entry: KeyValue): void {
    const json = JSON.stringify(entry);
    this.#parts.push(json);
    // Characters stand in for bytes: the chunk size is a target, not a limit.
    this.#chars += json.length + 1;
    if (this.#chars >= RESULT_CHUNK_BYTES) this.#cut();
  }

  finish(): Uint8Array[] {
    if (this.#parts.length > 0 || this.#chunks.length === 0) this.#cut();
    return this.#chunks;
  }

  #cut(): void {
    this.#chunks.push(encoder.encode(`[${this.#parts.join(',')}]`));
    this.#parts = [];
    this.#chars = 0;
  }
}

/** The result as chunks, from a list of entries in order. */
export function chunkResult(entries: Iterable<KeyValue>): Uint8Array[] {
  const chunker = new ResultChunker();
  for (const entry of entries) chunker.add(entry);
  return chunker.finish();
}

/**
 * Merges the checked reduce outputs (each UTF-8 JSON of `[key, value]` pairs sorted by
 * key; keys disjoint between partitions) into the result's chunks, sorted by key.
 */
export function mergeReduceOutputs(outputs: readonly Uint8Array[]): Uint8Array[] {
  if (outputs.length === 1 && outputs[0]!.byteLength <= RESULT_CHUNK_BYTES) return [outputs[0]!];
  const lists = outputs.map((bytes) => JSON.parse(decoder.decode(bytes)) as KeyValue[]).filter((list) => list.length > 0);
  const chunker = new ResultChunker();
  // A binary heap of the lists' heads, by key: each entry costs log R comparisons,
  // where concatenating and sorting cost log n.
  const heads = lists.map((list) => ({ list, at: 0 }));
  const keyOf = (head: { list: KeyValue[]; at: number }): Key => head.list[head.at]![0];
  const less = (a: number, b: number) => compareKeys(keyOf(heads[a]!), keyOf(heads[b]!)) < 0;
  const swap = (a: number, b: number) => ([heads[a], heads[b]] = [heads[b]!, heads[a]!]);
  const down = (from: number) => {
    for (let at = from; ; ) {
      const left = 2 * at + 1;
      const right = left + 1;
      let least = at;
      if (left < heads.length && less(left, least)) least = left;
      if (right < heads.length && less(right, least)) least = right;
      if (least === at) return;
      swap(at, least);
      at = least;
    }
  };
  for (let at = Math.floor(heads.length / 2) - 1; at >= 0; at--) down(at);
  while (heads.length > 0) {
    const top = heads[0]!;
    chunker.add(top.list[top.at]!);
    if (++top.at === top.list.length) {
      heads[0] = heads[heads.length - 1]!;
      heads.pop();
    }
    down(0);
  }
  return chunker.finish();
}

/** A stored result, read a chunk at a time; a database's chunk comes as a promise. */
export interface StoredResult {
  chunks: number;
  chunk(index: number): Uint8Array | Promise<Uint8Array>;
}

/** A stored result whose chunks are at hand: a synchronous store's, which the in-memory scheduler reads itself (a pipeline's next input). */
export interface StoredResultAtHand extends StoredResult {
  chunk(index: number): Uint8Array;
}

/** The result's chunks, read from the store one at a time as they are asked for. */
export function* chunksOf(result: StoredResultAtHand): Generator<Uint8Array> {
  for (let index = 0; index < result.chunks; index++) yield result.chunk(index);
}

/** The result's chunks, each read when it is asked for, whichever way the store answers. */
export async function* readChunks(result: StoredResult): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < result.chunks; index++) yield await result.chunk(index);
}

/** The pieces of the JSON answer for a result, in order: the chunks' entries, joined into one array, never parsed. */
export async function* resultJsonParts(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield OPEN;
  let first = true;
  for await (const chunk of chunks) {
    // A chunk is `[...]`: its entries lie between the brackets; `[]` has none.
    if (chunk.byteLength <= 2) continue;
    if (!first) yield COMMA;
    yield chunk.subarray(1, chunk.byteLength - 1);
    first = false;
  }
  yield CLOSE;
}

/** The result's entries, chunk by chunk: for CSV, and for whoever needs the values. */
export function* resultEntries(chunks: Iterable<Uint8Array>): Generator<KeyValue> {
  for (const chunk of chunks) yield* JSON.parse(decoder.decode(chunk)) as KeyValue[];
}
