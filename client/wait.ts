/** Following a submitted job until it ends, by polling `GET /api/jobs/:id`. */
import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_JOB_STATUSES } from '../shared/job-lifecycle.ts';
import type { JobSummary } from '../shared/job.ts';
import { ApiError, type ApiClient } from './api-client.ts';

export interface WaitOptions {
  /** Stops waiting (rejecting with the signal's reason); the job itself is left alone. */
  signal?: AbortSignal;
  /** Time between two polls, in ms. Default 250. */
  pollMs?: number;
  /** Longest one poll may go unanswered before it counts as a failed one, in ms. Default 15,000. */
  pollTimeoutMs?: number;
  /**
   * How long the coordinator may stay unreachable, silent or failing (5xx) before
   * waiting gives up, in ms: long enough to ride out a coordinator restart, whose jobs
   * survive in its store. Default 30,000.
   */
  unreachableMs?: number;
  /** Called with every summary polled, the final one included. */
  onUpdate?: (job: JobSummary) => void;
}

const DEFAULTS = { pollMs: 250, pollTimeoutMs: 15_000, unreachableMs: 30_000 } as const;

/** Polls job `id` until it is succeeded, failed or cancelled, and resolves with its final summary. */
export async function waitForJob(api: ApiClient, id: string, options: WaitOptions = {}): Promise<JobSummary> {
  const { signal, onUpdate } = options;
  const pollMs = options.pollMs ?? DEFAULTS.pollMs;
  const pollTimeoutMs = options.pollTimeoutMs ?? DEFAULTS.pollTimeoutMs;
  const unreachableMs = options.unreachableMs ?? DEFAULTS.unreachableMs;
  let failingSince: number | undefined;
  for (;;) {
    signal?.throwIfAborted();
    // Every remote wait has a deadline: a coordinator that accepts the connection and
    // never answers must not hang the caller.
    const deadline = AbortSignal.timeout(pollTimeoutMs);
    let job: JobSummary | undefined;
    try {
      job = await api.getJob(id, signal ? AbortSignal.any([signal, deadline]) : deadline);
      failingSince = undefined;
    } catch (error) {
      if (signal?.aborted) throw error;
      const silent = deadline.aborted;
      const transient = silent || (error instanceof ApiError && (error.status === 0 || error.status >= 500));
      if (!transient) throw error;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > unreachableMs) {
        throw silent ? new ApiError(0, 'NETWORK', `the coordinator did not answer about job ${id} for ${unreachableMs / 1000} s`) : error;
      }
    }
    if (job) {
      onUpdate?.(job);
      if (TERMINAL_JOB_STATUSES.includes(job.state)) return job;
    }
    await sleep(pollMs, undefined, signal ? { signal } : {});
  }
}
