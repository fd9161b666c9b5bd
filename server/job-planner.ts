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
import { inputBytes, splitInput, utf8Length } from '../shared/split.ts';
import { missingUpload, sliceAtLines, type InputFiles } from './input-files.ts';
import { encodeInlineMapInput, encodeMapInput, JSON_HEADER_BYTES, TEXT_HEADER_BYTES, type MapInputSource } from './map-input.ts';

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
  /**
   * The largest message the coordinator takes from a volunteer, in bytes (its
   * TABREDUCE_MAX_MESSAGE_BYTES); each map task must fit one. Default: no limit.
   */
  maxMessageBytes?: number;
}

/**
 * Room kept in a message for what travels beside a map task's input (task id, lease
 * token, job id, partition count: a few hundred bytes) and for the framing around it.
 */
const ASSIGNMENT_ENVELOPE_BYTES = 16 * 1024;

/** A job's map tasks, counted and checked; `mapInputs` gives their stored form, claiming the uploads they read, so it is called once nothing can refuse the job. */
interface PlannedInput {
  tasks: number;
  bytes: number;
  mapInputs: () => Uint8Array[];
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
  const taskLimit = taskLimitOf(context.maxMessageBytes, splitBytes);
  const planned =
    submission.input.kind === 'files'
      ? planFiles(submission.input.files, splitBytes, taskLimit, context)
      : planInline(submission, splitBytes, taskLimit);
  if (planned.tasks === 0) {
    throw new TabreduceError('BAD_INPUT', 'the input is empty: every file has no text');
  }
  if (planned.tasks > LIMITS.mapTasks) {
    throw new TabreduceError(
      'BAD_INPUT',
      `the input makes more than ${LIMITS.mapTasks} map tasks, the limit: raise splitBytes or recordsPerTask`,
    );
  }
  // Last: a submission refused above leaves its uploads where they were, free for the next try.
  const mapInputs = planned.mapInputs();
  return {
    id: context.jobId,
    name: submission.name,
    source: submission.source,
    sourceDigest: digestSource(submission.source),
    reducers: submission.reducers ?? defaultReducers(mapInputs.length),
    maxAttempts: submission.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    replication,
    ...(submission.submitter ? { submitter: submission.submitter } : {}),
    spotCheck,
    ...(spotCheck > 0 ? { spotCheckSalt: randomBytes(16).toString('hex') } : {}),
    inputBytes: planned.bytes,
    mapInputs,
  };
}

/**
 * The largest map task input a volunteer can be sent, and how to say so. The coordinator
 * takes no message from a volunteer past maxMessageBytes, and a map task's output is of
 * the order of its input (an identity map returns all of it), so a task whose input alone
 * is past that could only fail every attempt: it is refused at submit instead.
 */
interface TaskLimit {
  maxBytes: number;
  splitBytes: number;
  refuse(what: string, bytes: number, fix: string): TabreduceError;
}

function taskLimitOf(maxMessageBytes: number | undefined, splitBytes: number): TaskLimit {
  return {
    maxBytes: maxMessageBytes === undefined ? Infinity : Math.max(0, maxMessageBytes - ASSIGNMENT_ENVELOPE_BYTES),
    splitBytes,
    refuse: (what, bytes, fix) =>
      new TabreduceError(
        'BAD_INPUT',
        `${what} makes a map task of ${bytes} bytes, and a task must fit one volunteer message of ${maxMessageBytes} bytes (TABREDUCE_MAX_MESSAGE_BYTES, less ${ASSIGNMENT_ENVELOPE_BYTES} for the task around it): ${fix}`,
      ),
  };
}

/** Refuses a text split past the task limit: a split longer than splitBytes is one line, which no split can cut. */
function checkTextSplit(limit: TaskLimit, fileName: string, keyBytes: number, pieceBytes: number, at: number): void {
  const bytes = keyBytes + pieceBytes;
  if (bytes <= limit.maxBytes) return;
  if (pieceBytes > limit.splitBytes) {
    throw limit.refuse(`file "${fileName}" has a line of ${pieceBytes} bytes at byte ${at}, which`, bytes, 'a map task gets whole lines, so break that line or send a smaller one');
  }
  throw limit.refuse(`splitBytes ${limit.splitBytes}`, bytes, `lower splitBytes to at most ${limit.maxBytes - keyBytes}`);
}

