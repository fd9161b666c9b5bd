/**
 * Turns a submission into a plan: its map tasks' inputs and R. Everything a submitter
 * can get wrong beyond the schema is caught here, before anything is stored.
 *
 * Planning 250,000 map tasks is long work (encoding a records input of that many tasks
 * took 0.7 s), so it is written in steps (server/turns.ts): `planJobInTurns` lets the
 * coordinator serve others between them, `planJob` runs them at once. A range input is
 * planned in constant time: its tasks' inputs follow from the range, and are not stored.
 * A job input is planned twice: at submit as a job awaiting that job's result, with no
 * tasks, and once the result exists as a records input (scheduler/pipeline.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { TabreduceError } from '../shared/errors.ts';
import {
  JOB_DEFAULTS,
  defaultRecordsPerTask,
  defaultReducers,
  defaultSplitBytes,
  type JobSubmission,
  type UploadedFileRef,
} from '../shared/job.ts';
import { checkJobSource } from '../shared/job-source.ts';
import { LIMITS } from '../shared/limits.ts';
import { splitAtLines, utf8Length } from '../shared/split.ts';
import { missingUpload, sliceAtLinesInSteps, type FileSlice, type InputFiles } from './input-files.ts';
import { encodeInlineMapInput, encodeMapInput, JSON_HEADER_BYTES, TEXT_HEADER_BYTES } from './map-input.ts';
import type { AwaitedInput, RangeSplit } from './store/job-store.ts';
import { runInTurns, runNow, type Steps } from './turns.ts';

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
  /** M, the number of map tasks. */
  mapTasks: number;
  /** For a range input, how it is cut: each task's input follows from it, so `mapInputs` is empty. */
  range?: RangeSplit;
  /** Each map task's input in its stored form (see map-input.ts), in task order; empty for a range. */
  mapInputs: Uint8Array[];
  /** For a job input: the job whose result it waits for; it has no tasks until then (M and R are 0). */
  awaiting?: AwaitedInput;
  /** For a `files` input: the uploads it reads, which storing the job uses up. */
  uploadIds?: string[];
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
  /** Worker slots of the volunteers connected now, which the default split size follows. Default: 0. */
  workerSlots?: number;
  /** Whether this coordinator holds a job of this id, for a `job` input. Absent: no job input is taken. */
  hasJob?: (jobId: string) => boolean;
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
  range?: RangeSplit;
  mapInputs: () => Steps<Uint8Array[]>;
}

/** Map tasks encoded between two yields: a few hundred microseconds of work. */
const TASKS_PER_STEP = 256;

/** Plans a job at once (tests, and anyone planning small jobs); see planJobInTurns. */
export function planJob(submission: JobSubmission, context: PlanContext): JobPlan {
  return runNow(planSteps(submission, context));
}

/** Plans a job a slice of the event loop at a time, so that a large one blocks no one. */
export function planJobInTurns(submission: JobSubmission, context: PlanContext): Promise<JobPlan> {
  return runInTurns(planSteps(submission, context));
}

function* planSteps(submission: JobSubmission, context: PlanContext): Steps<JobPlan> {
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
  if (submission.input.kind === 'job') return awaitingPlan(submission, submission.input.id, replication, spotCheck, context);
  const splitBytes = submission.splitBytes ?? defaultSplitOf(submission.input, context);
  const taskLimit = taskLimitOf(context.maxMessageBytes, splitBytes);
  const planned =
    submission.input.kind === 'files'
      ? yield* planFiles(submission.input.files, splitBytes, taskLimit, context)
      : yield* planInline(submission, splitBytes, taskLimit);
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
  const mapInputs = yield* planned.mapInputs();
  return {
    ...planHead(submission, context, replication, spotCheck),
    reducers: submission.reducers ?? defaultReducers(planned.tasks),
    inputBytes: planned.bytes,
    mapTasks: planned.tasks,
    ...(planned.range ? { range: planned.range } : {}),
    mapInputs,
    ...(submission.input.kind === 'files' ? { uploadIds: submission.input.files.map((ref) => ref.fileId) } : {}),
  };
}

