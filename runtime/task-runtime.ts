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
import type { KeyValue, MapTaskInput, PartitionBlock } from '../shared/job.ts';
import { canonicalKey, compareKeys, isKey, type Key } from '../shared/keys.ts';
import { LIMITS } from '../shared/limits.ts';
import { partitionOf } from '../shared/partition.ts';
import type { Bytes, MapInputPayload } from '../shared/protocol.ts';
import { findUnencodable, JSON_VALUE_RULE } from './json-value.ts';
import { preview, TaskRunError, toTaskError } from './task-error.ts';

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

/** One key's values while a task collects them. */
interface Group {
  key: Key;
  values: unknown[];
}

interface MapGroup extends Group {
  /** partitionOf(key, R), computed once when the key is first seen. */
  partition: number;
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

  return groups.toBlocks().map((block, partition) => encodeJson(block, `map output for partition ${partition}`));
}

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
 * pair, about 1.4 times faster on a word count). Both may be mixed.
 */
function mapRecord(module: JobModule, groups: MapGroups, recordIndex: number, recordKey: Key, recordValue: unknown): void {
  const where = () => `map of record #${recordIndex} (key ${preview(recordKey)})`;
  const fileUnder = (key: unknown, value: unknown, pairIndex: number, verb: string) => {
    if (!isKey(key) || value === undefined) throw new TypeError(`${where()} ${verb} a bad pair #${pairIndex}: ${describeBadPair([key, value])}`);
    if (!isJsonPrimitive(value)) checkEncodable(value, () => [where(), `${verb} a value for key ${preview(key)}`]);
    groups.add(key, value);
  };
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
      if (!open) throw new TypeError(`${where()} called emit after it returned; emit only while map runs (no callbacks or promises)`);
      fileUnder(key, value, emitted++, 'emitted');
    } catch (error) {
      refusal = error;
      throw error;
    }
  };
  let result: unknown;
  try {
    result = module.map(recordKey, recordValue, emit);
  } catch (error) {
    throw error === refusal ? error : inJobCode(error, where());
  }
  if (result === undefined) {
    open = false;
    // A two-parameter map that returns nothing most likely forgot its `return` (or the
    // `*` of a generator); one that takes `emit` may rightly produce no pair for a record.
    if (emitted === 0 && module.map.length < 3) {
      throw new TypeError(
        `${where()} returned undefined; map must return an iterable of [key, value] pairs ` +
          '(e.g. be a generator: `export function* map(key, value) { yield [k, v]; }`), or take `emit` as its third parameter and call emit(k, v)',
      );
    }
    return;
  }
  const iterate = result === null ? undefined : (result as Partial<Iterable<unknown>>)[Symbol.iterator];
  if (typeof iterate !== 'function') {
    throw new TypeError(
      `${where()} returned ${preview(result)}; map must return an iterable of [key, value] pairs, ` +
        'e.g. be a generator (`export function* map(key, value) { yield [k, v]; }`), or call emit(k, v) and return nothing',
    );
  }
  let iterator: Iterator<unknown>;
  try {
    iterator = iterate.call(result);
  } catch (error) {
    throw inJobCode(error, where());
  }

  for (let pairIndex = 0; ; pairIndex++) {
    let step: IteratorResult<unknown>;
    // A manual loop rather than for-of: only the iterator's own code (the user's
    // generator body) is job code; the checks below are ours and must not be relabelled.
    try {
      step = iterator.next();
    } catch (error) {
      throw error === refusal ? error : inJobCode(error, where());
    }
    if (step.done) {
      open = false;
      return;
    }
    const pair = step.value;
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`${where()} yielded a bad pair #${pairIndex}: ${describeBadPair(pair)}`);
    }
    fileUnder(pair[0], pair[1], pairIndex, 'yielded');
  }
}

/** A key the coordinator would refuse fails the task here, where the error can say which. */
function checkKeyLength(chars: number, key: Key): void {
  if (chars > LIMITS.keyChars) {
    throw new TypeError(`map produced a key of ${chars} characters (${preview(key)}); keys may have at most ${LIMITS.keyChars}`);
  }
}

/** How many values a key collects before the combiner folds them (when there is one). */
const COMBINE_EVERY = 256;

/**
 * A map task's output while it grows: values grouped by key, string keys by themselves,
 * other keys by their canonical string, each group's partition computed once.
 */
class MapGroups {
  readonly #strings = new Map<string, MapGroup>();
  readonly #others = new Map<string, MapGroup>();
  readonly #partitions: number;
  readonly #combine: ReduceFunction | undefined;

  constructor(partitions: number, combine: ReduceFunction | undefined) {
    this.#partitions = partitions;
    this.#combine = combine;
  }

