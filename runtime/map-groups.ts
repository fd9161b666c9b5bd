/**
 * A map task's output while it grows: every pair filed under its key, a key's values
 * folded by the job's `combine` (when it has one) every COMBINE_EVERY values and once
 * more at the end, then cut into the R partition blocks.
 *
 * Per pair this is the hot path of a map task (a word count files a pair per word), so
 * it is built to cost little more than the job's own `counts.set(w, counts.get(w) + 1)`:
 *   - a string key is looked up as itself; its canonical string and partition are
 *     computed once, when the key is first seen;
 *   - a key's values are held as a list followed by a run of one repeated value, so
 *     the common stream (`[word, 1]`, `[word, 1]`, ...) costs a counter, not an array
 *     slot per pair. The arrays `combine` and the blocks get are built from that form,
 *     holding exactly the values, in the order and at the points a plain list would
 *     have given. Holding every value in arrays made the runtime's part of a word count
 *     about 20 ms/MB dearer in Node 20, most of it in the scavenger copying those
 *     arrays (bench/map-runtime.ts).
 */
import type { PartitionBlock } from '../shared/job.ts';
import { canonicalKey, type Key } from '../shared/keys.ts';
import { LIMITS } from '../shared/limits.ts';
import { partitionOfCanonical, partitionOfString } from '../shared/partition.ts';
import { checkEncodable, inJobCode, isJsonPrimitive } from './job-code.ts';
import { preview } from './task-error.ts';

/** A job's `combine` (reduce's shape): a key's values in, one value out. */
type CombineFunction = (key: Key, values: unknown[]) => unknown;

/**
 * How many values a key collects before the combiner folds them, the value the previous
 * fold returned included. Part of what a map task outputs: a combine that is not exactly
 * associative (a floating-point sum) gives other bytes at another stride, and replicated
 * tasks compare bytes. docs/job-model.md states it.
 */
export const COMBINE_EVERY = 256;

/** One key's values while a map task collects them: `list`, then `runLength` copies of `run`. */
interface MapGroup {
  /** As first seen; an array key is a copy, so job code that reuses its array cannot move it. */
  readonly key: Key;
  /** partitionOf(key, R), computed once when the key is first seen. */
  readonly partition: number;
  /** The values before the run; ours alone until handed to `combine` or to a block. */
  list: unknown[];
  /** The value repeated at the end; stale (and ignored) while runLength is 0. */
  run: unknown;
  runLength: number;
}

export class MapGroups {
  readonly #strings = new Map<string, MapGroup>();
  /** Number keys by value: a Map's SameValueZero makes -0 and 0 one key, as canonicalKey does. */
  readonly #numbers = new Map<number, MapGroup>();
  /** Boolean and array keys by canonical string. */
  readonly #others = new Map<string, MapGroup>();
  /** The groups of non-string keys in the order first seen, the order blocks list them in. */
  readonly #otherOrder: MapGroup[] = [];
  readonly #partitions: number;
  readonly #combine: CombineFunction | undefined;

  constructor(partitions: number, combine: CombineFunction | undefined) {
    this.#partitions = partitions;
    this.#combine = combine;
  }

  /** `add` for a string key, the common case, kept small so the engine inlines it into `emit`. */
  addString(key: string, value: unknown): void {
    const group = this.#strings.get(key);
    if (group === undefined) {
      checkKeyLength(key.length, key);
      this.#strings.set(key, newGroup(key, partitionOfString(key, this.#partitions), value));
      return;
    }
    this.#append(group, value);
  }

  /** Files one checked pair under its key. */
  add(key: Key, value: unknown): void {
    if (typeof key === 'string') return this.addString(key, value);
    let group: MapGroup | undefined;
    if (typeof key === 'number') {
      group = this.#numbers.get(key);
      if (group === undefined) {
        this.#numbers.set(key, this.#newOther(key, canonicalKey(key), value));
        return;
      }
    } else {
      const canonical = canonicalKey(key);
      group = this.#others.get(canonical);
      if (group === undefined) {
        // An array key is copied so that job code reusing its array cannot change a
        // key after it was filed under its canonical form.
        this.#others.set(canonical, this.#newOther(typeof key === 'object' ? (JSON.parse(canonical) as Key) : key, canonical, value));
        return;
      }
    }
    this.#append(group, value);
  }

  #newOther(key: Key, canonical: string, value: unknown): MapGroup {
    checkKeyLength(canonical.length, key);
    const group = newGroup(key, partitionOfCanonical(canonical, this.#partitions), value);
    this.#otherOrder.push(group);
    return group;
  }

  #append(group: MapGroup, value: unknown): void {
    // Object.is, not ===: -0 and 0 are distinct values to combine (1 / v), as are two NaNs to none.
    if (Object.is(value, group.run)) group.runLength++;
    else if (group.runLength === 0) {
      group.run = value;
      group.runLength = 1;
    } else {
      endRun(group);
      group.run = value;
      group.runLength = 1;
    }
    // Fold as pairs arrive, so a frequent key holds a few values, not one per occurrence
    // (a combiner may run any number of times on partial values, as in Hadoop).
    if (this.#combine !== undefined && group.list.length + group.runLength >= COMBINE_EVERY) {
      const combined = combineGroup(this.#combine, group.key, takeValues(group));
      group.list = [combined];
      group.runLength = 0;
    }
  }

  /**
   * The R partition blocks, each key's values combined once more when there is a
   * combiner; in a block, string keys first, then the others, each in the order first seen.
   */
  toBlocks(): PartitionBlock[] {
    const blocks: PartitionBlock[] = Array.from({ length: this.#partitions }, () => []);
    const combine = this.#combine;
    const file = (group: MapGroup) => {
      const values = takeValues(group);
      blocks[group.partition]!.push([group.key, combine === undefined ? values : [combineGroup(combine, group.key, values)]]);
    };
    for (const group of this.#strings.values()) file(group);
    for (const group of this.#otherOrder) file(group);
    return blocks;
  }
}

function newGroup(key: Key, partition: number, value: unknown): MapGroup {
  return { key, partition, list: [], run: value, runLength: 1 };
}

/** Moves the run onto the end of the list. */
function endRun(group: MapGroup): void {
  const { list, run } = group;
  for (let i = group.runLength; i > 0; i--) list.push(run);
  group.runLength = 0;
}

/** The group's values as one array, built in its list: the group must not be added to again before its list is replaced. */
function takeValues(group: MapGroup): unknown[] {
  const { list, run, runLength } = group;
  if (runLength === 0) return list;
  if (runLength === 1 && list.length === 0) return [run];
  for (let i = runLength; i > 0; i--) list.push(run);
  return list;
}

/** A key the coordinator would refuse fails the task here, where the error can say which. */
function checkKeyLength(chars: number, key: Key): void {
  if (chars > LIMITS.keyChars) {
    throw new TypeError(`map produced a key of ${chars} characters (${preview(key)}); keys may have at most ${LIMITS.keyChars}`);
  }
}

function combineGroup(combine: CombineFunction, key: Key, values: unknown[]): unknown {
  let combined: unknown;
  try {
    combined = combine(key, values);
  } catch (error) {
    throw inJobCode(error, whereCombine(key));
  }
  if (combined === undefined) {
    throw new TypeError(`${whereCombine(key)} returned undefined; combine must return one value (did it forget \`return\`?)`);
  }
  if (!isJsonPrimitive(combined)) checkEncodable(combined, () => [whereCombine(key), 'returned a value']);
  return combined;
}

const whereCombine = (key: Key): string => `combine of key ${preview(key)}`;