/** What a plan takes from the submission whatever its input: who, what code, and how its tasks are checked. */
function planHead(submission: JobSubmission, context: PlanContext, replication: number, spotCheck: number) {
  return {
    id: context.jobId,
    name: submission.name,
    source: submission.source,
    sourceDigest: digestSource(submission.source),
    maxAttempts: submission.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    replication,
    ...(submission.submitter ? { submitter: submission.submitter } : {}),
    spotCheck,
    ...(spotCheck > 0 ? { spotCheckSalt: randomBytes(16).toString('hex') } : {}),
  };
}

/**
 * A job whose input is another job's result: planned now with no tasks, waiting, and
 * planned again from the records of that result once it exists (scheduler/pipeline.ts).
 * Only what can be checked without the result is checked here.
 */
function awaitingPlan(submission: JobSubmission, upstreamId: string, replication: number, spotCheck: number, context: PlanContext): JobPlan {
  if (submission.splitBytes !== undefined) {
    throw new TabreduceError('BAD_INPUT', "splitBytes cuts text inputs; a job input is the records of another job's result, cut by recordsPerTask");
  }
  if (!context.hasJob?.(upstreamId)) {
    throw new TabreduceError('BAD_INPUT', `the input names job ${upstreamId}, which this coordinator does not hold (never submitted, or deleted after its retention time)`);
  }
  const awaiting: AwaitedInput = {
    jobId: upstreamId,
    ...(submission.recordsPerTask !== undefined ? { recordsPerTask: submission.recordsPerTask } : {}),
    ...(submission.reducers !== undefined ? { reducers: submission.reducers } : {}),
  };
  return { ...planHead(submission, context, replication, spotCheck), reducers: 0, inputBytes: 0, mapTasks: 0, mapInputs: [], awaiting };
}

/**
 * The split size of a text input that does not say: `defaultSplitBytes` of its size, and
 * at most half of what a volunteer message holds (an identity map's output is its input,
 * and JSON makes it longer). A text's size is taken as its UTF-16 length: only the split
 * size follows from it, and counting UTF-8 bytes would walk a 100 MB body once more.
 */
