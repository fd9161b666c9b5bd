/**
 * The task runtime: runs one map or reduce task of a job module over its binary input
 * and produces the binary output the coordinator expects. Pure logic with no DOM and no
 * Node APIs, so the same code runs in a Web Worker and in Node (tests, a Node volunteer).
 *
 *   map task:    UTF-8 JSON MapTaskInput ─▶ map per record ─▶ group by key ─▶ combine?
 *                ─▶ R × UTF-8 JSON PartitionBlock (partition = partitionOf(key, R))
 *                   (`runMapTaskPacked`: the R blocks packed into one buffer, as sent)
 *   reduce task: blocks of one partition ─▶ merge values per key ─▶ reduce per key
 *                ─▶ UTF-8 JSON KeyValue[] sorted by compareKeys
 *
 * Throws on any failure: job code that throws (re-thrown with its name and stack, the
 * message saying where it happened), output that breaks the job model (a bad pair, an
 * undefined value, a value JSON cannot hold: a function, a BigInt, a cycle...) and
 * malformed input. Callers turn the throw
 * into a task failure with `toTaskError`.
 */
import { packParts } from '../shared/byte-packing.ts';
import type { KeyValue, MapTaskInput } from '../shared/job.ts';
import { canonicalKey, compareKeys, isKey, type Key } from '../shared/keys.ts';
import type { Bytes, MapInputPayload } from '../shared/protocol.ts';
import { checkEncodable, inJobCode, isJsonPrimitive } from './job-code.ts';
import { MapGroups } from './map-groups.ts';
import { preview, toTaskError } from './task-error.ts';

export { toTaskError } from './task-error.ts';

/** Hands one `[key, value]` pair of a map's output to the runtime (the emit form). */
export type Emit = (key: Key, value: unknown) => void;

/**
 * A job's `map`: returns any iterable (usually a generator) of `[key, value]` pairs, or
 * calls `emit(key, value)` per pair and returns nothing.
 */
export type MapFunction = (key: Key, value: unknown, emit: Emit) => Iterable<unknown> | void;

/** A job's `reduce` (and `combine`): every value emitted for `key` in, one value out. */
export type ReduceFunction = (key: Key, values: unknown[]) => unknown;

/** The functions a job module exports (contract: docs/job-model.md). */
export interface JobModule {
  map: MapFunction;
  reduce: ReduceFunction;
  /** Optional map-side pre-aggregation with reduce's shape. Default: none. */
  combine?: ReduceFunction;
}

/**
 * Checks an imported module namespace and returns its job functions. Throws a TypeError
 * naming the export that is missing or not a function.
 */
export function toJobModule(namespace: unknown): JobModule {
  if (typeof namespace !== 'object' || namespace === null) {
    throw new TypeError(`a job module must be an ES module namespace, got ${preview(namespace)}`);
  }
  const { map, reduce, combine } = namespace as Record<string, unknown>;
  for (const [name, value] of [['map', map], ['reduce', reduce]] as const) {
    if (typeof value !== 'function') {
      throw new TypeError(
        `the job module must export a function \`${name}\` (e.g. \`export function ${name}(...) {...}\`), ` +
          `but its \`${name}\` is ${value === undefined ? 'missing' : describeType(value)}`,
      );
    }
  }
  if (combine !== undefined && typeof combine !== 'function') {
    throw new TypeError(`the job module's optional \`combine\` export must be a function, but it is ${describeType(combine)}`);
  }
  return {
    map: map as MapFunction,
    reduce: reduce as ReduceFunction,
    ...(combine !== undefined ? { combine: combine as ReduceFunction } : {}),
  };
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Runs a map task: `map` over every record of `input` (UTF-8 JSON of a `MapTaskInput`),
 * values grouped by key, `combine` per key when the module has one, and the groups cut
 * into `partitions` partition blocks. Returns exactly `partitions` UTF-8 JSON
 * `PartitionBlock`s in partition order; an empty partition is `[]`.
 */
export function runMapTask(module: JobModule, input: MapInputPayload, partitions: number): Uint8Array[] {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a map task needs a whole number of partitions >= 1, got ${preview(partitions)}`);
  }
  const task = parseMapTaskInput(input);
  const groups = new MapGroups(partitions, module.combine);
  if (task.kind === 'text') {
    mapRecord(module, groups, 0, task.key, task.text);
  } else if (task.kind === 'records') {
    const { records } = task;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (!Array.isArray(record) || record.length !== 2) {
        throw new TypeError(`map task input record #${i} is not a [key, value] pair: ${preview(record)}`);
      }
      mapRecord(module, groups, i, record[0] as Key, record[1]);
    }
  } else {
    for (let n = task.from; n < task.to; n++) mapRecord(module, groups, n - task.from, n, n);
  }

  // An empty partition skips JSON.stringify and the encoder: a one-record task at R = 64
  // has 63 of them, and encoding them was most of its cost.
  return groups.toBlocks().map((block, partition) => (block.length === 0 ? new Uint8Array(EMPTY_BLOCK) : encodeJson(block, `map output for partition ${partition}`)));
}

