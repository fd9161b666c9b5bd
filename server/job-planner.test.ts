/**
 * The planner's own arithmetic: a range planned without stored inputs gives each task the
 * input it always had, a records input's size is counted from its tasks' encodings as
 * the whole input's JSON would be, and planning in turns plans what planning at once does.
 */
import { describe, expect, it } from 'vitest';
import type { JobSubmission } from '../shared/job.ts';
import { inputBytes, splitInput } from '../shared/split.ts';
import { planJob, planJobInTurns } from './job-planner.ts';
import { encodeInlineMapInput, rangeMapInput } from './map-input.ts';

const SOURCE = 'export function* map(k, v) { yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }';
const submission = (input: JobSubmission['input'], extra: Partial<JobSubmission> = {}): JobSubmission => ({ name: 'plan', source: SOURCE, input, ...extra });

describe('planJob', () => {
  it('plans a range without stored inputs, each task computing the input it was stored with', () => {
    const input = { kind: 'range' as const, from: -7, to: 1_000_003 };
    const plan = planJob(submission(input, { recordsPerTask: 1000 }), { jobId: 'job-1' });
    expect(plan).toMatchObject({ mapTasks: 1001, mapInputs: [], inputBytes: 0, range: { from: -7, to: 1_000_003, recordsPerTask: 1000 } });
    const split = splitInput(input, { splitBytes: 1, recordsPerTask: 1000 });
    for (const index of [0, 1, 500, 1000]) expect(rangeMapInput(plan.range!, index)).toEqual(encodeInlineMapInput(split[index]!));
  });

  it('plans the largest range as a range alone, and with the default records per task', () => {
    const plan = planJob(submission({ kind: 'range', from: 0, to: 250_000 }, { recordsPerTask: 1 }), { jobId: 'job-1' });
    expect(plan).toMatchObject({ mapTasks: 250_000, mapInputs: [] });
    expect(planJob(submission({ kind: 'range', from: 0, to: 5000 }), { jobId: 'job-2' })).toMatchObject({ mapTasks: 1000, range: { recordsPerTask: 5 } });
  });

  it("counts a records input's bytes as its whole JSON, from its tasks' encodings", () => {
    const records: [unknown, unknown][] = [
      ['é', { nested: ['ü', 1, null] }],
      [2, 'plain'],
      [true, '\u{1F600} and "quotes"'],
      [['tuple', 3], 4.5],
      ['', ''],
    ];
    for (const recordsPerTask of [1, 2, 5]) {
      const plan = planJob(submission({ kind: 'records', records: records as never }, { recordsPerTask }), { jobId: 'job-1' });
      expect(plan.inputBytes).toBe(inputBytes({ kind: 'records', records: records as never }));
    }
  });

  it('plans in turns what it plans at once', async () => {
    const inputs: JobSubmission['input'][] = [
      { kind: 'records', records: Array.from({ length: 3000 }, (_, i) => [i, `value ${i}`]) },
      { kind: 'texts', files: [{ name: 'a.txt', text: 'one line\n'.repeat(2000) }, { name: 'b.txt', text: 'two\n'.repeat(900) }] },
      { kind: 'range', from: 0, to: 12_345 },
    ];
    for (const input of inputs) {
      const planned = submission(input, { recordsPerTask: 1, splitBytes: 1024 });
      expect(await planJobInTurns(planned, { jobId: 'job-1' })).toEqual(planJob(planned, { jobId: 'job-1' }));
    }
  });

  it('picks the split size of a text that does not say from its size and the slots connected, within what a message holds', () => {
    const text = 'a line of text\n'.repeat(1_250_000); // 18.75 MB
    const texts = submission({ kind: 'texts', files: [{ name: 'big.txt', text }] });
    // 16 splits at least: 18.75 MB / 16 is 1,171,875 bytes, 78,125 whole lines.
    expect(planJob(texts, { jobId: 'job-1' }).mapTasks).toBe(16);
    expect(planJob(texts, { jobId: 'job-1', workerSlots: 4 }).mapTasks).toBe(16);
    // Four rounds of 8 slots would be 32 splits, but none is under 1 MiB.
    expect(planJob(texts, { jobId: 'job-1', workerSlots: 8 }).mapTasks).toBe(18);
    // A split is at most half of what one message holds.
    expect(planJob(texts, { jobId: 'job-1', maxMessageBytes: 2 * 1024 * 1024 }).mapTasks).toBe(19);
    expect(planJob({ ...texts, splitBytes: 4 * 1024 * 1024 }, { jobId: 'job-1', workerSlots: 10 }).mapTasks).toBe(5);
  });
});