function defaultSplitOf(input: JobSubmission['input'], context: PlanContext): number {
  let bytes = 0;
  if (input.kind === 'files') {
    for (const ref of input.files) bytes += context.files?.find(ref.fileId)?.bytes ?? 0;
  } else if (input.kind === 'texts') {
    for (const file of input.files) bytes += file.text.length;
  }
  const fitting = context.maxMessageBytes === undefined ? Infinity : Math.floor((context.maxMessageBytes - ASSIGNMENT_ENVELOPE_BYTES) / 2);
  return Math.max(LIMITS.minSplitBytes, Math.min(fitting, defaultSplitBytes(bytes, context.workerSlots ?? 0)));
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

function* planInline(submission: JobSubmission, splitBytes: number, limit: TaskLimit): Steps<PlannedInput> {
  const input = submission.input;
  switch (input.kind) {
    case 'files':
    case 'job':
      throw new Error('planInline takes inline inputs only');
    case 'range': {
      const count = input.to - input.from;
      const recordsPerTask = submission.recordsPerTask ?? defaultRecordsPerTask(count);
      const tasks = countTasks(input.kind, count, recordsPerTask);
      return { tasks, bytes: 0, range: { from: input.from, to: input.to, recordsPerTask }, mapInputs: inHand([]) };
    }
    case 'records': {
      const { records } = input;
      const recordsPerTask = submission.recordsPerTask ?? defaultRecordsPerTask(records.length);
      const tasks = countTasks(input.kind, records.length, recordsPerTask);
      const mapInputs: Uint8Array[] = new Array(tasks);
      // The records' JSON as one array: its brackets and the commas between records, then
      // each record's JSON, read off its task's encoding (stringifying it all again took
      // 30 to 50 ms for 250,000 records).
      let bytes = 2 + Math.max(0, records.length - 1);
      for (let task = 0; task < tasks; task++) {
        const first = task * recordsPerTask;
        const slice = records.slice(first, first + recordsPerTask);
        const stored = encodeInlineMapInput({ kind: 'records', records: slice });
        const taskBytes = stored.byteLength - JSON_HEADER_BYTES;
        if (taskBytes > limit.maxBytes) {
          throw slice.length === 1
            ? limit.refuse(`record ${first}`, taskBytes, 'a record travels whole, so send a smaller one (or upload text with POST /api/files)')
            : limit.refuse(`${slice.length} records from record ${first}`, taskBytes, 'lower recordsPerTask');
        }
        bytes += taskBytes - RECORDS_WRAPPER_BYTES - 2 - (slice.length - 1);
        mapInputs[task] = stored;
        if (task % TASKS_PER_STEP === TASKS_PER_STEP - 1) yield;
      }
      return { tasks, bytes, mapInputs: inHand(mapInputs) };
    }
    case 'texts': {
      // A text split is at least LIMITS.minSplitBytes, so a JSON body of texts makes far
      // fewer tasks than records can; each split is a step of its own.
      const mapInputs: Uint8Array[] = [];
      let bytes = 0;
      for (const file of input.files) {
        const keyBytes = utf8Length(file.name);
        let at = 0;
        for (const piece of splitAtLines(file.text, splitBytes)) {
          const stored = encodeInlineMapInput({ kind: 'text', key: file.name, text: piece });
          const pieceBytes = stored.byteLength - TEXT_HEADER_BYTES - keyBytes;
          checkTextSplit(limit, file.name, keyBytes, pieceBytes, at);
          at += pieceBytes;
          mapInputs.push(stored);
          yield;
        }
        bytes += at;
      }
      return { tasks: mapInputs.length, bytes, mapInputs: inHand(mapInputs) };
    }
    default: {
      const unreachable: never = input;
      return unreachable;
    }
  }
}

/** What `{"kind":"records","records":[...]}` adds around the records' array, in bytes. */
const RECORDS_WRAPPER_BYTES = JSON.stringify({ kind: 'records', records: [] }).length - 2;

/** Map tasks of a records or range input, refused before any is made when past the limit. */
function countTasks(kind: 'range' | 'records', count: number, recordsPerTask: number): number {
  const tasks = Math.ceil(count / recordsPerTask);
  if (tasks > LIMITS.mapTasks) {
    throw new TabreduceError('BAD_INPUT', `this ${kind} input makes ${tasks} map tasks; the limit is ${LIMITS.mapTasks}: raise recordsPerTask`);
  }
  return tasks;
}

/** Inputs encoded already, as planned inputs give them. */
function inHand(mapInputs: Uint8Array[]): () => Steps<Uint8Array[]> {
  return function* () {
    return mapInputs;
  };
}

/**
 * Finds and cuts each upload at line ends, reading only around the cuts, and checks each
 * cut; the uploads are claimed (moved under the job) only by `mapInputs`.
 */
function* planFiles(refs: UploadedFileRef[], splitBytes: number, limit: TaskLimit, context: PlanContext): Steps<PlannedInput> {
  const files = context.files;
  if (!files) throw new TabreduceError('NOT_SUPPORTED', 'this coordinator takes no uploaded files');
  const named = new Set<string>();
  let slicesSoFar = 0;
  const uploads: { ref: UploadedFileRef; found: { path: string; bytes: number }; key: string; slices: FileSlice[] }[] = [];
  for (const ref of refs) {
    if (named.has(ref.fileId)) throw new TabreduceError('BAD_INPUT', `upload ${ref.fileId} is named twice: each upload feeds one job once`);
    named.add(ref.fileId);
    const found = files.find(ref.fileId);
    if (!found) throw new TabreduceError('BAD_INPUT', missingUpload(ref.fileId));
    const key = ref.name ?? found.name;
    const slices = yield* sliceAtLinesInSteps(found.path, splitBytes, Math.max(0, LIMITS.mapTasks - slicesSoFar));
    slicesSoFar += slices.length;
    const keyBytes = utf8Length(key);
    for (const slice of slices) checkTextSplit(limit, key, keyBytes, slice.length, slice.offset);
    uploads.push({ ref, found, key, slices });
    yield;
  }
  return {
    tasks: slicesSoFar,
    bytes: uploads.reduce((sum, { found }) => sum + found.bytes, 0),
    mapInputs: function* () {
      const mapInputs: Uint8Array[] = [];
      for (const [index, { ref, key, slices }] of uploads.entries()) {
        const { path } = files.claim(ref.fileId, context.jobId, index);
        for (const slice of slices) {
          mapInputs.push(encodeMapInput({ format: 'file', key, path, offset: slice.offset, length: slice.length }));
          if (mapInputs.length % TASKS_PER_STEP === 0) yield;
        }
        yield;
      }
      return mapInputs;
    },
  };
}
