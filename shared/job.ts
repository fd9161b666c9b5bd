import type { TaskError } from './errors.ts';
import type { JobFailure, JobStatus } from './job-lifecycle.ts';
import type { Key } from './keys.ts';

/** One input file for a `texts` input. */
export interface TextFile {
  name: string;
  text: string;
}

/** What `POST /api/files` answers: the upload's id (for a `files` input), name and size in bytes. */
export interface UploadedFile {
  id: string;
  name: string;
  bytes: number;
}

/** An input file uploaded beforehand with `POST /api/files`; `name` overrides the upload's name. */
export interface UploadedFileRef {
  fileId: string;
  name?: string;
}

/**
 * Where a job's records come from (contract: docs/job-model.md). `files` is an
 * extension: text files uploaded as raw bytes first, for inputs too large for JSON; it
 * splits and keys exactly like `texts`. `job` is another job's result, its `[key, value]`
 * pairs as records: the job waits, queued, until that one succeeds (a pipeline).
 */
export type JobInput =
  | { kind: 'texts'; files: TextFile[] }
  | { kind: 'records'; records: [Key, unknown][] }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'files'; files: UploadedFileRef[] }
  | { kind: 'job'; id: string };

/** A job as submitted over HTTP (contract: `POST /api/jobs`). */
export interface JobSubmission {
  name: string;
  source: string;
  input: JobInput;
  /** Who submits the job, as volunteers see it beside the code they run (e.g. a name or a project). */
  submitter?: string;
  /** Number of reduce tasks R. Default: a function of the number of map tasks, see `defaultReducers`. */
  reducers?: number;
  /** Target size of a `texts` split, in UTF-8 bytes. Default 1 MiB. */
  splitBytes?: number;
  /** Records per map task for `records` and `range` inputs. Default: see `defaultRecordsPerTask`. */
  recordsPerTask?: number;
  /**
   * Distinct volunteers whose answers must agree on each task (a vote: see
   * shared/quorum.ts). Default: the coordinator's, 1 unless TABREDUCE_REPLICATION says.
   */
  replication?: number;
  /** With replication 1: the fraction of tasks, 0 to 1, that also run on a second volunteer to be compared. */
  spotCheck?: number;
  /** Attempts a task gets before the job fails. Default 4 (Hadoop's figure). */
  maxAttempts?: number;
}

/** Job inputs given whole in the request, as opposed to uploaded files or another job's result. */
export type InlineJobInput = Exclude<JobInput, { kind: 'files' | 'job' }>;

/**
 * What a map task reads: a slice of records, a numeric range expanded in the tab, or one
 * text record (a split of a text file, keyed by the file's name).
 */
export type MapTaskInput =
  | { kind: 'records'; records: [Key, unknown][] }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'text'; key: string; text: string };

/** A partition block: the map output of one map task for one partition, grouped by key. */
export type PartitionBlock = [Key, unknown[]][];

/** Reduce output and job result: [key, value] pairs sorted by key. */
export type KeyValue = [Key, unknown];

export interface Progress {
  done: number;
  total: number;
}

/** A job as the API reports it (contract: `GET /api/jobs/:id`, extended). */
export interface JobSummary {
  id: string;
  name: string;
  state: JobStatus;
  progress: { map: Progress; reduce: Progress };
  error?: JobFailure;
  submittedAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  reducers: number;
  inputBytes: number;
  sourceDigest: string;
  /** Tasks currently leased to volunteers. */
  running: number;
  /** Distinct volunteers that completed at least one task. */
  volunteersUsed: number;
  /** Retries so far: attempts started again after a failure or a lost lease. */
  retries: number;
  /** Backup copies of slow tasks (speculative execution): started, and how many answered first. */
  backups: { started: number; won: number };
  replication: number;
  spotCheck?: number;
  /** Votes on replicated tasks: tasks decided by a vote, and those where some answer disagreed. */
  votes: { decided: number; disputed: number };
}