/** `[]` in UTF-8: the block of a partition without entries. */
const EMPTY_BLOCK = [0x5b, 0x5d];

/** A map task's output as the wire carries it: partition p is `blocks[offsets[p]..offsets[p + 1]]`. */
export interface PackedMapOutput {
  blocks: Uint8Array;
  /** R + 1 byte offsets into `blocks`, from 0 to its length. */
  offsets: number[];
}

/**
 * `runMapTask` with its R blocks packed into one buffer (shared/byte-packing.ts), the
 * form `task:complete` sends: one Socket.IO attachment, one buffer to transfer.
 */
export function runMapTaskPacked(module: JobModule, input: MapInputPayload, partitions: number): PackedMapOutput {
  const { bytes, offsets } = packParts(runMapTask(module, input, partitions));
  return { blocks: bytes, offsets };
}

/**
 * Calls `map` on one record and files every pair it produces under its key. `map` either
 * returns an iterable of pairs (the generator form) or calls `emit(key, value)`, its third
 * argument, and returns nothing (the emit form: no pair array and no generator resume per
 * pair; on a word count in this runtime, about 1.25 times faster in Node 20, bench/map-runtime.ts).
 * Both may be mixed.
 */
function mapRecord(module: JobModule, groups: MapGroups, recordIndex: number, recordKey: Key, recordValue: unknown): void {
  let emitted = 0;
  let open = true;
  // Our own refusals thrown inside emit pass through job code; they are recognised on the
  // way out and kept as they are rather than labelled as the job's failure.
  let refusal: unknown;
  const emit = (key: unknown, value: unknown): void => {
    // The common pair, a string key and a primitive value, goes straight in.
    if (open && typeof key === 'string' && isJsonPrimitive(value)) {
      emitted++;
      groups.addString(key, value);
      return;
    }
    try {
      if (!open) throw new TypeError(`${whereMap(recordIndex, recordKey)} called emit after it returned; emit only while map runs (no callbacks or promises)`);
      filePair(groups, key, value, emitted++, 'emitted', recordIndex, recordKey);
    } catch (error) {
      refusal = error;
      throw error;
    }
  };
  let result: unknown;
  try {
    result = module.map(recordKey, recordValue, emit);
  } catch (error) {
    throw error === refusal ? error : inJobCode(error, whereMap(recordIndex, recordKey));
  }
  if (result === undefined) {
    open = false;
    // A two-parameter map that returns nothing most likely forgot its `return` (or the
    // `*` of a generator); one that takes `emit` may rightly produce no pair for a record.
    if (emitted === 0 && module.map.length < 3) {
      throw new TypeError(
        `${whereMap(recordIndex, recordKey)} returned undefined; map must return an iterable of [key, value] pairs ` +
          '(e.g. be a generator: `export function* map(key, value) { yield [k, v]; }`), or take `emit` as its third parameter and call emit(k, v)',
      );
    }
    return;
  }
  const iterate = result === null ? undefined : (result as Partial<Iterable<unknown>>)[Symbol.iterator];
  if (typeof iterate !== 'function') {
    throw new TypeError(
      `${whereMap(recordIndex, recordKey)} returned ${preview(result)}; map must return an iterable of [key, value] pairs, ` +
        'e.g. be a generator (`export function* map(key, value) { yield [k, v]; }`), or call emit(k, v) and return nothing',
    );
  }
  let iterator: Iterator<unknown>;
  try {
    iterator = iterate.call(result);
  } catch (error) {
    throw inJobCode(error, whereMap(recordIndex, recordKey));
  }

  for (let pairIndex = 0; ; pairIndex++) {
    let step: IteratorResult<unknown>;
    // A manual loop rather than for-of: only the iterator's own code (the user's
    // generator body) is job code; the checks below are ours and must not be relabelled.
    try {
      step = iterator.next();
    } catch (error) {
      throw error === refusal ? error : inJobCode(error, whereMap(recordIndex, recordKey));
    }
    if (step.done) {
      open = false;
      return;
    }
    const pair = step.value;
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`${whereMap(recordIndex, recordKey)} yielded a bad pair #${pairIndex}: ${describeBadPair(pair)}`);
    }
    const key: unknown = pair[0];
    const value: unknown = pair[1];
    if (typeof key === 'string' && isJsonPrimitive(value)) groups.addString(key, value);
    else filePair(groups, key, value, pairIndex, 'yielded', recordIndex, recordKey);
  }
}