function planInline(submission: JobSubmission, splitBytes: number, limit: TaskLimit): PlannedInput {
  const input = submission.input;
  if (input.kind === 'files') throw new Error('planInline takes inline inputs only');
  if (input.kind === 'range' || input.kind === 'records') {
    // Checked before splitting so an absurd count is refused without allocating its tasks.
    const count = input.kind === 'range' ? input.to - input.from : input.records.length;
    const tasks = Math.ceil(count / (submission.recordsPerTask ?? defaultRecordsPerTask(count)));
    if (tasks > LIMITS.mapTasks) {
      throw new TabreduceError('BAD_INPUT', `this ${input.kind} input makes ${tasks} map tasks; the limit is ${LIMITS.mapTasks}: raise recordsPerTask`);
    }
  }
  const taskInputs = splitInput(input, {
    splitBytes,
    ...(submission.recordsPerTask !== undefined ? { recordsPerTask: submission.recordsPerTask } : {}),
  });
  const textOffsets = new Map<string, number>();
  let recordsBefore = 0;
  const mapInputs = taskInputs.map((taskInput: MapTaskInput): Uint8Array => {
    const stored = encodeInlineMapInput(taskInput);
    if (taskInput.kind === 'text') {
      const keyBytes = utf8Length(taskInput.key);
      const pieceBytes = stored.byteLength - TEXT_HEADER_BYTES - keyBytes;
      const at = textOffsets.get(taskInput.key) ?? 0;
      checkTextSplit(limit, taskInput.key, keyBytes, pieceBytes, at);
      textOffsets.set(taskInput.key, at + pieceBytes);
    } else if (taskInput.kind === 'records') {
      const taskBytes = stored.byteLength - JSON_HEADER_BYTES;
      if (taskBytes > limit.maxBytes) {
        throw taskInput.records.length === 1
          ? limit.refuse(`record ${recordsBefore}`, taskBytes, 'a record travels whole, so send a smaller one (or upload text with POST /api/files)')
          : limit.refuse(`${taskInput.records.length} records from record ${recordsBefore}`, taskBytes, 'lower recordsPerTask');
      }
      recordsBefore += taskInput.records.length;
    }
    return stored;
  });
  return { tasks: mapInputs.length, bytes: inputBytes(input), mapInputs: () => mapInputs };
}

/**
 * Finds and cuts each upload at line ends, reading only around the cuts, and checks each
 * cut; the uploads are claimed (moved under the job) only by `mapInputs`.
 */
function planFiles(refs: UploadedFileRef[], splitBytes: number, limit: TaskLimit, context: PlanContext): PlannedInput {
  const files = context.files;
  if (!files) throw new TabreduceError('NOT_SUPPORTED', 'this coordinator takes no uploaded files');
  const named = new Set<string>();
  let slicesSoFar = 0;
  const uploads = refs.map((ref) => {
    if (named.has(ref.fileId)) throw new TabreduceError('BAD_INPUT', `upload ${ref.fileId} is named twice: each upload feeds one job once`);
    named.add(ref.fileId);
    const found = files.find(ref.fileId);
    if (!found) throw new TabreduceError('BAD_INPUT', missingUpload(ref.fileId));
    const slices = sliceAtLines(found.path, splitBytes, Math.max(0, LIMITS.mapTasks - slicesSoFar));
    slicesSoFar += slices.length;
    return { ref, found, key: ref.name ?? found.name, slices };
  });
  for (const { key, slices } of uploads) {
    const keyBytes = utf8Length(key);
    for (const slice of slices) checkTextSplit(limit, key, keyBytes, slice.length, slice.offset);
  }
  const sourcesAt = (paths: string[]) =>
    uploads.flatMap(({ key, slices }, index) =>
      slices.map((slice): MapInputSource => ({ format: 'file', key, path: paths[index]!, offset: slice.offset, length: slice.length })),
    );
  return {
    tasks: uploads.reduce((sum, { slices }) => sum + slices.length, 0),
    bytes: uploads.reduce((sum, { found }) => sum + found.bytes, 0),
    mapInputs: () => sourcesAt(uploads.map(({ ref }, index) => files.claim(ref.fileId, context.jobId, index).path)).map(encodeMapInput),
  };
}