/** One task as `GET /api/jobs/:id/tasks` reports it. */
export interface TaskSummary {
  id: string;
  kind: 'map' | 'reduce';
  index: number;
  status: 'pending' | 'leased' | 'done' | 'failed';
  attemptsStarted: number;
  /** The volunteer holding the first lease (leased) or that produced the accepted answer (done). */
  volunteerId?: string;
  /** Copies running now (leased): more than 1 while a backup runs. */
  copies?: number;
  durationMs?: number;
  /** When the running (leased) or accepted (done) attempt started, ms since the epoch. */
  startedAtMs?: number;
  /** When the accepted answer arrived (done). */
  finishedAtMs?: number;
  /** True when a backup copy's answer won (done). */
  byBackup?: boolean;
  /** What the accepted attempt was sent and answered, in bytes (done). */
  inputBytes?: number;
  outputBytes?: number;
  lastError?: TaskError;
  /**
   * Attempts that ended without giving the accepted answer, oldest first: the job code
   * failed, the lease was lost, the copy was handed back unstarted, or another copy
   * answered first. Kept while the coordinator runs (not across restarts).
   */
  pastAttempts?: PastAttempt[];
  /** The answers of a replicated task so far: who, a digest prefix, and whether it agreed with the accepted one. */
  votes?: { volunteerId: string; digest: string; agreed?: boolean }[];
}

export interface PastAttempt {
  volunteerId: string;
  startedAtMs: number;
  endedAtMs: number;
  outcome: 'failed' | 'lost' | 'returned' | 'superseded';
  /** It was a backup copy of a slow task. */
  backup: boolean;
}

/** The volunteers connected right now, for the dashboard. */
export interface ClusterSummary {
  volunteers: number;
  slots: number;
  busySlots: number;
  volunteerList: VolunteerSummary[];
}

export interface VolunteerSummary {
  id: string;
  agent: string;
  slots: number;
  running: number;
  tasksDone: number;
  tasksFailed: number;
  connectedAtMs: number;
  /** Mean time from lease to answer over the answers it sent, ms; absent before the first. */
  meanTaskMs?: number;
  /** Task input sent to it, and output received from it, in bytes. */
  bytesSent: number;
  bytesReceived: number;
  /** Votes on replicated tasks this volunteer's answer agreed with the accepted one. */
  agreed: number;
  /** Votes its answer lost. */
  strikes: number;
  /** Out of strikes: its results are refused and it gets no more work. */
  struckOut: boolean;
}

export const JOB_DEFAULTS = {
  maxAttempts: 4,
  replication: 1,
} as const;

/** The bounds of the default split size (`defaultSplitBytes`). */
export const DEFAULT_SPLIT_BYTES = { min: 1024 * 1024, max: 16 * 1024 * 1024 } as const;

/**
 * Default split size of a text input: enough map tasks for about four rounds of every
 * worker slot connected (and never fewer than 16 tasks), in splits of 1 to 16 MiB. Why
 * not always small: each split's output costs the shuffle about one vocabulary's worth of
 * entries whatever its size (encoded in the tab, checked and stored by the coordinator,
 * merged by a reducer). On a 100 MB word count with 2 slots, measured in one bench
 * sitting, 1 MiB splits (96 map outputs) took 2.17 times what 2 bare Web Workers take,
 * 4 MiB splits 1.48 and 8 MiB 1.37.
 */
export function defaultSplitBytes(inputBytes: number, workerSlots: number): number {
  const tasks = Math.max(16, 4 * workerSlots);
  return Math.min(DEFAULT_SPLIT_BYTES.max, Math.max(DEFAULT_SPLIT_BYTES.min, Math.ceil(inputBytes / tasks)));
}

/**
 * Default R: the square root of the map task count, between 1 and 64. Enough reduce
 * tasks to spread the reduce phase over a room of tabs without making thousands of
 * tiny partitions for small jobs.
 */
export function defaultReducers(mapTasks: number): number {
  return Math.min(64, Math.max(1, Math.ceil(Math.sqrt(mapTasks))));
}

/**
 * Default records per map task: aim for about 1,000 map tasks, each with at least one record
 * and at most 10,000, so per-task overhead stays small without starving the tabs of parallelism.
 */
export function defaultRecordsPerTask(recordCount: number): number {
  return Math.min(10_000, Math.max(1, Math.ceil(recordCount / 1000)));
}
