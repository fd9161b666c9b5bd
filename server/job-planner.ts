/**
 * Turns a submission into a plan: its map tasks' encoded inputs and R. Everything a
 * submitter can get wrong beyond the schema is caught here, before anything is stored.
 */
import { createHash } from 'node:crypto';
import { TabreduceError } from '../shared/errors.ts';
import { JOB_DEFAULTS, defaultRecordsPerTask, defaultReducers, type JobSubmission } from '../shared/job.ts';
import { checkJobSource } from '../shared/job-source.ts';
import { LIMITS } from '../shared/limits.ts';
import { inputBytes, splitInput } from '../shared/split.ts';

export interface JobPlan {
  name: string;
  source: string;
  sourceDigest: string;
  reducers: number;
  maxAttempts: number;
  replication: number;
  inputBytes: number;
  /** UTF-8 JSON of each map task's `MapTaskInput`, in task order. */
  mapInputs: Uint8Array[];
}

/** SHA-256 of the job source, hex: how tabs and people tell job modules apart. */
export function digestSource(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

export function planJob(submission: JobSubmission): JobPlan {
  const check = checkJobSource(submission.source);
  if (!check.ok) {
    const where = check.line ? ` (line ${check.line}, column ${check.column})` : '';
    throw new TabreduceError('BAD_JOB_SOURCE', `${check.message}${where}`);
  }
  const replication = submission.replication ?? JOB_DEFAULTS.replication;
  if (replication !== 1) {
    throw new TabreduceError('NOT_SUPPORTED', 'replication above 1 is not offered by this coordinator yet; omit it or send 1');
  }
  if (submission.input.kind === 'range') {
    // Checked before splitting so an absurd range is refused without allocating its tasks.
    const count = submission.input.to - submission.input.from;
    const tasks = Math.ceil(count / (submission.recordsPerTask ?? defaultRecordsPerTask(count)));
    if (tasks > LIMITS.mapTasks) {
      throw new TabreduceError('BAD_INPUT', `this range makes ${tasks} map tasks; the limit is ${LIMITS.mapTasks}: raise recordsPerTask`);
    }
  }
  const taskInputs = splitInput(submission.input, {
    splitBytes: submission.splitBytes ?? JOB_DEFAULTS.splitBytes,
    ...(submission.recordsPerTask !== undefined ? { recordsPerTask: submission.recordsPerTask } : {}),
  });
  if (taskInputs.length === 0) {
    throw new TabreduceError('BAD_INPUT', 'the input is empty: every file has no text');
  }
  if (taskInputs.length > LIMITS.mapTasks) {
    throw new TabreduceError(
      'BAD_INPUT',
      `the input makes ${taskInputs.length} map tasks; the limit is ${LIMITS.mapTasks}: raise splitBytes or recordsPerTask`,
    );
  }
  const encoder = new TextEncoder();
  return {
    name: submission.name,
    source: submission.source,
    sourceDigest: digestSource(submission.source),
    reducers: submission.reducers ?? defaultReducers(taskInputs.length),
    maxAttempts: submission.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    replication,
    inputBytes: inputBytes(submission.input),
    mapInputs: taskInputs.map((taskInput) => encoder.encode(JSON.stringify(taskInput))),
  };
}
