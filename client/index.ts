/**
 * The Node client: submit a job from a program and get its result, as the seeds'
 * `job.run()` (pyMapReduce), `s.run_server()` (mincemeat.py) and `futures.mapReduce`
 * (SCOOP) did.
 *
 * ```ts
 * import { submit } from 'tabreduce/client';
 *
 * const counts = await submit(
 *   {
 *     *map(file, text) { for (const [word] of text.matchAll(/\p{L}+/gu)) yield [word, 1]; },
 *     reduce(word, counts) { return counts.reduce((a, b) => a + b, 0); },
 *     input: { kind: 'paths', paths: ['a.txt', 'b.txt'] },
 *   },
 *   { url: 'http://localhost:3000', onProgress: (p) => console.error(p.phase) },
 * );
 * ```
 *
 * A job is either functions (`{ map, reduce, combine?, input }`, sent as their source
 * text: see job-source.ts for what that rules out) or a module file
 * (`{ module: 'job.js', input }`). The result is the job's `[key, value]` pairs sorted
 * by key. A failed or cancelled job rejects with a `JobFailedError` carrying the task's
 * error; a refused or unreachable coordinator with an `ApiError`; a job refused before
 * sending (bad module, unreadable input file) with an `InvalidJobError`.
 */
import path from 'node:path';
import type { JobStatus } from '../shared/job-lifecycle.ts';
import type { JobSubmission, JobSummary, KeyValue } from '../shared/job.ts';
import { ApiClient } from './api-client.ts';
import { JobFailedError } from './errors.ts';
import { moduleFromFile, moduleFromFunctions, type JobFunctions } from './job-source.ts';
import { uploadInput, type ClientInput } from './input-upload.ts';
import { waitForJob } from './wait.ts';

export { ApiClient, ApiError, type ApiErrorCode, type ResultFormat } from './api-client.ts';
export { InvalidJobError, JobFailedError, LocalTaskError, type InvalidJobCode } from './errors.ts';
export { runLocal, type RunLocalOptions } from './run-local.ts';
export { moduleFromFile, moduleFromFunctions, type JobFunctions } from './job-source.ts';
export type { ClientInput, PathsInput } from './input-upload.ts';
export { waitForJob, type WaitOptions } from './wait.ts';
export type { JobInput, JobSummary, KeyValue } from '../shared/job.ts';
export type { JobStatus } from '../shared/job-lifecycle.ts';
export type { Key } from '../shared/keys.ts';

/** A job given as functions, serialised from their source. */
export interface FunctionsJob extends JobFunctions {
  input: ClientInput;
  /** Shown in the dashboard and `tabreduce list`. Default: the running script's file name. */
  name?: string;
}

/** A job given as an ES module file exporting `map`, `reduce` and optionally `combine`. */
export interface ModuleJob {
  /** The module's path (relative to the working directory) or file: URL. */
  module: string | URL;
  input: ClientInput;
  /** Default: the module's file name without extension. */
  name?: string;
}

export type JobSpec = FunctionsJob | ModuleJob;

/** Where the coordinator is and how to talk to it. */
export interface ConnectionOptions {
  /** The coordinator's base URL. Default: env TABREDUCE_URL, else http://localhost:3000. */
  url?: string;
  /** Submit token, sent as `Authorization: Bearer`. Default: env TABREDUCE_TOKEN, else none. */
  token?: string;
  /** Aborts the call; see each function for what happens to a job already submitted. */
  signal?: AbortSignal;
}

/** Per-job settings of `POST /api/jobs` (shared/job.ts documents each and its default). */
export type JobTuning = Pick<JobSubmission, 'reducers' | 'splitBytes' | 'recordsPerTask' | 'replication' | 'spotCheck' | 'maxAttempts'>;

/** Where a submission is: its input going up, then the job's state as polled. */
export type SubmitProgress =
  | { phase: 'uploading'; sentBytes: number; totalBytes: number }
  | { phase: JobStatus; jobId: string; job: JobSummary };