/** Checks a pair that is not the common one (a string key, a primitive value) and files it. */
function filePair(groups: MapGroups, key: unknown, value: unknown, pairIndex: number, verb: string, recordIndex: number, recordKey: Key): void {
  if (!isKey(key) || value === undefined) {
    throw new TypeError(`${whereMap(recordIndex, recordKey)} ${verb} a bad pair #${pairIndex}: ${describeBadPair([key, value])}`);
  }
  if (!isJsonPrimitive(value)) checkEncodable(value, () => [whereMap(recordIndex, recordKey), `${verb} a value for key ${preview(key)}`]);
  groups.add(key, value);
}

/** Where a map failed, for its messages; built only when one is thrown. */
const whereMap = (recordIndex: number, recordKey: Key): string => `map of record #${recordIndex} (key ${preview(recordKey)})`;

/**
 * Runs a reduce task: merges the partition blocks (one per map task) by key, values in
 * block order, calls `reduce` once per key and returns the UTF-8 JSON `KeyValue[]`
 * sorted by `compareKeys`. `blocks` is either what `ReduceAssignment.blocks` carries
 * (one UTF-8 JSON `PartitionBlock[]`) or a list of UTF-8 JSON `PartitionBlock`s.
 */
export function runReduceTask(module: JobModule, blocks: Bytes | readonly Bytes[]): Uint8Array {
  // As on the map side, a string key is looked up as itself rather than by a canonical
  // string built per entry; `order` keeps the first-seen order reduce is called in.
  const strings = new Map<string, ReduceGroup>();
  const others = new Map<string, ReduceGroup>();
  const order: ReduceGroup[] = [];
  const addBlock = (block: unknown, b: number) => {
    if (!Array.isArray(block)) throw new TypeError(`reduce input block #${b} is not an array of [key, values] entries`);
    for (let e = 0; e < block.length; e++) {
      const entry: unknown = block[e];
      if (!Array.isArray(entry) || entry.length !== 2 || !isKey(entry[0]) || !Array.isArray(entry[1])) {
        throw new TypeError(`reduce input block #${b} entry #${e} is not a [key, values[]] pair: ${preview(entry)}`);
      }
      const key = entry[0] as Key;
      const values = entry[1] as unknown[];
      const table = typeof key === 'string' ? strings : others;
      const mapKey = typeof key === 'string' ? key : canonicalKey(key);
      const group = table.get(mapKey);
      if (group === undefined) {
        // The parsed array is ours alone, so the first block's values are adopted, not copied.
        const added = { key, values };
        table.set(mapKey, added);
        order.push(added);
      } else {
        // A loop, not push(...values): spreading a huge array overflows the call stack.
        for (let v = 0; v < values.length; v++) group.values.push(values[v]);
      }
    }
  };
  if (Array.isArray(blocks)) {
    const list = blocks as readonly Bytes[];
    for (let b = 0; b < list.length; b++) addBlock(parseJson(list[b]!, `reduce input block #${b}`), b);
  } else {
    const all = parseJson(blocks as Bytes, 'reduce input');
    if (!Array.isArray(all)) throw new TypeError('the reduce input is not an array of partition blocks');
    for (let b = 0; b < all.length; b++) addBlock(all[b], b);
  }

  const pairs: KeyValue[] = [];
  for (let g = 0; g < order.length; g++) {
    const { key, values } = order[g]!;
    let reduced: unknown;
    try {
      reduced = module.reduce(key, values);
    } catch (error) {
      throw inJobCode(error, whereReduce(key));
    }
    if (reduced === undefined) {
      throw new TypeError(`${whereReduce(key)} returned undefined; reduce must return one value (did it forget \`return\`?)`);
    }
    if (!isJsonPrimitive(reduced)) checkEncodable(reduced, () => [whereReduce(key), 'returned a value']);
    pairs.push([key, reduced]);
  }
  // compareKeys on strings alone is plain UTF-16 order, without its type ranks.
  pairs.sort(others.size === 0 ? compareStringKeys : (a, b) => compareKeys(a[0], b[0]));
  return encodeJson(pairs, 'reduce output');
}