  /**
   * `add` for a string key, the common case, kept small so the engine inlines it into
   * `emit`. A deliberate near-copy of `add`: folding both into one helper made a word
   * count's map task 5-8% slower (bench/map-runtime.ts, same run).
   */
  addString(key: string, value: unknown): void {
    let group = this.#strings.get(key);
    if (group === undefined) {
      checkKeyLength(key.length, key);
      group = { key, values: [], partition: partitionOf(key, this.#partitions) };
      this.#strings.set(key, group);
    }
    const { values } = group;
    values.push(value);
    if (values.length >= COMBINE_EVERY && this.#combine !== undefined) group.values = [combineGroup(this.#combine, group)];
  }

  /** Files one checked pair under its key, folding with the combiner when its values pile up. */
  add(key: Key, value: unknown): void {
    // String keys (the common case) are their own map key: building a canonical string
    // for every pair would allocate once per pair.
    const isString = typeof key === 'string';
    const mapKey = isString ? key : canonicalKey(key);
    const table = isString ? this.#strings : this.#others;
    let group = table.get(mapKey);
    if (group === undefined) {
      checkKeyLength(mapKey.length, key);
      group = {
        // An array key is copied so that job code reusing its array cannot change a
        // key after it was filed under its canonical form.
        key: typeof key === 'object' ? (JSON.parse(mapKey) as Key) : key,
        values: [],
        partition: partitionOf(key, this.#partitions),
      };
      table.set(mapKey, group);
    }
    const { values } = group;
    values.push(value);
    // Fold as pairs arrive, so a frequent key holds a few values, not one per occurrence
    // (a combiner may run any number of times on partial values, as in Hadoop).
    if (values.length >= COMBINE_EVERY && this.#combine !== undefined) group.values = [combineGroup(this.#combine, group)];
  }

  /** The R partition blocks, each group combined once more when there is a combiner. */
  toBlocks(): PartitionBlock[] {
    const blocks: PartitionBlock[] = Array.from({ length: this.#partitions }, () => []);
    const combine = this.#combine;
    for (const table of [this.#strings, this.#others]) {
      for (const group of table.values()) {
        if (combine !== undefined) group.values = [combineGroup(combine, group)];
        blocks[group.partition]!.push([group.key, group.values]);
      }
    }
    return blocks;
  }
}

function combineGroup(combine: ReduceFunction, group: Group): unknown {
  const where = () => `combine of key ${preview(group.key)}`;
  let combined: unknown;
  try {
    combined = combine(group.key, group.values);
  } catch (error) {
    throw inJobCode(error, where());
  }
  if (combined === undefined) {
    throw new TypeError(`${where()} returned undefined; combine must return one value (did it forget \`return\`?)`);
  }
  if (!isJsonPrimitive(combined)) checkEncodable(combined, () => [where(), 'returned a value']);
  return combined;
}

/**
 * Runs a reduce task: merges the partition blocks (one per map task) by key, values in
 * block order, calls `reduce` once per key and returns the UTF-8 JSON `KeyValue[]`
 * sorted by `compareKeys`. `blocks` is either what `ReduceAssignment.blocks` carries
 * (one UTF-8 JSON `PartitionBlock[]`) or a list of UTF-8 JSON `PartitionBlock`s.
 */
export function runReduceTask(module: JobModule, blocks: Bytes | readonly Bytes[]): Uint8Array {
  const groups = new Map<string, Group>();
  const addBlock = (block: unknown, b: number) => {
    if (!Array.isArray(block)) throw new TypeError(`reduce input block #${b} is not an array of [key, values] entries`);
    for (let e = 0; e < block.length; e++) {
      const entry: unknown = block[e];
      if (!Array.isArray(entry) || entry.length !== 2 || !isKey(entry[0]) || !Array.isArray(entry[1])) {
        throw new TypeError(`reduce input block #${b} entry #${e} is not a [key, values[]] pair: ${preview(entry)}`);
      }
      const key = entry[0] as Key;
      const values = entry[1] as unknown[];
      const canonical = canonicalKey(key);
      const group = groups.get(canonical);
      if (group === undefined) {
        // The parsed array is ours alone, so the first block's values are adopted, not copied.
        groups.set(canonical, { key, values });
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
  for (const { key, values } of groups.values()) {
    const where = `reduce of key ${preview(key)}`;
    let reduced: unknown;
    try {
      reduced = module.reduce(key, values);
    } catch (error) {
      throw inJobCode(error, where);
    }
    if (reduced === undefined) {
      throw new TypeError(`${where} returned undefined; reduce must return one value (did it forget \`return\`?)`);
    }
    if (!isJsonPrimitive(reduced)) checkEncodable(reduced, () => [where, 'returned a value']);
    pairs.push([key, reduced]);
  }
  pairs.sort((a, b) => compareKeys(a[0], b[0]));
  return encodeJson(pairs, 'reduce output');
}

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

/** A string, number, boolean or null: JSON carries it as is (NaN as null, as JSON always has). */
const isJsonPrimitive = (value: unknown): boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null;

/**
 * Refuses a value JSON would mangle or refuse (json-value.ts) where the job produced it,
 * so the error names the record or key. `source` says where and how, e.g.
 * `['reduce of key "k"', 'returned a value']`; it is built only on failure. A getter
 * that throws while the value is read is job code failing, and labelled as such.
 */
function checkEncodable(value: unknown, source: () => [where: string, produced: string]): void {
  let problem: string | undefined;
  try {
    problem = findUnencodable(value);
  } catch (error) {
    const [where, produced] = source();
    throw inJobCode(error, `${where}, in a getter of the value it ${produced.replace(/^(\w+) a value/, '$1')}`);
  }
  if (problem !== undefined) {
    const [where, produced] = source();
    throw new TypeError(`${where} ${produced} that JSON cannot carry: ${problem}; ${JSON_VALUE_RULE}`);
  }
}

/** Re-throws a failure of job code with its name and stack, the message saying where it happened. */
function inJobCode(thrown: unknown, where: string): TaskRunError {
  const error = toTaskError(thrown);
  return new TaskRunError({ ...error, message: `${error.message} (in ${where})` });
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
