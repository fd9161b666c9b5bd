/**
 * A volunteer that lies, for verification tests: it runs each task honestly, then
 * corrupts the answer in one of the ways a cheat or a broken machine would, keeping it
 * well-formed so that only a vote can catch it. Driven by the real `VolunteerClient`, it
 * speaks the real protocol.
 */
import { packParts, unpackParts } from '../shared/byte-packing.ts';
import type { KeyValue, PartitionBlock } from '../shared/job.ts';
import type { Key } from '../shared/keys.ts';
import { partitionOf } from '../shared/partition.ts';
import type { JobSourceReply, TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import type { TaskExecutor } from '../runtime/task-executor.ts';

/**
 * - `wrong-counts`: every numeric value one too high;
 * - `extra-keys`: one invented key added to the first non-empty partition (or reduce output);
 * - `stale-output`: the answer of the previous task of the same kind, when it fits the task.
 */
export type Lie = 'wrong-counts' | 'extra-keys' | 'stale-output';
export const LIES: readonly Lie[] = ['wrong-counts', 'extra-keys', 'stale-output'];

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decode = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;
const bytesOf = (bytes: ArrayBuffer | Uint8Array): Uint8Array => (bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
const bump = (value: unknown): unknown => (typeof value === 'number' ? value + 1 : [value, 'extra']);

export class LyingExecutor implements TaskExecutor {
  /** Answers it corrupted, by kind of lie. */
  readonly told = new Map<Lie, number>();
  #previous: { map?: TaskOutput; reduce?: TaskOutput } = {};
  #turn = 0;

  constructor(
    private readonly honest: TaskExecutor,
    private readonly lies: readonly Lie[] = LIES,
  ) {}

  get slots(): number {
    return this.honest.slots;
  }

  async run(assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    const truth = await this.honest.run(assignment, job, signal);
    const lie = this.lies[this.#turn++ % this.lies.length]!;
    const stale = this.#previous[truth.kind];
    this.#previous[truth.kind] = truth;
    const told = lie === 'stale-output' && stale && fits(stale, truth) ? stale : corrupt(truth, lie === 'extra-keys' ? 'extra-keys' : 'wrong-counts');
    this.told.set(lie, (this.told.get(lie) ?? 0) + 1);
    return told;
  }

  resize(slots: number): void {
    this.honest.resize(slots);
  }

  dispose(): void {
    this.honest.dispose();
  }
}

/** Another task's output passes the coordinator's checks only with the same partition count (map). */
function fits(stale: TaskOutput, truth: TaskOutput): boolean {
  return stale.kind === 'map' && truth.kind === 'map' ? stale.offsets.length === truth.offsets.length : false;
}

/** A word no text has, that the shared partitioner puts in partition `p` of `partitions`. */
function inventKey(p: number, partitions: number): string {
  for (let i = 0; ; i++) if (partitionOf(`zzinvented${i}`, partitions) === p) return `zzinvented${i}`;
}

function corrupt(output: TaskOutput, lie: 'wrong-counts' | 'extra-keys'): TaskOutput {
  if (output.kind === 'reduce') {
    // A reduce task does not know R, so it cannot invent a key of its partition that the
    // coordinator would take: it lies about the values.
    const pairs = decode<KeyValue[]>(bytesOf(output.pairs));
    return { kind: 'reduce', pairs: encode(pairs.map(([key, value]) => [key, typeof value === 'number' ? value + 1 : [value, 'extra']])) };
  }
  const blocks = unpackParts(bytesOf(output.blocks), output.offsets).map((bytes) => decode<PartitionBlock>(bytes));
  const lied =
    lie === 'wrong-counts'
      ? blocks.map((block) => block.map(([key, values]): [Key, unknown[]] => [key, values.map(bump)]))
      : blocks.map((block, p) => (p === 0 ? [...block, [inventKey(p, blocks.length), [1]] as [Key, unknown[]]] : block));
  const { bytes, offsets } = packParts(lied.map(encode));
  return { kind: 'map', blocks: bytes, offsets };
}
