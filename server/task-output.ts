/**
 * Decodes and checks what a volunteer sends back. Volunteers are untrusted: an answer
 * is accepted only if it is well-formed JSON of the right shape and every key sits in
 * the partition the shared partitioner assigns it.
 */
import { checkOffsets, toUint8Array } from '../shared/byte-packing.ts';
import { TabreduceError } from '../shared/errors.ts';
import { canonicalKey, compareKeys, isKey, type Key } from '../shared/keys.ts';
import { partitionOfCanonical } from '../shared/partition.ts';
import type { Bytes } from '../shared/protocol.ts';
import { LIMITS } from '../shared/limits.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });


function parseJson(bytes: Bytes, what: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new TabreduceError('BAD_RESULT', `${what} is not UTF-8 JSON: ${(error as Error).message}`);
  }
}

/**
 * Checks that `value` is an array of `[key, second]` entries, each key in `partition`.
 * Written by hand rather than with a zod schema: this runs on every byte of every map
 * output, and the schema (a lazy union per key, a copy of every array) cost the
 * coordinator about a third of its CPU time on a word count.
 */
function checkEntries(value: unknown, what: string, partition: number, reducers: number, second: 'values' | 'value'): asserts value is [unknown, unknown][] {
  if (!Array.isArray(value)) throw new TabreduceError('BAD_RESULT', `${what} has the wrong shape: not an array of [key, ${second}] entries`);
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i];
    if (!Array.isArray(entry) || entry.length !== 2 || !isKey(entry[0]) || (second === 'values' ? !Array.isArray(entry[1]) : entry[1] === undefined)) {
      throw new TabreduceError('BAD_RESULT', `${what} has the wrong shape: entry #${i} is not a [key, ${second === 'values' ? 'values[]' : 'value'}] pair`);
    }
    const key = entry[0] as Key;
    const canonical = canonicalKey(key);
    if ((typeof key === 'string' ? key.length : canonical.length) > LIMITS.keyChars) {
      throw new TabreduceError('BAD_RESULT', `${what} has a key longer than ${LIMITS.keyChars} characters (entry #${i})`);
    }
    if (partitionOfCanonical(canonical, reducers) !== partition) {
      throw new TabreduceError('BAD_RESULT', `key ${canonical} does not belong in partition ${partition}`);
    }
  }
}

/** Checks a map task's packed partition blocks; returns one block per partition, ready to store. */
export function checkMapOutput(blocks: Bytes, offsets: number[], reducers: number): Uint8Array[] {
  if (offsets.length !== reducers + 1) {
    throw new TabreduceError('BAD_RESULT', `a map output needs ${reducers} partitions (${reducers + 1} offsets), got ${offsets.length} offsets`);
  }
  const bytes = toUint8Array(blocks);
  try {
    checkOffsets(bytes.length, offsets);
  } catch (error) {
    throw new TabreduceError('BAD_RESULT', `the map output's offsets are wrong: ${(error as Error).message}`);
  }
  const checked: Uint8Array[] = [];
  for (let partition = 0; partition < reducers; partition++) {
    const start = offsets[partition]!;
    const end = offsets[partition + 1]!;
    // Most partitions of a small task are empty (`[]`, as the store's isEmptyBlock): no view, no parse,
    // since making a Buffer view costs more than the check.
    if (end - start === 2 && bytes[start] === 0x5b && bytes[start + 1] === 0x5d) {
      checked.push(EMPTY_BLOCK);
      continue;
    }
    const block = bytes.subarray(start, end);
    checkEntries(parseJson(block, `partition ${partition}`), `partition ${partition}`, partition, reducers, 'values');
    // A copy, so the stored block does not pin the whole received message in memory.
    checked.push(block.slice());
  }
  return checked;
}

/** The block of a partition without entries, shared: the store keeps none. */
const EMPTY_BLOCK = new Uint8Array([0x5b, 0x5d]);

/**
 * Checks a reduce task's output: keys of its partition only, each once, sorted. Answers
 * the bytes to store, which become the job's result as they are (server/result-data.ts):
 * so they must be one JSON array from first byte to last, as the task runtime writes it.
 */
export function checkReduceOutput(pairs: Bytes, partition: number, reducers: number): Uint8Array {
  const bytes = toUint8Array(pairs);
  const output = parseJson(bytes, 'the reduce output');
  checkEntries(output, 'the reduce output', partition, reducers, 'value');
  if (bytes[0] !== 0x5b || bytes[bytes.length - 1] !== 0x5d || (output.length === 0 && bytes.length !== 2)) {
    throw new TabreduceError('BAD_RESULT', 'the reduce output must be a JSON array with no space around it or inside an empty one, as JSON.stringify writes it');
  }
  for (let i = 1; i < output.length; i++) {
    if (compareKeys(output[i - 1]![0] as Key, output[i]![0] as Key) >= 0) {
      throw new TabreduceError('BAD_RESULT', 'the reduce output is not sorted by key, or repeats a key');
    }
  }
  // A copy, so the stored output does not pin the whole received message in memory.
  return bytes.slice();
}
