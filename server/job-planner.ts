/**
 * Turns a submission into a plan: its map tasks' inputs and R. Everything a submitter
 * can get wrong beyond the schema is caught here, before anything is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TabreduceError } from '../shared/errors.ts';
import {
  JOB_DEFAULTS,
  defaultRecordsPerTask,
  defaultReducers,
  type JobSubmission,
  type MapTaskInput,
  type UploadedFileRef,
} from '../shared/job.ts';
import { checkJobSource } from '../shared/job-source.ts';
import { LIMITS } from '../shared/limits.ts';
import { toMapInputPayload } from '../shared/map-input-payload.ts';
import { inputBytes, splitInput } from '../shared/split.ts';
import { sliceAtLines, type InputFiles } from './input-files.ts';
import { encodeMapInput, type MapInputSource } from './map-input.ts';

export interface JobPlan {
  id: string;
  name: string;
  source: string;
  sourceDigest: string;
  reducers: number;
  maxAttempts: number;
  replication: number;
  submitter?: string;
  /** Fraction of tasks run twice and compared when replication is 1; 0 for none. */
  spotCheck: number;
  /** The secret that picks the spot-checked tasks; only with a spot check. */
  spotCheckSalt?: string;
  inputBytes: number;
  /** Each map task's input in its stored form (see map-input.ts), in task order. */
  mapInputs: Uint8Array[];
}

/** SHA-256 of the job source, hex: how tabs and people tell job modules apart. */
export function digestSource(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

export interface PlanContext {
  jobId: string;
  /** Where uploaded input files are; needed only for `files` inputs. */
  files?: InputFiles;
  /** Replication when the submission does not say (the coordinator's TABREDUCE_REPLICATION). */
  defaultReplication?: number;
}

export function planJob(submission: JobSubmission, context: PlanContext): JobPlan {
  const check = checkJobSource(submission.source);
  if (!check.ok) {
    const where = check.line ? ` (line ${check.line}, column ${check.column})` : '';
    throw new TabreduceError('BAD_JOB_SOURCE', `${check.message}${where}`);
  }
  const replication = submission.replication ?? context.defaultReplication ?? JOB_DEFAULTS.replication;
  const spotCheck = submission.spotCheck ?? 0;
  if (spotCheck > 0 && replication > 1) {
    throw new TabreduceError('BAD_REQUEST', `spotCheck re-runs a fraction of the tasks of a job with replication 1; this job asks for replication ${replication}, which checks every task already`);
  }
  const splitBytes = submission.splitBytes ?? JOB_DEFAULTS.splitBytes;
  const { sources, bytes } =
    submission.input.kind === 'files'
      ? planFiles(submission.input.files, splitBytes, context)
      : planInline(submission, splitBytes);
  if (sources.length === 0) {
    throw new TabreduceError('BAD_INPUT', 'the input is empty: every file has no text');
  }
  if (sources.length > LIMITS.mapTasks) {
    throw new TabreduceError(
      'BAD_INPUT',
      `the input makes ${sources.length} map tasks; the limit is ${LIMITS.mapTasks}: raise splitBytes or recordsPerTask`,
    );
  }
  return {
    id: context.jobId,
    name: submission.name,
    source: submission.source,
    sourceDigest: digestSource(submission.source),
    reducers: submission.reducers ?? defaultReducers(sources.length),
    maxAttempts: submission.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    replication,
    ...(submission.submitter ? { submitter: submission.submitter } : {}),
    spotCheck,
    ...(spotCheck > 0 ? { spotCheckSalt: randomBytes(16).toString('hex') } : {}),
    inputBytes: bytes,
    mapInputs: sources.map(encodeMapInput),
  };
}

function planInline(submission: JobSubmission, splitBytes: number): { sources: MapInputSource[]; bytes: number } {
  const input = submission.input;
  if (input.kind === 'files') throw new Error('planInline takes inline inputs only');
  if (input.kind === 'range') {
    // Checked before splitting so an absurd range is refused without allocating its tasks.
    const count = input.to - input.from;
    const tasks = Math.ceil(count / (submission.recordsPerTask ?? defaultRecordsPerTask(count)));
    if (tasks > LIMITS.mapTasks) {
      throw new TabreduceError('BAD_INPUT', `this range makes ${tasks} map tasks; the limit is ${LIMITS.mapTasks}: raise recordsPerTask`);
    }
  }
  const taskInputs = splitInput(input, {
    splitBytes,
    ...(submission.recordsPerTask !== undefined ? { recordsPerTask: submission.recordsPerTask } : {}),
  });
  const sources = taskInputs.map((taskInput: MapTaskInput): MapInputSource => toMapInputPayload(taskInput));
  return { sources, bytes: inputBytes(input) };
}

/** Claims the uploads for this job and cuts each at line ends, reading only around the cuts. */
function planFiles(refs: UploadedFileRef[], splitBytes: number, context: PlanContext): { sources: MapInputSource[]; bytes: number } {
  const files = context.files;
  if (!files) throw new TabreduceError('NOT_SUPPORTED', 'this coordinator takes no uploaded files');
  // Every upload is checked before any is claimed, so a typo does not consume the others.
  const missing = refs.find((ref) => !files.exists(ref.fileId));
  if (missing) throw new TabreduceError('BAD_INPUT', `no uploaded file ${missing.fileId}: upload it with POST /api/files (each upload feeds one job)`);
  const sources: MapInputSource[] = [];
  let bytes = 0;
  refs.forEach((ref, index) => {
    const claimed = files.claim(ref.fileId, context.jobId, index);
    bytes += claimed.bytes;
    const key = ref.name ?? claimed.name;
    for (const slice of sliceAtLines(claimed.path, splitBytes)) {
      sources.push({ format: 'file', key, path: claimed.path, offset: slice.offset, length: slice.length });
    }
  });
  return { sources, bytes };
}
