import { describe, expect, test } from 'vitest';
import { unpackParts } from '../shared/byte-packing.ts';
import type { JobSourceReply, MapAssignment, TaskOutput } from '../shared/protocol.ts';
import { InProcessExecutor } from './in-process-executor.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

let counter = 0;
function job(body: string): JobSourceReply {
  const digest = `in-process-${++counter}`;
  // The comment makes each source (so each data: URL, so each module) unique.
  return { jobId: digest, name: digest, digest, source: `// ${digest}\n${body}` };
}

const task = (to: number): MapAssignment => ({
  kind: 'map',
  taskId: `t${to}`,
  jobId: 'j',
  index: 0,
  leaseToken: 'l',
  sourceDigest: 'd',
  timeoutMs: 1000,
  partitions: 1,
  input: { format: 'json', bytes: encode({ kind: 'range', from: 0, to }) },
});

const live = () => new AbortController().signal;

describe('InProcessExecutor', () => {
  test('runs set-up once per job and maps with it', async () => {
    const executor = new InProcessExecutor({ slots: 2 });
    const counting = job(`globalThis.setUps = (globalThis.setUps ?? 0) + 1;
export function* map(k, v) { yield ['n', v]; }
export function reduce(k, vs) { return vs.length; }`);
    const first = (await executor.run(task(3), counting, live())) as Extract<TaskOutput, { kind: 'map' }>;
    await executor.run(task(2), counting, live());
    expect((globalThis as { setUps?: number }).setUps).toBe(1);
    const [block] = unpackParts(first.blocks as Uint8Array, first.offsets);
    expect(JSON.parse(new TextDecoder().decode(block))).toEqual([['n', [0, 1, 2]]]);
    expect(executor.slots).toBe(2);
  });

  test('rejects with the job error, and with TaskRevoked when aborted', async () => {
    const executor = new InProcessExecutor();
    await expect(executor.run(task(1), job(`throw new EvalError('set-up broke');`), live())).rejects.toMatchObject({
      name: 'EvalError',
      message: 'set-up broke',
    });
    const fine = job(`export function* map(k, v) { yield [k, v]; }\nexport function reduce(k, vs) { return 0; }`);
    await expect(executor.run(task(1), fine, AbortSignal.abort())).rejects.toMatchObject({ name: 'TaskRevoked' });
    executor.dispose();
    await expect(executor.run(task(1), fine, live())).rejects.toMatchObject({ name: 'TaskRevoked' });
  });

  test('resize clamps to what a volunteer may announce', () => {
    const executor = new InProcessExecutor();
    executor.resize(1000);
    expect(executor.slots).toBe(64);
    executor.resize(-3);
    expect(executor.slots).toBe(0);
  });
});
