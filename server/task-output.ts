/**
 * Decodes and checks what a volunteer sends back. Volunteers are untrusted: an answer
 * is accepted only if it is well-formed JSON of the right shape and every key sits in
 * the partition the shared partitioner assigns it.
 */
import { unpackParts } from '../shared/byte-packing.ts';
import { TabreduceError } from '../shared/errors.ts';
import type { KeyValue, PartitionBlock } from '../shared/job.ts';
import { canonicalKey, compareKeys } from '../shared/keys.ts';
import { partitionOf } from '../shared/partition.ts';
import type { Bytes } from '../shared/protocol.ts';
import { describeZodError, keyValuesSchema, partitionBlockSchema } from '../shared/schemas.ts';
import type { z } from 'zod';

const decoder = new TextDecoder('utf-8', { fatal: true });

export const toUint8Array = (bytes: Bytes): Uint8Array =>
  bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);

function parseJson<T>(bytes: Bytes, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new TabreduceError('BAD_RESULT', `${what} is not UTF-8 JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TabreduceError('BAD_RESULT', `${what} has the wrong shape: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Checks a map task's packed partition blocks; returns one block per partition, ready to store. */
export function checkMapOutput(blocks: Bytes, offsets: number[], reducers: number): Uint8Array[] {
  if (offsets.length !== reducers + 1) {
    throw new TabreduceError('BAD_RESULT', `a map output needs ${reducers} partitions (${reducers + 1} offsets), got ${offsets.length} offsets`);
  }
  let partitions: Uint8Array[];
  try {
    partitions = unpackParts(toUint8Array(blocks), offsets);
  } catch (error) {
    throw new TabreduceError('BAD_RESULT', `the map output's offsets are wrong: ${(error as Error).message}`);
  }
  return partitions.map((bytes, partition) => {
    const block: PartitionBlock = parseJson(bytes, partitionBlockSchema, `partition ${partition}`) as PartitionBlock;
    for (const [key] of block) {
      if (partitionOf(key, reducers) !== partition) {
        throw new TabreduceError('BAD_RESULT', `key ${canonicalKey(key)} does not belong in partition ${partition}`);
      }
    }
    // A copy, so the stored block does not pin the whole received message in memory.
    return bytes.slice();
  });
}

/** Checks a reduce task's output: keys of its partition only, each once, sorted. */
export function checkReduceOutput(pairs: Bytes, partition: number, reducers: number): KeyValue[] {
  const output = parseJson(pairs, keyValuesSchema, 'the reduce output') as KeyValue[];
  for (let i = 0; i < output.length; i++) {
    const key = output[i]![0];
    if (partitionOf(key, reducers) !== partition) {
      throw new TabreduceError('BAD_RESULT', `key ${canonicalKey(key)} does not belong in partition ${partition}`);
    }
    if (i > 0 && compareKeys(output[i - 1]![0], key) >= 0) {
      throw new TabreduceError('BAD_RESULT', 'the reduce output is not sorted by key, or repeats a key');
    }
  }
  return output;
}

/** Merges the reduce outputs (each sorted, keys disjoint) into the job's sorted result. */
export function mergeReduceOutputs(outputs: KeyValue[][]): KeyValue[] {
  return outputs.flat().sort((a, b) => compareKeys(a[0], b[0]));
}
