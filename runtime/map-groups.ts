/**
 * A map task's output while it grows: every pair filed under its key, a key's values
 * folded by the job's `combine` (when it has one) every COMBINE_EVERY values and once
 * more at the end, then cut into the R partition blocks.
 *
 * Per pair this is the hot path of a map task (a word count files a pair per word), so
 * it is built to cost little more than the job's own `counts.set(w, counts.get(w) + 1)`
 * (measured with bench/map-runtime.ts, Node 20, a 1 MB split of a word count):
 *   - a string key is looked up as itself; canonical strings and partitions are
 *     computed once per key, not per pair;
 *   - a key's values are held as a list followed by a run of one repeated value, so
 *     the common stream (`[word, 1]`, `[word, 1]`, ...) costs a counter, not an array
 *     slot per pair. The arrays `combine` and the blocks get are built from that form,
 *     holding exactly the values, in the order and at the points a plain list would
 *     have given. Holding every value in arrays cost about 20 ms/MB more, most of it
 *     the scavenger copying those arrays;
 *   - the groups are columns (one array per field, indexed by group) rather than an
 *     object per key: about 10 ms/MB less again, for the same reason.
 */
import type { PartitionBlock } from '../shared/job.ts';
import { canonicalKey, type Key } from '../shared/keys.ts';
import { LIMITS } from '../shared/limits.ts';
import { partitionOf, partitionOfString } from '../shared/partition.ts';
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

export class MapGroups {
  // Group g (keys numbered in the order first seen) is index g of these columns; its
  // values so far are lists[g] (undefined: none), then runLengths[g] copies of runs[g].
  readonly #keys: Key[] = [];
  /** The value repeated at the end of each group's values; stale (and ignored) while its run length is 0. */
  readonly #runs: unknown[] = [];
  readonly #runLengths: number[] = [];
  /** The run length at which a group's values reach COMBINE_EVERY and are folded: Infinity without a combiner. */
  readonly #foldAt: number[] = [];
  /** The values before each group's run, ours alone until handed to `combine` or to a block; most keys never get one. */
  readonly #lists: (unknown[] | undefined)[] = [];
  readonly #strings = new Map<string, number>();
  /** Number keys by value: a Map's SameValueZero makes -0 and 0 one key, as canonicalKey does. */
  readonly #numbers = new Map<number, number>();
  /** Boolean and array keys by canonical string. */
  readonly #others = new Map<string, number>();
  #otherGroups = 0;
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
      this.#strings.set(key, this.#newGroup(key, value));
      return;
    }
    this.#append(group, value);
  }

  /** Files one checked pair under its key. */
  add(key: Key, value: unknown): void {
    if (typeof key === 'string') return this.addString(key, value);
    let group: number | undefined;
    if (typeof key === 'number') {
      group = this.#numbers.get(key);
      if (group === undefined) {
        checkKeyLength(canonicalKey(key).length, key);
        this.#numbers.set(key, this.#newGroup(key, value));
        this.#otherGroups++;
        return;
      }
    } else {
      const canonical = canonicalKey(key);
      group = this.#others.get(canonical);
      if (group === undefined) {
        checkKeyLength(canonical.length, key);
        // An array key is copied so that job code reusing its array cannot change a
        // key after it was filed under its canonical form.
        this.#others.set(canonical, this.#newGroup(typeof key === 'object' ? (JSON.parse(canonical) as Key) : key, value));
        this.#otherGroups++;
        return;
      }
    }
    this.#append(group, value);
  }

  #newGroup(key: Key, value: unknown): number {
    const group = this.#keys.length;
    this.#keys.push(key);
    this.#runs.push(value);
    this.#runLengths.push(1);
    this.#foldAt.push(this.#combine === undefined ? Infinity : COMBINE_EVERY);
    this.#lists.push(undefined);
    return group;
  }

  #append(group: number, value: unknown): void {
    // Object.is, not ===: -0 and 0 are distinct values to combine (1 / v); two NaNs are not.
    if (Object.is(value, this.#runs[group])) {
      if (++this.#runLengths[group]! >= this.#foldAt[group]!) this.#fold(group);
    } else {
      this.#startRun(group, value);
    }
  }

  /** Ends the group's run (its copies go onto its list) and starts one of `value`. */
  #startRun(group: number, value: unknown): void {
    const runLength = this.#runLengths[group]!;
    let list = this.#lists[group];
    if (runLength > 0) {
      if (list === undefined) this.#lists[group] = list = [];
      const run = this.#runs[group];
      for (let i = runLength; i > 0; i--) list.push(run);
    }
    this.#runs[group] = value;
    this.#runLengths[group] = 1;
    if (this.#combine !== undefined) {
      this.#foldAt[group] = COMBINE_EVERY - (list?.length ?? 0);
      if (1 >= this.#foldAt[group]!) this.#fold(group);
    }
  }

  /**
   * Folds the group's values into one with the combiner, as pairs arrive, so a frequent
   * key holds a few values, not one per occurrence (a combiner may run any number of
   * times on partial values, as in Hadoop).
   */
  #fold(group: number): void {
    const combined = combineGroup(this.#combine!, this.#keys[group]!, this.#takeValues(group));
    this.#lists[group] = [combined];
    this.#runLengths[group] = 0;
    this.#foldAt[group] = COMBINE_EVERY - 1;
  }

  /** The group's values as one array (its list, when it has one, grown in place). */
  #takeValues(group: number): unknown[] {
    const run = this.#runs[group];
    const runLength = this.#runLengths[group]!;
    let list = this.#lists[group];
    if (list === undefined) {
      if (runLength === 1) return [run];
      list = [];
    }
    for (let i = runLength; i > 0; i--) list.push(run);
    return list;
  }

  /**
   * The R partition blocks, each key's values combined once more when there is a
   * combiner; in a block, string keys first, then the others, each in the order first
   * seen. Call once: the groups give up their values to the blocks.
   */
  toBlocks(): PartitionBlock[] {
    const partitions = this.#partitions;
    const blocks: PartitionBlock[] = Array.from({ length: partitions }, () => []);
    const keys = this.#keys;
    for (let group = 0; group < keys.length; group++) {
      const key = keys[group]!;
      if (typeof key === 'string') blocks[partitionOfString(key, partitions)]!.push([key, this.#finalValues(group)]);
    }
    if (this.#otherGroups > 0) {
      for (let group = 0; group < keys.length; group++) {
        const key = keys[group]!;
        // The canonical string of an array key's copy is the original's: JSON round-trips these types.
        if (typeof key !== 'string') blocks[partitionOf(key, partitions)]!.push([key, this.#finalValues(group)]);
      }
    }
    return blocks;
  }

  #finalValues(group: number): unknown[] {
    const values = this.#takeValues(group);
    return this.#combine === undefined ? values : [combineGroup(this.#combine, this.#keys[group]!, values)];
  }
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