export interface SubmitOptions extends ConnectionOptions, JobTuning {
  /** Called as the input is sent and at every poll of the job. */
  onProgress?: (progress: SubmitProgress) => void;
  /** Time between two polls of the job, in ms. Default 250. */
  pollMs?: number;
}

export const DEFAULT_URL = 'http://localhost:3000';

/** An `ApiClient` for `options.url` and `options.token`, with their environment defaults. */
export function connect(options: Pick<ConnectionOptions, 'url' | 'token'> = {}): ApiClient {
  const url = options.url ?? (process.env.TABREDUCE_URL || DEFAULT_URL);
  if (!/^https?:\/\/[^/]/i.test(url)) throw new TypeError(`the coordinator URL must start with http:// or https://, got "${url}"`);
  const token = options.token ?? (process.env.TABREDUCE_TOKEN || undefined);
  return new ApiClient({ baseUrl: url, ...(token ? { token } : {}) });
}

/**
 * Submits `job` and resolves with the result: its `[key, value]` pairs sorted by key.
 * Aborting `signal` after the job was created cancels the job on the coordinator too.
 */
export async function submit(job: JobSpec, options: SubmitOptions = {}): Promise<KeyValue[]> {
  const api = connect(options);
  const id = await startJob(job, { ...options, api });
  try {
    return await waitForResult(id, { ...options, api });
  } catch (error) {
    if (options.signal?.aborted) {
      // The caller no longer wants it: free the volunteers. Best effort, the abort wins.
      await api.cancelJob(id).catch(() => {});
    } else if (error instanceof JobFailedError && error.taskError?.name === 'ReferenceError' && !('module' in job)) {
      throw new JobFailedError(
        error.job,
        'functions are sent as source text and cannot use variables from around them: move them inside, or pass { module }',
      );
    }
    throw error;
  }
}

/**
 * Checks and uploads `job` (input files streamed from disk) and resolves with the new
 * job's id, without waiting for it. Aborting `signal` stops the upload; no job is made.
 */
export async function startJob(job: JobSpec, options: SubmitOptions & { api?: ApiClient } = {}): Promise<string> {
  const api = options.api ?? connect(options);
  const { source, defaultName } =
    'module' in job ? await moduleFromFile(job.module) : { source: moduleFromFunctions(job), defaultName: scriptName() };
  const head: Omit<JobSubmission, 'input'> = {
    name: job.name ?? defaultName,
    source,
    reducers: options.reducers,
    splitBytes: options.splitBytes,
    recordsPerTask: options.recordsPerTask,
    replication: options.replication,
    spotCheck: options.spotCheck,
    maxAttempts: options.maxAttempts,
  };
  const { onProgress } = options;
  const input = await uploadInput(api, job.input, (sentBytes, totalBytes) => onProgress?.({ phase: 'uploading', sentBytes, totalBytes }), options.signal);
  const { id } = await api.submitJob({ ...head, input }, options.signal);
  return id;
}

/**
 * Follows job `id` until it ends and resolves with its result; rejects with a
 * `JobFailedError` when it failed or was cancelled. Aborting `signal` stops waiting
 * and leaves the job running.
 */
export async function waitForResult(
  id: string,
  options: ConnectionOptions & Pick<SubmitOptions, 'onProgress' | 'pollMs'> & { api?: ApiClient } = {},
): Promise<KeyValue[]> {
  const api = options.api ?? connect(options);
  const job = await waitForJob(api, id, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    onUpdate: (update) => options.onProgress?.({ phase: update.state, jobId: id, job: update }),
  });
  if (job.state !== 'succeeded') throw new JobFailedError(job);
  return api.getResult(id, options.signal);
}

/** The default name of a job given as functions: the script that submitted it. */
function scriptName(): string {
  const script = process.argv[1];
  return script ? path.basename(script) : 'tabreduce client job';
}