/** One key's values while a reduce task merges its blocks. */
interface ReduceGroup {
  key: Key;
  values: unknown[];
}

const compareStringKeys = (a: KeyValue, b: KeyValue): number => ((a[0] as string) < (b[0] as string) ? -1 : (a[0] as string) > (b[0] as string) ? 1 : 0);

const whereReduce = (key: Key): string => `reduce of key ${preview(key)}`;

/**
 * A text record arrives as raw UTF-8; records and ranges as JSON. Bytes that are not
 * UTF-8 become U+FFFD rather than failing the task, as a text editor would show them.
 */
function parseMapTaskInput(input: MapInputPayload): MapTaskInput {
  if (input.format === 'text') return { kind: 'text', key: input.key, text: decoder.decode(input.bytes) };
  const task = parseJson(input.bytes, 'map task input') as Partial<{ kind: unknown; records: unknown; from: unknown; to: unknown }>;
  if (task?.kind === 'records' && Array.isArray(task.records)) return task as MapTaskInput;
  if (task?.kind === 'range' && Number.isSafeInteger(task.from) && Number.isSafeInteger(task.to)) {
    return task as MapTaskInput;
  }
  throw new TypeError(`map task input is neither {kind:"records",records:[...]} nor {kind:"range",from,to}: ${preview(task)}`);
}

function parseJson(bytes: Bytes, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new TypeError(`the ${what} is not valid UTF-8 JSON: ${toTaskError(error).message}`);
  }
}

/**
 * UTF-8 JSON of a block or of reduce output. When JSON.stringify refuses (a BigInt, a
 * cycle, a string too long), the error names the first key whose value is at fault;
 * that search runs only on the failure path.
 */
function encodeJson(entries: readonly (readonly [Key, unknown])[], what: string): Uint8Array {
  let text: string;
  try {
    text = JSON.stringify(entries);
  } catch (error) {
    const culprit = entries.find((entry) => {
      try {
        JSON.stringify(entry);
        return false;
      } catch {
        return true;
      }
    });
    const at = culprit ? ` (the value for key ${preview(culprit[0])})` : '';
    throw new TypeError(
      `the ${what} cannot be encoded as JSON${at}: ${toTaskError(error).message}. ` +
        'Values must be JSON-representable: no BigInt, no cycles.',
    );
  }
  return encoder.encode(text);
}

function describeBadPair(pair: unknown): string {
  const expected = 'expected [key, value] where key is a string, finite number, boolean or array of those';
  if (!Array.isArray(pair)) return `${expected}, got ${preview(pair)} (not an array)`;
  if (pair.length !== 2) return `${expected}, got an array of length ${pair.length}: ${preview(pair)}`;
  if (!isKey(pair[0])) return `the key ${preview(pair[0])} is not a valid key (${expected})`;
  return `the value for key ${preview(pair[0])} is undefined, which JSON cannot represent`;
}

function describeType(value: unknown): string {
  return value === null ? 'null' : `a ${typeof value} (${preview(value, 40)})`;
}
